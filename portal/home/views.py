"""The home page: orientation for someone new, read through the apps' selectors."""

from django.shortcuts import render

from portal.roles import can_create_anything, editable_team_ids
from services import selectors


def home(request):
    """What is here, where the user belongs, where to go next."""
    user = request.user
    counts = selectors.catalog_counts()
    return render(
        request,
        "portal/home.html",
        {
            "service_count": counts["services"],
            "team_count": counts["teams"],
            "my_teams": selectors.teams_of_member(user),
            "editable_team_ids": editable_team_ids(user),
            "may_add_service": can_create_anything(user),
        },
    )
