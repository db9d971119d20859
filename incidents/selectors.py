"""Reads of incidents for views, the API and reports: each a fixed number of queries."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable
from django.urls import reverse

from incidents.choices import (
    ACTION_ITEM_PENDING_STATUSES,
    OPEN_STATUSES,
    PostMortemStatus,
    Severity,
)
from incidents.deadlines import portal_today
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
from portal.roles import ENGINEER, SRE_LEAD_GROUP
from services.budget.windows import align_down, window_bounds
from services.models.catalog import Membership, Service, Team
from services.models.slos import SLO
from services.selectors.slos import slo_events_between

_AffectedService = Incident.services.through

#: Open incidents of these severities need everyone's attention, whoever owns them.
ALWAYS_ATTENDED_SEVERITIES = (Severity.SEV1, Severity.SEV2)

_ROLE_FIELDS = ("commander", "tech_lead", "communications_lead", "scribe")
_PEOPLE_FIELDS = (*_ROLE_FIELDS, "declared_by")


class _WithPeople(ModelIterable):
    """Incidents whose role holders and declarer are read in one query after them, instead of
    five joins of the user table: PostgreSQL's time to plan a statement doubles with each
    joined table, and with all five the incident page's statement took 2 ms to plan (8 ms
    under load, 17 ms for a page of 20,000 incidents) and under 0.1 ms to run."""

    def __iter__(self):
        incidents = list(super().__iter__())
        ids = {getattr(i, f"{name}_id") for i in incidents for name in _PEOPLE_FIELDS}
        ids.discard(None)
        people = get_user_model().objects.in_bulk(ids) if ids else {}
        for name in _PEOPLE_FIELDS:
            field = Incident._meta.get_field(name)
            for incident in incidents:
                field.set_cached_value(incident, people.get(getattr(incident, field.attname)))
        return iter(incidents)


def with_people(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """`incidents` with their commander, tech lead, communications lead, scribe and declarer
    read in one query after them (see _WithPeople)."""
    incidents = incidents.all()
    incidents._iterable_class = _WithPeople
    return incidents


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
    return with_people(
        Incident.objects.select_related("team", "postmortem").prefetch_related(
            Prefetch("services", queryset=_services_with_teams()),
            Prefetch("subscribers", queryset=get_user_model().objects.order_by("username")),
            Prefetch("alerts", queryset=IncidentAlert.objects.order_by("starts_at", "id")),
        )
    )


def timeline_entry_list(incident: Incident) -> QuerySet[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return TimelineEntry.objects.filter(incident=incident).select_related("author")


def status_update_list(incident: Incident) -> QuerySet[StatusUpdate]:
    """The incident's status updates, newest first."""
    return StatusUpdate.objects.filter(incident=incident).select_related("created_by")


def engineers_and_sre_leads(team_ids: set[int] | None = None) -> QuerySet:
    """The active people who may act: SRE leads and the engineers of these teams (of any team
    when None or empty). Those who may hold a role in an incident of these teams
    (incidents.permissions.may_hold_role), or review a post-mortem (any engineer)."""
    User = get_user_model()
    engineers = Membership.objects.filter(role=ENGINEER)
    if team_ids:
        engineers = engineers.filter(team_id__in=team_ids)
    sre_leads = User.groups.through.objects.filter(group__name=SRE_LEAD_GROUP)
    return User.objects.filter(
        Q(is_superuser=True)
        | Q(pk__in=sre_leads.values("user_id"))
        | Q(pk__in=engineers.values("user_id")),
        is_active=True,
    )


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
        "contributors",
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
    """Action items with their post-mortem, incident, its team and owner (for lists and
    permission checks) in constant queries."""
    return ActionItem.objects.select_related(
        "owner", "postmortem__incident__team", "postmortem__author"
    ).prefetch_related("postmortem__incident__services")


def overdue_action_items_q(today: dt.date | None = None) -> Q:
    """Pending items whose due date has passed (in the portal's zone): the query form of
    ActionItem.is_overdue."""
    return Q(status__in=ACTION_ITEM_PENDING_STATUSES, due_date__lt=today or portal_today())


