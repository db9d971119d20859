"""What the home's blocks read: each block's statement, prepared (portal.prepared), of the
few columns its lines show and at most ``limit`` rows (a block reads one more row than it
shows, to know whether there are more)."""

from incidents.selectors import incidents as incident_selectors
from incidents.selectors import postmortems as postmortem_selectors
from portal.compliance import selectors as compliance_selectors
from portal.prepared import prepared
from services.selectors import readiness as readiness_selectors
from services.selectors import slos as slo_selectors

# A line shows a few columns of rows that are wide (a post-mortem holds its whole text): the
# blocks read only those, which halves the page's database time at the benchmarks' scale.


def _postmortem_lines(postmortems):
    return (
        postmortems.select_related(None)
        .select_related("incident")
        .only("status", "due_at", "incident__reference", "incident__title")
    )


def _action_item_lines(items):
    return (
        items.select_related(None)
        .select_related("owner", "postmortem__incident")
        .only(
            "title",
            "due_date",
            "status",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "postmortem__incident__reference",
        )
    )


@prepared(shape=("limit",))
def open_incidents(*, team_ids, limit):
    return incident_selectors.open_incidents_needing_attention(team_ids)[:limit]


@prepared(shape=("limit",))
def team_slos(*, team_ids, limit):
    return slo_selectors.slos_needing_attention(team_ids)[:limit]


@prepared(shape=("limit",))
def worst_slos(*, limit):
    return slo_selectors.worst_slos()[:limit]


@prepared(shape=("limit",))
def stale_slos(*, limit):
    return slo_selectors.stale_slos()[:limit]


@prepared(shape=("limit",))
def postmortems_awaiting(*, user, limit):
    return _postmortem_lines(postmortem_selectors.postmortems_awaiting_review(user))[:limit]


@prepared(shape=("limit",))
def postmortems_past_due(*, now, limit, team_ids=None, writer=None):
    past_due = postmortem_selectors.postmortems_past_due(now, team_ids=team_ids, writer=writer)
    return _postmortem_lines(past_due)[:limit]


@prepared(shape=("limit",))
def action_items_due_by(*, day, limit, owner=None, team_ids=None):
    items = postmortem_selectors.action_items_due_by(day, owner=owner, team_ids=team_ids)
    return _action_item_lines(items)[:limit]


@prepared(shape=("limit",))
def reviews_awaiting(*, user, limit):
    return (
        readiness_selectors.reviews_awaiting_reviewer(user)
        .select_related(None)
        .select_related("service")
        .only("status", "submitted_at", "service__name", "service__slug")
    )[:limit]


@prepared(shape=("limit",))
def team_findings(*, team_ids, limit):
    return (
        compliance_selectors.open_findings_for_teams(team_ids)
        .select_related(None)
        .select_related("compliance_check", "service")
        .only("status", "due_date", "compliance_check__name", "service__name")
    )[:limit]
