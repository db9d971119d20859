"""Toil that incidents cause, worked out from who held an incident role and when: pure
functions of times and ids.

A person holding a role (commander, tech lead, communications lead, scribe) while an incident
is open — from its start until it is resolved, or until now while it is still open — is
doing on-call toil. Their hours count once however many roles they hold at the same time, are
split at month boundaries in the organisation's time zone, and go to their team: the
incident's owning team when they are a member of it, else the first of their own teams.
People in no team are nobody's toil.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from toil.roi import add_months


@dataclass(frozen=True)
class IncidentRoles:
    """One incident's open span and who held its roles from when.

    ``changes`` are (from, holders) in time order: the first holders held their roles from the
    incident's start (the record says who took charge, not the minute before), each later set
    from its time on. ``closed`` is None while the incident is open."""

    incident_id: int
    team_id: int | None
    opened: datetime
    closed: datetime | None
    changes: tuple[tuple[datetime, frozenset[int]], ...]


def person_spans(incident: IncidentRoles, *, now: datetime) -> dict[int, list[tuple]]:
    """Each role holder's spans of the open incident: one person's spans never overlap, so
    two roles held at once count once."""
    end = min(incident.closed or now, now)
    if end <= incident.opened or not incident.changes:
        return {}
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for index, (at, holders) in enumerate(incident.changes):
        start = incident.opened if index == 0 else max(at, incident.opened)
        stop = incident.changes[index + 1][0] if index + 1 < len(incident.changes) else end
        stop = min(stop, end)
        if stop <= start:
            continue
        for person in holders:
            person_list = spans.setdefault(person, [])
            if person_list and person_list[-1][1] == start:
                person_list[-1] = (person_list[-1][0], stop)
            else:
                person_list.append((start, stop))
    return spans


def _month_boundary(month: date, zone: tzinfo) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=zone).astimezone(UTC)


def hours_by_month(start: datetime, end: datetime, zone: tzinfo) -> dict[date, float]:
    """The hours of [start, end) in each calendar month of ``zone`` they touch."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    hours: dict[date, float] = {}
    local = start.astimezone(zone)
    month = date(local.year, local.month, 1)
    while start < end:
        following = _month_boundary(add_months(month, 1), zone)
        stop = min(end, following)
        hours[month] = hours.get(month, 0.0) + (stop - start).total_seconds() / 3600
        start, month = stop, add_months(month, 1)
    return hours


def team_of_person(
    person: int, incident_team_id: int | None, person_teams: Mapping[int, Sequence[int]]
) -> int | None:
    teams = person_teams.get(person, ())
    if incident_team_id is not None and incident_team_id in teams:
        return incident_team_id
    return teams[0] if teams else None


def incident_hours_by_team_month(
    incidents: Sequence[IncidentRoles],
    person_teams: Mapping[int, Sequence[int]],
    *,
    now: datetime,
    zone: tzinfo,
) -> dict[tuple[int, date], float]:
    """(team id, month) → hours its people held incident roles while incidents were open."""
    totals: dict[tuple[int, date], float] = {}
    for incident in incidents:
        for person, spans in person_spans(incident, now=now).items():
            team = team_of_person(person, incident.team_id, person_teams)
            if team is None:
                continue
            for start, stop in spans:
                for month, hours in hours_by_month(start, stop, zone).items():
                    totals[(team, month)] = totals.get((team, month), 0.0) + hours
    return totals