def postmortem_budget_impact(postmortem: PostMortem) -> list[BudgetImpact]:
    """For each SLO of the incident's affected services, the error budget the incident
    spent (incidents.postmortems.BudgetImpact), from the SLI data services keeps: one query
    for the SLOs, one for their events during the incident, one per distinct SLO window.

    The incident's events are those of the buckets starting in [started, resolved); the SLO
    window is the SLO's window at resolution, reaching at least to the resolution so that the
    incident's own events count in it. Maintenance is left out of both, as it is of every SLO
    figure. Timeslice SLOs are measured in events here too: an incident rarely lines up with
    slices.
    """
    incident = postmortem.incident
    service_ids = [service.pk for service in incident.services.all()]
    if not service_ids or incident.resolved_at is None:
        return []
    slos = list(
        SLO.objects.filter(service_id__in=service_ids)
        .select_related("service")
        .order_by("service__name", "name")
    )
    if not slos:
        return []
    incident_end = incident.resolved_at
    during = slo_events_between(
        slo_ids=[slo.pk for slo in slos], start=align_down(incident.started_at), end=incident_end
    )
    windows: dict[tuple, list[int]] = {}
    for slo in slos:
        window_start, window_end = window_bounds(
            incident_end, kind=slo.window_kind, days=slo.window_days, tz=slo.time_zone
        )
        windows.setdefault((window_start, max(window_end, incident_end)), []).append(slo.pk)
    in_window = {}
    for (window_start, window_end), slo_ids in windows.items():
        in_window |= slo_events_between(slo_ids=slo_ids, start=window_start, end=window_end)
    impacts = []
    for slo in slos:
        bad, total = during[slo.pk]
        impacts.append(
            BudgetImpact(
                slo=slo,
                bad_events=bad,
                allowed_bad=allowed_bad_events(slo.objective, in_window[slo.pk][1]),
                has_data=total > 0,
            )
        )
    return impacts


# --- who held incident roles when (read by toil's on-call attribution) ------------------------


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
    role_columns = [f"{role}_id" for role in _ROLE_FIELDS]
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


# --- for reminders and reports ------------------------------------------------------------------


def action_items_due_by(
    day: dt.date, *, owner=None, team_ids: Iterable[int] | None = None
) -> QuerySet[ActionItem]:
    """Pending action items due on ``day`` or before (overdue ones included), with their owner
    and incident, in one query; only ``owner``'s, or those of incidents of ``team_ids``, when
    given."""
    items = ActionItem.objects.filter(status__in=ACTION_ITEM_PENDING_STATUSES, due_date__lte=day)
    if owner is not None:
        items = items.filter(owner=owner)
    if team_ids is not None:
        items = items.filter(postmortem__incident__team_id__in=list(team_ids))
    return items.select_related("owner", "postmortem__incident").order_by("due_date", "pk")


def postmortems_past_due(
    now: dt.datetime, *, team_ids: Iterable[int] | None = None, writer=None
) -> QuerySet[PostMortem]:
    """Unpublished post-mortems whose due time has passed (of incidents of ``team_ids``, or
    written by ``writer`` as author or the incident's commander, when given), with their
    incident, its commander and the author, in one query."""
    postmortems = PostMortem.objects.exclude(status=PostMortemStatus.PUBLISHED).filter(
        due_at__lt=now
    )
    if team_ids is not None:
        postmortems = postmortems.filter(incident__team_id__in=list(team_ids))
    if writer is not None:
        # The commander's incidents as a subquery on its own index: an OR across the join
        # made PostgreSQL read every incident to find them.
        commanded = Incident.objects.filter(commander=writer).values("pk")
        postmortems = postmortems.filter(Q(author=writer) | Q(incident__in=commanded))
    return postmortems.select_related("incident__commander", "author").order_by("due_at", "pk")


def postmortems_awaiting_review(user) -> QuerySet[PostMortem]:
    """Post-mortems in review with ``user`` among their reviewers, oldest due first, with their
    incident, in one query."""
    return (
        PostMortem.objects.filter(status=PostMortemStatus.IN_REVIEW, reviewers=user)
        .select_related("incident")
        .order_by("due_at", "pk")
    )


