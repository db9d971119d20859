"""The home page: orientation for someone new, read through the apps' selectors."""

from django.shortcuts import render

from portal.roles import can_create_anything, editable_team_ids
from services.selectors import catalog as catalog_selectors


def home(request):
    """What is here, where the user belongs, where to go next."""
    user = request.user
    counts = catalog_selectors.catalog_counts()
    return render(
        request,
        "portal/home.html",
        {
            "service_count": counts["services"],
            "team_count": counts["teams"],
            "my_teams": catalog_selectors.teams_of_member(user),
            "editable_team_ids": editable_team_ids(user),
            "may_add_service": can_create_anything(user),
        },
    )
