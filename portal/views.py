from django.shortcuts import render

from portal.roles import can_create_anything, editable_team_ids
from services import selectors
from services.models.catalog import Service, Team


def home(request):
    """Orientation for someone new: what is here, where they belong, where to go next."""
    user = request.user
    return render(
        request,
        "portal/home.html",
        {
            "service_count": Service.objects.count(),
            "team_count": Team.objects.count(),
            "my_teams": selectors.team_detail().filter(memberships__user=user).order_by("name"),
            "editable_team_ids": editable_team_ids(user),
            "may_add_service": can_create_anything(user),
        },
    )