def open_incidents_needing_attention(team_ids: Iterable[int]) -> QuerySet[Incident]:
    """Open incidents of these teams (theirs, or affecting one of their services) and every
    open SEV1 and SEV2 whoever owns it: the worst first, then the newest; one query."""
    team_ids = list(team_ids)
    affects_team = _AffectedService.objects.filter(
        incident=OuterRef("pk"), service__owner_team_id__in=team_ids
    )
    return (
        Incident.objects.filter(status__in=OPEN_STATUSES)
        .filter(
            Q(severity__in=ALWAYS_ATTENDED_SEVERITIES)
            | Q(team_id__in=team_ids)
            | Exists(affects_team)
        )
        .select_related("team")
        .only("reference", "title", "severity", "status", "started_at", "team__name")
        .order_by("severity", "-started_at", "-id")
    )


def team_follow_up_counts(team: Team, *, now: dt.datetime, today: dt.date) -> dict[str, int]:
    """The team's open incidents, its post-mortems past due and its overdue action items (of
    its incidents), in one query."""

    def counted(queryset, group: str) -> Coalesce:
        rows = queryset.order_by().values(group).annotate(count=Count("*")).values("count")
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    open_incidents = Incident.objects.filter(team=OuterRef("pk"), status__in=OPEN_STATUSES)
    past_due = postmortems_past_due(now).filter(incident__team=OuterRef("pk"))
    overdue = ActionItem.objects.filter(
        overdue_action_items_q(today), postmortem__incident__team=OuterRef("pk")
    )
    return (
        Team.objects.filter(pk=team.pk)
        .values(
            open_incidents=counted(open_incidents, "team"),
            postmortems_past_due=counted(past_due, "incident__team"),
            overdue_action_items=counted(overdue, "postmortem__incident__team"),
        )
        .get()
    )


def incidents_in_period(
    *, start: dt.datetime, end: dt.datetime, team: Team | None = None
) -> QuerySet[Incident]:
    """The incidents that started in [start, end) (a team's when given), oldest first."""
    incidents = Incident.objects.filter(started_at__gte=start, started_at__lt=end)
    if team is not None:
        incidents = incidents.filter(team=team)
    return incidents.order_by("started_at", "pk")


@dataclass(frozen=True)
class FollowUpFigures:
    """Post-mortems and action items of a period: published in it, overdue at its end; items
    opened and closed in it, and pending past their due date at its end."""

    postmortems_published: int
    postmortems_overdue: int
    action_items_opened: int
    action_items_closed: int
    action_items_overdue: int


def follow_up_figures(
    *, start: dt.datetime, end: dt.datetime, last_day: dt.date, team: Team | None = None
) -> FollowUpFigures:
    """The FollowUpFigures of [start, end) (``last_day`` its last day, where overdue items are
    counted), the organisation's or a team's, in two queries. "Overdue at the end" reads the
    records as they are now: an item closed after the period but due within it counts only
    if it was closed after ``end``."""
    postmortems = PostMortem.objects.order_by()
    items = ActionItem.objects.order_by()
    if team is not None:
        postmortems = postmortems.filter(incident__team=team)
        items = items.filter(postmortem__incident__team=team)
    published_in = Q(published_at__gte=start, published_at__lt=end)
    not_published_by_end = Q(published_at=None) | Q(published_at__gte=end)
    pm = postmortems.aggregate(
        published=Count("pk", filter=published_in),
        overdue=Count("pk", filter=Q(due_at__lt=end) & not_published_by_end),
    )
    pending_at_end = Q(status__in=ACTION_ITEM_PENDING_STATUSES) | Q(completed_at__gte=end)
    ai = items.aggregate(
        opened=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
        closed=Count("pk", filter=Q(completed_at__gte=start, completed_at__lt=end)),
        overdue=Count(
            "pk",
            filter=pending_at_end
            & Q(due_date__lt=last_day + dt.timedelta(days=1))
            & Q(created_at__lt=end),
        ),
    )
    return FollowUpFigures(
        postmortems_published=pm["published"],
        postmortems_overdue=pm["overdue"],
        action_items_opened=ai["opened"],
        action_items_closed=ai["closed"],
        action_items_overdue=ai["overdue"],
    )


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
