"""Reads of incidents for views, the API and reports: each a fixed number of queries."""

import datetime as dt
import operator
from dataclasses import dataclass
from functools import reduce

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from incidents.choices import ACTION_ITEM_PENDING_STATUSES, OPEN_STATUSES
from incidents.metrics import (
    IncidentMetrics,
    IncidentRecord,
    incident_metrics,
    keys_to_int,
    period_start,
)
from incidents.models.incidents import (
    OPEN_FIRST,
    Incident,
    IncidentAlert,
    SeverityLevel,
    StatusUpdate,
    TimelineEntry,
)
from incidents.models.metrics import IncidentMetricsSnapshot
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.postmortems import BudgetImpact, allowed_bad_events
from incidents.status_updates import Draft, IncidentFacts, draft_status_update
from services.budget.windows import align_down, excluded_bucket_ranges, window_bounds
from services.models.catalog import Service, Team
from services.models.slos import SLO, SLIBucket

_ROLE_FIELDS = ("commander", "tech_lead", "communications_lead", "scribe")


def _services_with_teams():
    return Service.objects.select_related("owner_team").order_by("name")


def incident_list() -> QuerySet[Incident]:
    """Incidents with their team, commander and affected services; open ones first, then
    the most recent (``open_rank`` 0 for open incidents, for lists that sort on it)."""
    return (
        Incident.objects.select_related("team", "commander")
        .prefetch_related(Prefetch("services", queryset=_services_with_teams()))
        .annotate(open_rank=OPEN_FIRST)
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


def status_update_draft(incident: Incident, kind: str, *, now: dt.datetime) -> Draft:
    """The draft of a ``kind`` status update: the incident's facts, its link and its
    severity's name filled in, prompts (``[[…]]``) where a person must write."""
    level = severity_levels().get(incident.severity)
    facts = IncidentFacts.of(
        incident,
        url=settings.PORTAL_BASE_URL.rstrip("/") + incident.get_absolute_url(),
        severity_name=level.name if level else "",
    )
    return draft_status_update(kind, facts, now=now)


# --- post-mortems and action items ----------------------------------------------------------


def postmortem_detail() -> QuerySet[PostMortem]:
    """A post-mortem with everything its page and permission checks read, in constant queries."""
    return PostMortem.objects.select_related("incident", "author").prefetch_related(
        Prefetch("incident__services", queryset=Service.objects.select_related("owner_team")),
        Prefetch("reviewers", queryset=get_user_model().objects.order_by("username")),
        Prefetch(
            "action_items",
            queryset=ActionItem.objects.select_related("owner").order_by("due_date", "id"),
        ),
    )


def postmortem_list() -> QuerySet[PostMortem]:
    """Post-mortems for lists and the API, with their incident and people in constant queries."""
    return (
        PostMortem.objects.select_related("incident", "author")
        .prefetch_related(
            Prefetch("incident__services", queryset=Service.objects.order_by("name")),
            Prefetch("reviewers", queryset=get_user_model().objects.order_by("username")),
        )
        .annotate(open_action_item_count=_pending_action_item_count())
    )


def _pending_action_item_count() -> Coalesce:
    """A correlated count: unlike Count() over a join it needs no GROUP BY, which would
    clash with the full-text search's annotations, and a paginator's COUNT(*) leaves it out."""
    pending = (
        ActionItem.objects.filter(
            postmortem=OuterRef("pk"), status__in=ACTION_ITEM_PENDING_STATUSES
        )
        .order_by()
        .values("postmortem")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(pending, output_field=IntegerField()), 0)


def action_item_list() -> QuerySet[ActionItem]:
    """Action items with their post-mortem, incident and owner (for lists and permission
    checks) in constant queries."""
    return ActionItem.objects.select_related(
        "owner", "postmortem__incident", "postmortem__author"
    ).prefetch_related("postmortem__incident__services")


def overdue_action_items_q(today: dt.date | None = None) -> Q:
    """Pending items whose due date has passed: the query form of ActionItem.is_overdue."""
    return Q(
        status__in=ACTION_ITEM_PENDING_STATUSES,
        due_date__lt=today or timezone.localdate(),
    )


def postmortem_budget_impact(postmortem: PostMortem) -> list[BudgetImpact]:
    """For each SLO of the incident's affected services, the error budget the incident
    spent (incidents.postmortems.BudgetImpact), from the stored SLI buckets: three queries.

    The incident's buckets are those overlapping [started, resolved); the SLO window is the
    SLO's window at resolution, reaching at least to the resolution so that the incident's
    own events count in it. Buckets in the SLO's maintenance windows are left out of both,
    as they are of every SLO figure. Timeslice SLOs are measured in events here too: an
    incident rarely lines up with slices.
    """
    incident = postmortem.incident
    service_ids = [service.pk for service in incident.services.all()]
    if not service_ids or incident.resolved_at is None:
        return []
    slos = list(
        SLO.objects.filter(service_id__in=service_ids)
        .select_related("service")
        .prefetch_related("maintenance_windows")
        .order_by("service__name", "name")
    )
    if not slos:
        return []
    incident_start, incident_end = align_down(incident.started_at), incident.resolved_at
    during_incident = Q(start__gte=incident_start, start__lt=incident_end)
    in_slo_window = Q()
    for slo in slos:
        window_start, window_end = window_bounds(
            incident_end, kind=slo.window_kind, days=slo.window_days, tz=slo.time_zone
        )
        in_slo_window |= Q(
            slo_id=slo.pk, start__gte=window_start, start__lt=max(window_end, incident_end)
        )
    in_maintenance = [
        Q(slo_id=slo.pk, start__gte=start, start__lt=end)
        for slo in slos
        for start, end in excluded_bucket_ranges(
            (window.start, window.end) for window in slo.maintenance_windows.all()
        )
    ]
    buckets = SLIBucket.objects.filter(in_slo_window | (Q(slo__in=slos) & during_incident))
    if in_maintenance:
        buckets = buckets.exclude(reduce(operator.or_, in_maintenance))
    counts = {
        row["slo_id"]: row
        for row in buckets.order_by()
        .values("slo_id")
        .annotate(
            bad=Sum(F("total") - F("good"), filter=during_incident, default=0),
            buckets_with_data=Count("pk", filter=during_incident & Q(total__gt=0)),
            window_total=Sum("total", filter=in_slo_window, default=0),
        )
    }
    impacts = []
    for slo in slos:
        row = counts.get(slo.pk, {"bad": 0, "buckets_with_data": 0, "window_total": 0})
        impacts.append(
            BudgetImpact(
                slo=slo,
                bad_events=row["bad"],
                allowed_bad=allowed_bad_events(slo.objective, row["window_total"]),
                has_data=row["buckets_with_data"] > 0,
            )
        )
    return impacts


# --- for the deploy gate (toil reads these) ---------------------------------------------------


@dataclass(frozen=True)
class OpenIncidentOnServices:
    """An open incident and which of the asked-about services it affects."""

    reference: str
    severity: str
    title: str
    url: str
    service_ids: frozenset[int]


def open_incidents_on(service_ids, *, severities=("SEV1", "SEV2")) -> list[OpenIncidentOnServices]:
    """The open incidents of these severities affecting any of the services, in one query."""
    links = (
        Incident.services.through.objects.filter(
            service_id__in=list(service_ids),
            incident__status__in=sorted(OPEN_STATUSES),
            incident__severity__in=list(severities),
        )
        .values_list("incident__reference", "incident__severity", "incident__title", "service_id")
        .order_by("incident__started_at", "incident__reference")
    )
    found: dict[str, tuple[str, str, set[int]]] = {}
    for reference, severity, title, service_id in links:
        found.setdefault(reference, (severity, title, set()))[2].add(service_id)
    return [
        OpenIncidentOnServices(
            reference=reference,
            severity=severity,
            title=title,
            url=reverse("incident_detail", args=[reference]),
            service_ids=frozenset(service_ids_of),
        )
        for reference, (severity, title, service_ids_of) in found.items()
    ]
