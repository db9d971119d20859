"""The home page: what needs the person's attention first (portal.home.blocks), then where
they belong and where to go; read through the apps' selectors."""

from django.shortcuts import render

from portal.home.blocks import BLOCKS, SECTION_TITLES, block_of, home_context
from portal.roles import can_create_anything, is_sre_lead, note_editable_team_ids
from services.selectors import catalog as catalog_selectors


def home(request):
    """The person's blocks by section (those shown to them), then the orientation."""
    user = request.user
    teams, counts = catalog_selectors.teams_of_person_and_counts(user)
    # The same rows say which teams the person edits: the blocks' rules need not ask again.
    note_editable_team_ids(user, [team[0] for team in teams if team[3]])
    context = home_context(
        user,
        team_ids=[team[0] for team in teams],
        team_slugs=[team[1] for team in teams],
        is_sre_lead=is_sre_lead(user),
    )
    sections = []
    for section, title in SECTION_TITLES.items():
        blocks = [
            block_of(provider, context)
            for provider in BLOCKS
            if provider.section == section and provider.shown(context)
        ]
        if blocks:
            sections.append({"key": section, "title": title, "blocks": blocks})
    return render(
        request,
        "portal/home.html",
        {
            "sections": sections,
            "service_count": counts["services"],
            "team_count": counts["teams"],
            "my_teams": [
                {"slug": slug, "name": name, "edits": edits} for _, slug, name, edits in teams
            ],
            "may_add_service": can_create_anything(user),
        },
    )
