"""Who held incident roles when, read by toil's on-call attribution."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from incidents.choices import OPEN_STATUSES
from incidents.models.incidents import Incident
from incidents.selectors.common import ROLE_FIELDS


@dataclass(frozen=True)
class IncidentRoleHistory:
    """An incident's span (started → resolved; ``resolved_at`` None while it is open) and the
    holders of its four roles (ids of commander, tech lead, communications lead, scribe, None
    where empty) from each time they changed, oldest first. The first holders are those the
    incident was recorded with; an incident without history (bulk-loaded) has its current ones."""

    incident_id: int
    team_id: int | None
    started_at: dt.datetime
    resolved_at: dt.datetime | None
    holders: tuple[tuple[dt.datetime, tuple[int | None, ...]], ...]


def incident_role_histories(*, start: dt.datetime, end: dt.datetime) -> list[IncidentRoleHistory]:
    """The incidents open at some moment of [start, end), with their role holders over time,
    in two queries (the incidents, then their history rows in time order). Resolved incidents
    without a resolution time are left out: their span is unknown."""
    role_columns = [f"{role}_id" for role in ROLE_FIELDS]
    incidents = Incident.objects.filter(started_at__lt=end).filter(
        Q(resolved_at__gte=start) | Q(resolved_at__isnull=True, status__in=OPEN_STATUSES)
    )
    rows = incidents.order_by("pk").values_list(
        "pk", "team_id", "started_at", "resolved_at", *role_columns
    )
    changes: dict[int, list[tuple[dt.datetime, tuple[int | None, ...]]]] = {}
    history = (
        Incident.history.filter(id__in=incidents.values("pk"))
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_date", *role_columns)
    )
    for incident_id, at, *holders in history:
        held = changes.setdefault(incident_id, [])
        holders = tuple(holders)
        if not held or held[-1][1] != holders:
            held.append((at, holders))
    return [
        IncidentRoleHistory(
            incident_id=pk,
            team_id=team_id,
            started_at=started_at,
            resolved_at=resolved_at,
            holders=tuple(changes.get(pk) or [(started_at, tuple(holders))]),
        )
        for pk, team_id, started_at, resolved_at, *holders in rows
    ]
