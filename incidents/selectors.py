"""Reads of incidents for views, the API and reports: each a fixed number of queries."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from incidents.choices import OPEN_STATUSES
from incidents.metrics import IncidentMetrics, IncidentRecord, incident_metrics
from incidents.models import Incident, IncidentAlert, SeverityLevel, StatusUpdate, TimelineEntry
from services.models import Service

_ROLE_FIELDS = ("commander", "tech_lead", "communications_lead", "scribe")


def _services_with_teams():
    return Service.objects.select_related("owner_team").order_by("name")


def incident_list() -> QuerySet[Incident]:
    """Incidents with their team, commander and affected services; open ones first, then
    the most recent (``open_rank`` 0 for open incidents, for lists that sort on it)."""
    return (
        Incident.objects.select_related("team", "commander")
        .prefetch_related(Prefetch("services", queryset=_services_with_teams()))
        .annotate(
            open_rank=Case(
                When(status__in=OPEN_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_rank", "-started_at", "-id")
    )


def incident_detail() -> QuerySet[Incident]:
    """Incidents with everything their page and API record show, except the timeline."""
    return Incident.objects.select_related(
        "team", "declared_by", "postmortem", *_ROLE_FIELDS
    ).prefetch_related(
        Prefetch("services", queryset=_services_with_teams()),
        Prefetch("subscribers", queryset=get_user_model().objects.order_by("username")),
        Prefetch("alerts", queryset=IncidentAlert.objects.order_by("starts_at", "id")),
    )


def timeline_entry_list(incident: Incident) -> QuerySet[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return TimelineEntry.objects.filter(incident=incident).select_related("author")


def status_update_list(incident: Incident) -> QuerySet[StatusUpdate]:
    """The incident's status updates, newest first."""
    return StatusUpdate.objects.filter(incident=incident).select_related("created_by")


def severity_levels() -> dict[str, SeverityLevel]:
    """Each severity's description and response time, by code."""
    return {level.code: level for level in SeverityLevel.objects.all()}


def incident_records(
    incidents: QuerySet[Incident] | None = None,
) -> tuple[list[IncidentRecord], dict[int, str], dict[int, str]]:
    """The metrics' view of ``incidents`` (all by default) in two queries, with the names
    of the services and teams the records mention."""
    incidents = (Incident.objects.all() if incidents is None else incidents).order_by()
    rows = list(
        incidents.values_list(
            "pk",
            "severity",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "resolved_at",
            "team_id",
            "team__name",
        )
    )
    services_by_incident: dict[int, list[int]] = {}
    service_names: dict[int, str] = {}
    links = Incident.services.through.objects.filter(incident__in=incidents).values_list(
        "incident_id", "service_id", "service__name"
    )
    for incident_id, service_id, service_name in links.order_by("service__name"):
        services_by_incident.setdefault(incident_id, []).append(service_id)
        service_names[service_id] = service_name
    team_names = {row[6]: row[7] for row in rows if row[6] is not None}
    records = [
        IncidentRecord(
            severity=severity,
            started_at=started_at,
            detected_at=detected_at,
            acknowledged_at=acknowledged_at,
            resolved_at=resolved_at,
            team_id=team_id,
            service_ids=tuple(services_by_incident.get(pk, ())),
        )
        for pk, severity, started_at, detected_at, acknowledged_at, resolved_at, team_id, _ in rows
    ]
    return records, service_names, team_names


def incident_metrics_for_period(
    *, start: dt.datetime, end: dt.datetime, incidents: QuerySet[Incident] | None = None
) -> tuple[IncidentMetrics, dict[int, str], dict[int, str]]:
    """MTTx, MTBF and counts of the incidents that started in [start, end), with the
    service and team names for labels. ``incidents`` narrows the set (a team's, a
    filtered list's)."""
    incidents = Incident.objects.all() if incidents is None else incidents
    records, service_names, team_names = incident_records(
        incidents.filter(started_at__gte=start, started_at__lt=end)
    )
    return incident_metrics(records, start=start, end=end), service_names, team_names
