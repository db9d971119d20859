"""Reads of incident metrics (MTTx, MTBF, counts) for the metrics page, the API, reports and
the worker's snapshots: each a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, QuerySet

from incidents.metrics import (
    IncidentMetrics,
    IncidentRecord,
    incident_metrics,
    keys_to_int,
    period_start,
)
from incidents.models.incidents import Incident
from incidents.models.metrics import IncidentMetricsSnapshot
from services.models.catalog import Team


def incident_records(
    incidents: QuerySet[Incident] | None = None,
) -> tuple[list[IncidentRecord], dict[int, str], dict[int, str]]:
    """The metrics' view of ``incidents`` (all by default) in two queries, with the names
    of the services and teams the records mention. The database subtracts the times: it
    hands back a duration far faster than the driver turns a timestamp into a datetime."""
    incidents = (Incident.objects.all() if incidents is None else incidents).order_by()
    rows = incidents.annotate(
        detect=F("detected_at") - F("started_at"),
        acknowledge=F("acknowledged_at") - F("detected_at"),
        restore=F("resolved_at") - F("started_at"),
    ).values_list(
        "pk", "severity", "started_at", "detect", "acknowledge", "restore", "team_id", "team__name"
    )
    services_by_incident: dict[int, list[int]] = {}
    service_names: dict[int, str] = {}
    links = Incident.services.through.objects.filter(incident__in=incidents).values_list(
        "incident_id", "service_id", "service__name"
    )
    for incident_id, service_id, service_name in links:
        services_by_incident.setdefault(incident_id, []).append(service_id)
        service_names[service_id] = service_name
    records, team_names = [], {}
    for pk, severity, started_at, detect, acknowledge, restore, team_id, team_name in rows:
        records.append(
            IncidentRecord(
                severity=severity,
                started_at=started_at,
                time_to_detect=detect,
                time_to_acknowledge=acknowledge,
                time_to_restore=restore,
                team_id=team_id,
                service_ids=tuple(services_by_incident.get(pk, ())),
            )
        )
        if team_id is not None:
            team_names[team_id] = team_name
    return records, service_names, team_names


def incident_metrics_for_period(
    *,
    start: dt.datetime,
    end: dt.datetime,
    incidents: QuerySet[Incident] | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> tuple[IncidentMetrics, dict[int, str], dict[int, str]]:
    """MTTx, MTBF and counts of the incidents that started in [start, end), with the
    service and team names for labels. ``incidents`` narrows the set (a team's, a
    filtered list's); ``tz`` is where the months of the by-month counts begin."""
    incidents = Incident.objects.all() if incidents is None else incidents
    records, service_names, team_names = incident_records(
        incidents.filter(started_at__gte=start, started_at__lt=end)
    )
    return incident_metrics(records, start=start, end=end, tz=tz), service_names, team_names


@dataclass(frozen=True)
class PeriodMetrics:
    """The metrics page's figures for [start, end), with the service and team names for
    labels; ``computed_at`` is when the worker computed them, None when they were computed
    for this request."""

    figures: IncidentMetrics
    service_names: dict[int, str]
    team_names: dict[int, str]
    start: dt.datetime
    end: dt.datetime
    computed_at: dt.datetime | None


def incident_metrics_of(*, team: Team | None, months: int, now: dt.datetime) -> PeriodMetrics:
    """The figures of ``team``'s incidents (the organisation's when None) over the last
    ``months`` months: the worker's snapshot, in one query. Before the worker has written it
    (a fresh install), computed from the incidents as the worker would; nothing is stored."""
    snapshot = IncidentMetricsSnapshot.objects.filter(team=team, months=months).first()
    if snapshot is not None:
        return PeriodMetrics(
            figures=snapshot.metrics(),
            service_names=keys_to_int(snapshot.service_names),
            team_names=keys_to_int(snapshot.team_names),
            start=snapshot.period_start,
            end=snapshot.period_end,
            computed_at=snapshot.computed_at,
        )
    start = period_start(now, months)
    figures, service_names, team_names = incident_metrics_for_period(
        start=start, end=now, incidents=Incident.objects.filter(team=team) if team else None
    )
    return PeriodMetrics(figures, service_names, team_names, start, now, computed_at=None)
