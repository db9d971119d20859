"""Reads of change requests, freezes, the deploy gate's records, deployments and DORA figures
for views, the API, the worker and reports: each a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.urls import reverse

from incidents import selectors as incident_selectors
from incidents.models.incidents import Incident
from portal.roles import editable_team_ids, is_sre_lead
from services import selectors as service_selectors
from services.models.catalog import Service, Team
from toil import dora, freezes, gate, risk
from toil.approvals import (
    APPROVABLE_AFTER_IMPLEMENTATION,
    ApproverFacts,
    ChangeFacts,
    required_approvals,
)
from toil.choices.changes import (
    ACTIVE_STATUSES,
    PRODUCTION,
    ApprovalDecision,
    ApproverRole,
    ChangeCategory,
    ChangeStatus,
    FreezeScope,
)
from toil.models.changes import (
    ChangeApproval,
    ChangeEvent,
    ChangeRequest,
    FreezeWindow,
    GateDecision,
    GateDecisionService,
    GateOverride,
)
from toil.models.deployments import Deployment, DoraSnapshot, IncidentCause

#: Members of this group approve standard changes (SRE leads do too).
CHANGE_APPROVERS_GROUP = "Change approvers"

User = get_user_model()


def _services_by_name():
    return Service.objects.select_related("owner_team").order_by("name")


def _approval_count(decision: str) -> Coalesce:
    counted = (
        ChangeApproval.objects.filter(change=OuterRef("pk"), decision=decision)
        .order_by()
        .values("change")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- change requests ------------------------------------------------------------------------


def change_list() -> QuerySet[ChangeRequest]:
    """Changes with their team, author and services (named), and how many approved them."""
    services = Service.objects.only("pk", "name", "slug").order_by("name")
    return (
        ChangeRequest.objects.select_related("team", "author")
        .prefetch_related(Prefetch("services", queryset=services))
        .annotate(approvals_given=_approval_count(ApprovalDecision.APPROVE))
        .order_by("-window_start", "-id")
    )


def _sre_lead_approved() -> Exists:
    return Exists(
        ChangeApproval.objects.filter(
            change=OuterRef("pk"), decision=ApprovalDecision.APPROVE, role=ApproverRole.SRE_LEAD
        )
    )


def change_for_gate() -> QuerySet[ChangeRequest]:
    """A change with what the deploy gate reads of it (change_fact), in three queries."""
    return (
        ChangeRequest.objects.select_related("incident")
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.only("pk", "slug")),
            Prefetch("overridden_freezes", queryset=FreezeWindow.objects.only("pk")),
        )
        .annotate(
            approvals_given=_approval_count(ApprovalDecision.APPROVE),
            sre_lead_approved=_sre_lead_approved(),
        )
    )


def change_detail() -> QuerySet[ChangeRequest]:
    """A change with everything its page and API record show, except the timeline."""
    return (
        ChangeRequest.objects.select_related(
            "team", "author", "implementer", "incident", "incident__commander"
        )
        .prefetch_related(
            Prefetch("services", queryset=_services_by_name()),
            Prefetch(
                "approvals",
                queryset=ChangeApproval.objects.select_related("approver").order_by(
                    "created_at", "id"
                ),
            ),
            Prefetch("overridden_freezes", queryset=FreezeWindow.objects.order_by("start")),
        )
        .annotate(
            approvals_given=_approval_count(ApprovalDecision.APPROVE),
            sre_lead_approved=_sre_lead_approved(),
        )
    )


def change_events(change: ChangeRequest) -> QuerySet[ChangeEvent]:
    return ChangeEvent.objects.filter(change=change).select_related("actor").order_by("at", "id")


def is_change_approver(user) -> bool:
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_is_change_approver", None)
    if cached is None:
        cached = user.groups.filter(name=CHANGE_APPROVERS_GROUP).exists()
        user._is_change_approver = cached
    return cached


def change_approvers() -> QuerySet:
    """The people who approve standard changes: the group's members and SRE leads."""
    from portal.roles import SRE_LEAD_GROUP

    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=[CHANGE_APPROVERS_GROUP, SRE_LEAD_GROUP]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def approver_facts(user) -> ApproverFacts:
    return ApproverFacts(
        user_id=user.pk,
        is_sre_lead=is_sre_lead(user),
        is_change_approver=is_change_approver(user),
        engineer_team_ids=frozenset(editable_team_ids(user)),
    )


def change_team_ids(change: ChangeRequest) -> frozenset[int]:
    """The owning team and the teams of the change's services (uses prefetched services)."""
    team_ids = {service.owner_team_id for service in change.services.all()}
    if change.team_id is not None:
        team_ids.add(change.team_id)
    return frozenset(team_ids)


def change_facts(change: ChangeRequest) -> ChangeFacts:
    return ChangeFacts(
        category=change.category,
        status=change.status,
        author_id=change.author_id,
        implementer_id=change.implementer_id,
        team_ids=change_team_ids(change),
        incident_commander_id=change.incident.commander_id if change.incident_id else None,
        implemented_at=change.implemented_at,
        approved_at=change.approved_at,
    )


def approvals_required(change: ChangeRequest) -> int:
    return required_approvals(
        change.category, standard_approvals=settings.CHANGE_STANDARD_APPROVALS
    )


def changes_awaiting_approval(user, *, now: dt.datetime | None = None) -> QuerySet[ChangeRequest]:
    """The changes waiting for this person's decision: ones they may approve (toil.approvals)
    that are still collecting approvals and that they have neither written, implement nor
    decided on yet. For the change list's "needs my attention" and the reminder digest."""
    from django.utils import timezone

    now = now or timezone.now()
    if not user.is_authenticated:
        return ChangeRequest.objects.none()
    collecting = Q(status=ChangeStatus.SUBMITTED, approved_at=None) | Q(
        category=ChangeCategory.EMERGENCY,
        approved_at=None,
        status__in=[
            ChangeStatus.IN_PROGRESS,
            ChangeStatus.COMPLETED,
            ChangeStatus.FAILED,
            ChangeStatus.ROLLED_BACK,
        ],
        implemented_at__gte=now - APPROVABLE_AFTER_IMPLEMENTATION,
    )
    if is_sre_lead(user):
        theirs = Q()
    else:
        theirs = Q(category=ChangeCategory.EMERGENCY, incident__commander=user)
        if is_change_approver(user):
            theirs |= Q(category=ChangeCategory.STANDARD)
        team_ids = editable_team_ids(user)
        if team_ids:
            theirs |= Q(category=ChangeCategory.LOW_RISK, team_id__in=team_ids)
    decided = ChangeApproval.objects.filter(change=OuterRef("pk"), approver=user)
    return (
        change_list()
        .filter(collecting & theirs)
        .exclude(Q(author=user) | Q(implementer=user))
        .exclude(pk__in=Subquery(decided.values("change")))
        .order_by("submitted_at", "id")
    )


# --- the catalog around a change --------------------------------------------------------------


def change_risk_facts(services) -> risk.RiskFacts:
    """The best tier among the services and how many services depend on them: one query."""
    services = list(services)
    if not services:
        return risk.RiskFacts(highest_tier=None, dependents=0)
    ids = [service.pk for service in services]
    dependents = service_selectors.service_dependency_closure(ids, direction="dependents")
    reached = set().union(*dependents.values()) - set(ids)
    return risk.RiskFacts(
        highest_tier=min(service.tier for service in services), dependents=len(reached)
    )


def change_risk(change: ChangeRequest, services) -> risk.RiskAssessment:
    answers = risk.RiskAnswers(
        customer_facing=change.customer_facing,
        data_migration=change.data_migration,
        rollback_tested=change.rollback_tested,
        tested_in_staging=change.tested_in_staging,
        outside_working_hours=change.outside_working_hours,
    )
    return risk.assess(answers, change_risk_facts(services))


# --- freezes --------------------------------------------------------------------------------


def freeze_list() -> QuerySet[FreezeWindow]:
    return FreezeWindow.objects.select_related("team", "service", "created_by").prefetch_related(
        Prefetch("overriders", queryset=User.objects.order_by("username"))
    )


def _freezes_reaching(start: dt.datetime, end: dt.datetime) -> Q:
    """Freezes that may have an occurrence overlapping [start, end): one-off ones that do, and
    repeating ones that have begun by ``end`` (their rule says the rest)."""
    return Q(recurrence="", start__lt=end, end__gt=start) | (~Q(recurrence="") & Q(start__lt=end))


def _freezes_over(services) -> Q:
    service_ids = [service.pk for service in services]
    team_ids = {service.owner_team_id for service in services}
    return (
        Q(scope=FreezeScope.ORGANISATION)
        | Q(scope=FreezeScope.TEAM, team_id__in=team_ids)
        | Q(scope=FreezeScope.SERVICE, service_id__in=service_ids)
    )


def freeze_covers(freeze: FreezeWindow, services) -> set[int]:
    """Which of the services the freeze covers."""
    if freeze.scope == FreezeScope.ORGANISATION:
        return {service.pk for service in services}
    if freeze.scope == FreezeScope.TEAM:
        return {service.pk for service in services if service.owner_team_id == freeze.team_id}
    return {service.pk for service in services if service.pk == freeze.service_id}


def freezes_overlapping(services, start: dt.datetime, end: dt.datetime):
    """The freezes over any of the services with an occurrence overlapping [start, end), each
    with that occurrence: one query."""
    services = list(services)
    candidates = list(
        FreezeWindow.objects.filter(_freezes_over(services) & _freezes_reaching(start, end))
        .select_related("team", "service")
        .prefetch_related("overriders")
    )
    by_pk = {freeze.pk: freeze for freeze in candidates}
    hits = freezes.overlapping([freeze.rule() for freeze in candidates], start, end)
    return [(by_pk[rule.key], hit_start, hit_end) for rule, hit_start, hit_end in hits]


@dataclass(frozen=True)
class FreezeState:
    """Whether a service is frozen now, until when, and by which freezes."""

    until: dt.datetime | None
    freezes: tuple[FreezeWindow, ...] = ()
    next_start: dt.datetime | None = None
    next_freeze: FreezeWindow | None = None


def service_freeze_state(service: Service, *, now: dt.datetime) -> FreezeState:
    """Is the service frozen now and until when; else when its next freeze begins (within 14
    days): one query."""
    horizon = now + freezes.UNTIL_HORIZON
    candidates = list(
        FreezeWindow.objects.filter(_freezes_over([service]) & _freezes_reaching(now, horizon))
    )
    rules = [freeze.rule() for freeze in candidates]
    by_pk = {freeze.pk: freeze for freeze in candidates}
    active = freezes.active_at(rules, now)
    if active:
        return FreezeState(
            until=freezes.frozen_until(rules, now),
            freezes=tuple(by_pk[rule.key] for rule, _ in active),
        )
    upcoming = sorted(
        (occurrence_start, rule.key)
        for rule in rules
        for occurrence_start, _ in freezes.occurrences(rule, now, now + dt.timedelta(days=14))
    )
    if upcoming:
        next_start, key = upcoming[0]
        return FreezeState(until=None, next_start=next_start, next_freeze=by_pk[key])
    return FreezeState(until=None)


# --- conflicts when a change is scheduled -----------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    code: str  # freeze, change, budget_freeze, incident
    message: str
    url: str
    freeze_id: int | None = None


def _at(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def change_conflicts(change: ChangeRequest, *, now: dt.datetime) -> list[Conflict]:
    """What scheduling the change would run into: a freeze over its window, another change to
    one of its services in the same window, a service whose budget policy tier freezes changes,
    an open SEV1/SEV2 incident on its services or what they depend on. Constant queries."""
    services = list(change.services.all())
    if not services:
        return []
    ids = [service.pk for service in services]
    names = {service.pk: service.name for service in services}
    found: list[Conflict] = []
    for freeze, start, end in freezes_overlapping(services, change.window_start, change.window_end):
        covered = ", ".join(sorted(names[pk] for pk in freeze_covers(freeze, services)))
        found.append(
            Conflict(
                "freeze",
                f"The freeze “{freeze.name}” ({_at(start)} to {_at(end)}) covers {covered}.",
                freeze.get_absolute_url(),
                freeze_id=freeze.pk,
            )
        )
    others = (
        ChangeRequest.objects.filter(
            services__in=ids,
            status__in=sorted(ACTIVE_STATUSES),
            window_start__lt=change.window_end,
            window_end__gt=change.window_start,
        )
        .exclude(pk=change.pk)
        .distinct()
        .order_by("window_start")
    )
    for other in others:
        found.append(
            Conflict(
                "change",
                f"Change #{other.pk} “{other.title}” ({other.get_status_display().lower()}) "
                f"touches the same services from {_at(other.window_start)} to "
                f"{_at(other.window_end)}.",
                other.get_absolute_url(),
            )
        )
    for rule in service_selectors.slo_change_rules(ids):
        if rule.change_rule == gate.RULE_FREEZE:
            found.append(
                Conflict(
                    "budget_freeze",
                    f"{names[rule.service_id]}: the SLO “{rule.slo_name}” is in the "
                    f"{rule.tier_name} budget tier, which freezes changes.",
                    rule.url,
                )
            )
    dependencies = service_selectors.service_dependency_closure(ids)
    watched = set(ids).union(*dependencies.values())
    for incident in incident_selectors.open_incidents_on(watched):
        found.append(
            Conflict(
                "incident",
                f"{incident.reference} ({incident.severity}, “{incident.title}”) is open on "
                "these services or what they depend on.",
                incident.url,
            )
        )
    return found


# --- the deploy gate --------------------------------------------------------------------------


def services_without_valid_readiness(service_ids) -> frozenset[int]:
    """The services among ``service_ids`` that have no valid production-readiness review.

    INTEGRATOR: readiness reviews are built in services on another branch. Once merged, answer
    this from its selector (the services without a valid review, among these ids); until then
    no service counts as unready, so the gate's readiness reason never fires in production code
    (toil.gate's tests exercise it through GateFacts.services_without_readiness).
    """
    return frozenset()


def active_overrides(service_ids, *, now: dt.datetime) -> QuerySet[GateOverride]:
    return (
        GateOverride.objects.filter(
            service_id__in=list(service_ids),
            revoked_at=None,
            starts_at__lte=now,
            expires_at__gt=now,
        )
        .select_related("service", "created_by")
        .order_by("expires_at")
    )


def _person(user) -> str:
    if user is None:
        return "someone"
    return user.get_full_name() or user.get_username()


def change_fact(change: ChangeRequest) -> gate.ChangeFact:
    """What the gate reads of a change request (fetched with change_for_gate() or
    change_detail())."""
    return gate.ChangeFact(
        id=change.pk,
        category=change.category,
        status=change.status,
        service_slugs=frozenset(service.slug for service in change.services.all()),
        window_start=change.window_start,
        window_end=change.window_end,
        approved=change.approved_at is not None,
        approvals_given=change.approvals_given,
        approvals_required=approvals_required(change),
        sre_lead_approved=change.sre_lead_approved,
        implemented_at=change.implemented_at,
        incident_reference=change.incident.reference if change.incident_id else None,
        overridden_freeze_ids=frozenset(f.pk for f in change.overridden_freezes.all()),
        url=change.get_absolute_url(),
    )


def gate_facts(
    *, services, category: str, change: ChangeRequest | None, now: dt.datetime
) -> gate.GateFacts:
    """Everything toil.gate.decide reads about deploying ``services`` now: their SLOs' budget
    tiers, open SEV1/SEV2 incidents on them or what they depend on, freezes in force, SRE leads'
    overrides, the change request (fetched with change_for_gate()) and readiness. Constant
    queries whatever the catalog's size."""
    services = list(services)
    ids = [service.pk for service in services]
    slugs = {service.pk: service.slug for service in services}

    budgets = tuple(
        gate.BudgetFact(
            service_slug=slugs[rule.service_id],
            slo_name=rule.slo_name,
            tier_name=rule.tier_name,
            change_rule=rule.change_rule,
            url=rule.url,
        )
        for rule in service_selectors.slo_change_rules(ids)
        if rule.change_rule
    )

    dependencies = service_selectors.service_dependency_closure(ids)
    watched = set(ids).union(*dependencies.values())
    incidents = []
    for incident in incident_selectors.open_incidents_on(watched):
        touched = frozenset(
            slugs[pk]
            for pk in ids
            if pk in incident.service_ids or incident.service_ids & dependencies[pk]
        )
        incidents.append(
            gate.IncidentFact(
                reference=incident.reference,
                severity=incident.severity,
                title=incident.title,
                service_slugs=touched,
                url=incident.url,
            )
        )

    candidates = list(
        FreezeWindow.objects.filter(
            _freezes_over(services) & _freezes_reaching(now, now + dt.timedelta(microseconds=1))
        )
    )
    rules = [freeze.rule() for freeze in candidates]
    by_pk = {freeze.pk: freeze for freeze in candidates}
    freeze_facts = []
    for rule, _end in freezes.active_at(rules, now):
        freeze = by_pk[rule.key]
        freeze_facts.append(
            gate.FreezeFact(
                id=freeze.pk,
                name=freeze.name,
                until=freezes.frozen_until([rule], now),
                service_slugs=frozenset(slugs[pk] for pk in freeze_covers(freeze, services)),
                url=freeze.get_absolute_url(),
            )
        )

    overrides = tuple(
        gate.OverrideFact(
            id=override.pk,
            service_slug=override.service.slug,
            reason=override.reason,
            by=_person(override.created_by),
            expires_at=override.expires_at,
            url=override_url(override),
        )
        for override in active_overrides(ids, now=now)
    )

    unready = services_without_valid_readiness(ids)
    return gate.GateFacts(
        now=now,
        category=category,
        services=tuple(
            gate.ServiceFact(
                slug=service.slug,
                name=service.name,
                tier=service.tier,
                url=service.get_absolute_url(),
            )
            for service in services
        ),
        budgets=budgets,
        incidents=tuple(incidents),
        freezes=tuple(freeze_facts),
        overrides=overrides,
        change=change_fact(change) if change is not None else None,
        services_without_readiness=frozenset(slugs[pk] for pk in unready if pk in slugs),
    )


def override_url(override: GateOverride) -> str:
    return reverse("gate_override_list") + f"?service={override.service.slug}"


def gate_decision_list() -> QuerySet[GateDecision]:
    return (
        GateDecision.objects.select_related("asked_by", "change")
        .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("name")))
        .order_by("-asked_at", "-id")
    )


def service_gate_decisions(service: Service, *, limit: int) -> list[GateDecision]:
    """The service's latest gate decisions, newest first: one index range scan and their
    askers."""
    links = GateDecisionService.objects.filter(service=service).order_by("-asked_at")[:limit]
    return list(
        GateDecision.objects.filter(pk__in=Subquery(links.values("decision_id")))
        .select_related("asked_by")
        .order_by("-asked_at", "-id")
    )


def gate_override_list() -> QuerySet[GateOverride]:
    return GateOverride.objects.select_related("service", "created_by").order_by(
        "-starts_at", "-id"
    )


# --- the calendar -----------------------------------------------------------------------------

#: Changes shown per day in the calendar; the day links to the rest.
CALENDAR_CHANGES_PER_DAY = 6


@dataclass(frozen=True)
class CalendarChange:
    pk: int
    title: str
    status: str
    status_label: str
    url: str


@dataclass
class CalendarDay:
    date: dt.date
    changes: list = field(default_factory=list)
    more: int = 0
    freezes: list = field(default_factory=list)  # (freeze, start, end)


def change_calendar(*, today: dt.date, days: int, zone: ZoneInfo) -> list[CalendarDay]:
    """The next ``days`` days from ``today`` in ``zone``: each day's changes (planned to run
    on it, drafts and rejected ones left out) and freezes in force on it. Two queries."""
    start = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    end = start + dt.timedelta(days=days)
    calendar = [CalendarDay(date=today + dt.timedelta(days=offset)) for offset in range(days)]
    # Plain rows rather than models: a fortnight of a large organisation's changes is
    # hundreds of them, of which the calendar shows a few a day.
    changes = (
        ChangeRequest.objects.filter(window_start__lt=end, window_end__gt=start)
        .exclude(status__in=[ChangeStatus.DRAFT, ChangeStatus.REJECTED])
        .order_by("window_start", "pk")
        .values("pk", "title", "status", "window_start", "window_end")
    )
    labels = dict(ChangeStatus.choices)
    url = reverse("change_detail", args=[0]).removesuffix("0/")
    last_day = calendar[-1].date
    for change in changes:
        first = max(change["window_start"].astimezone(zone).date(), today)
        last_moment = change["window_end"] - dt.timedelta(microseconds=1)
        last = min(last_moment.astimezone(zone).date(), last_day)
        entry = None
        for offset in range((first - today).days, (last - today).days + 1):
            day = calendar[offset]
            if len(day.changes) < CALENDAR_CHANGES_PER_DAY:
                entry = entry or CalendarChange(
                    pk=change["pk"],
                    title=change["title"],
                    status=change["status"],
                    status_label=labels[change["status"]],
                    url=f"{url}{change['pk']}/",
                )
                day.changes.append(entry)
            else:
                day.more += 1
    candidates = list(
        FreezeWindow.objects.filter(_freezes_reaching(start, end)).select_related("team", "service")
    )
    for freeze in candidates:
        for occurrence_start, occurrence_end in freezes.occurrences(freeze.rule(), start, end):
            first = max(occurrence_start.astimezone(zone).date(), today)
            last_moment = occurrence_end - dt.timedelta(microseconds=1)
            last = min(last_moment.astimezone(zone).date(), calendar[-1].date)
            for offset in range((first - today).days, (last - today).days + 1):
                calendar[offset].freezes.append((freeze, occurrence_start, occurrence_end))
    return calendar


# --- deployments and DORA ---------------------------------------------------------------------


def deployment_list() -> QuerySet[Deployment]:
    return Deployment.objects.select_related("service", "service__owner_team", "change").order_by(
        "-finished_at", "-id"
    )


def incident_cause_list() -> QuerySet[IncidentCause]:
    return IncidentCause.objects.select_related(
        "incident", "deployment", "deployment__service", "linked_by"
    ).order_by("-linked_at", "-id")


@dataclass(frozen=True)
class IncidentCauseChoice:
    """The incident page's cause panel: the recorded cause (if any) and the deployments that
    may have caused it (production ones of its services that started before it)."""

    cause: Deployment | None
    linked_by: str | None
    candidates: list[Deployment]


def incident_cause_choice(incident, *, with_candidates: bool, limit: int = 20):
    """The recorded cause and, ``with_candidates``, the deployments to choose from: one query
    (the cause comes first, flagged by ``is_cause``)."""
    causes = IncidentCause.objects.filter(incident=incident, deployment=OuterRef("pk"))
    rows = Deployment.objects.select_related("service").annotate(
        is_cause=Exists(causes),
        linked_by=Subquery(causes.values("linked_by__username")[:1]),
    )
    condition = Q(is_cause=True)
    if with_candidates:
        condition |= Q(
            service__in=incident.services.all(),
            environment=PRODUCTION,
            started_at__lte=incident.started_at,
        )
    found = list(rows.filter(condition).order_by("-is_cause", "-started_at", "-id")[: limit + 1])
    cause = found[0] if found and found[0].is_cause else None
    return IncidentCauseChoice(
        cause=cause,
        linked_by=cause.linked_by if cause else None,
        candidates=found[:limit] if with_candidates else [],
    )


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


_EPOCH = "EXTRACT(EPOCH FROM {column})::float8"
_MONTH = (
    "(EXTRACT(YEAR FROM {column} AT TIME ZONE %(zone)s) * 12"
    " + EXTRACT(MONTH FROM {column} AT TIME ZONE %(zone)s) - 1)::int"
)

_DORA_DEPLOYMENTS_SQL = f"""
    SELECT d.id, d.service_id, s.owner_team_id, {_EPOCH.format(column="d.finished_at")},
           {_MONTH.format(column="d.finished_at")}, d.status,
           {_EPOCH.format(column="d.first_commit_at")}
    FROM {Deployment._meta.db_table} d
    JOIN {Service._meta.db_table} s ON s.id = d.service_id
    WHERE d.environment = %(environment)s AND d.finished_at >= %(since)s
"""
_DORA_CAUSES_SQL = f"""
    SELECT c.deployment_id, {_EPOCH.format(column="i.started_at")},
           {_MONTH.format(column="i.started_at")}, {_EPOCH.format(column="i.resolved_at")}
    FROM {IncidentCause._meta.db_table} c
    JOIN {Deployment._meta.db_table} d ON d.id = c.deployment_id
    JOIN {Incident._meta.db_table} i ON i.id = c.incident_id
    WHERE d.environment = %(environment)s AND d.finished_at >= %(since)s
"""


def dora_records(
    *, since: dt.datetime
) -> tuple[list[dora.DeploymentRecord], list[dora.CausedIncident]]:
    """Production deployments that finished since ``since`` and the incidents they caused,
    as toil.dora reads them: two queries. PostgreSQL hands over the times as seconds since the
    epoch and the months as numbers, far faster to read than timestamps; other databases (the
    embedded SQLite of `make run`) have them converted here."""
    zone = _zone()
    if connection.vendor != "postgresql":
        return _dora_records_in_python(since=since, zone=zone)
    parameters = {"environment": PRODUCTION, "since": since, "zone": settings.TIME_ZONE}
    with connection.cursor() as cursor:
        cursor.execute(_DORA_DEPLOYMENTS_SQL, parameters)
        records = [
            dora.DeploymentRecord(
                pk, service, team, finished, (month // 12, month % 12 + 1), status, first_commit
            )
            for pk, service, team, finished, month, status, first_commit in cursor.fetchall()
        ]
        cursor.execute(_DORA_CAUSES_SQL, parameters)
        caused = [
            dora.CausedIncident(deployment, started, (month // 12, month % 12 + 1), resolved)
            for deployment, started, month, resolved in cursor.fetchall()
        ]
    return records, caused


def _dora_records_in_python(*, since: dt.datetime, zone: ZoneInfo):
    rows = (
        Deployment.objects.filter(environment=PRODUCTION, finished_at__gte=since)
        .order_by()
        .values_list(
            "pk", "service_id", "service__owner_team_id", "finished_at", "status", "first_commit_at"
        )
    )
    records = [
        dora.deployment_record(pk, service, team, finished, status, first_commit, zone=zone)
        for pk, service, team, finished, status, first_commit in rows
    ]
    causes = (
        IncidentCause.objects.filter(
            deployment__environment=PRODUCTION, deployment__finished_at__gte=since
        )
        .order_by()
        .values_list("deployment_id", "incident__started_at", "incident__resolved_at")
    )
    caused = [
        dora.caused_incident(deployment, started, resolved, zone=zone)
        for deployment, started, resolved in causes
    ]
    return records, caused


def month_start(month: dora.Month) -> dt.date:
    return dt.date(month[0], month[1], 1)


def dora_key(*, team=None, service=None) -> str:
    if service is not None:
        return f"service:{service.pk}"
    if team is not None:
        return f"team:{team.pk}"
    return "organisation"


def _scope_key(scope: dora.Scope) -> str:
    kind, pk = scope
    return kind if pk is None else f"{kind}:{pk}"


def figures_of_snapshot(snapshot: DoraSnapshot) -> dora.DoraFigures:
    return dora.DoraFigures(
        **{name: getattr(snapshot, name) for name in DoraSnapshot.FIGURE_FIELDS}
    )


def _computed_live(
    months: list[dora.Month], now: dt.datetime, *, key: str
) -> dict[dora.Month, dora.DoraFigures]:
    """What the worker would store for ``key``, computed for this request: before the first
    recompute (a fresh install). Nothing is stored."""
    zone = _zone()
    since = dt.datetime.combine(month_start(months[0]), dt.time(), tzinfo=zone)
    records, caused = dora_records(since=since - dt.timedelta(days=31))
    computed = dora.dora_figures(records, caused, months=months, now=now, zone=zone)
    by_key = {_scope_key(scope): by_month for scope, by_month in computed.items()}
    empty = {month: dora.DoraFigures(days=dora.days_counted(month, now, zone)) for month in months}
    return by_key.get(key, empty)


@dataclass(frozen=True)
class DoraSeries:
    months: list[dora.Month]
    figures: dict[dora.Month, dora.DoraFigures]
    computed_at: dt.datetime | None  # None: computed for this request


def dora_series(
    *, team=None, service=None, months: int = 12, now: dt.datetime, live: bool = True
) -> DoraSeries:
    """The last ``months`` months of one scope (a service, a team, else the organisation) from
    the worker's snapshots in one query; computed live before any snapshot exists, unless
    ``live`` is False (then the months are empty until the worker has written them)."""
    zone = _zone()
    wanted = dora.last_months(now, months, zone)
    key = dora_key(team=team, service=service)
    snapshots = list(
        DoraSnapshot.objects.filter(
            key=key, month__gte=month_start(wanted[0]), month__lte=month_start(wanted[-1])
        )
    )
    if not snapshots and live and not DoraSnapshot.objects.exists():
        return DoraSeries(wanted, _computed_live(wanted, now, key=key), computed_at=None)
    by_month = {(s.month.year, s.month.month): s for s in snapshots}
    figures = {}
    for month in wanted:
        snapshot = by_month.get(month)
        figures[month] = (
            figures_of_snapshot(snapshot)
            if snapshot
            else dora.DoraFigures(days=dora.days_counted(month, now, zone))
        )
    computed_at = max((s.computed_at for s in snapshots), default=None)
    return DoraSeries(wanted, figures, computed_at=computed_at or now)


def dora_scope_month(key: str, month: dt.date) -> dora.DoraFigures:
    """The figures of the scope ``key`` (toil.selectors.changes.dora_key) for the month that
    ``month`` falls in: one query from the worker's snapshot; computed live when there is
    none yet."""
    from django.utils import timezone

    first = month.replace(day=1)
    snapshot = DoraSnapshot.objects.filter(key=key, month=first).first()
    if snapshot is not None:
        return figures_of_snapshot(snapshot)
    wanted = (first.year, first.month)
    return _computed_live([wanted], timezone.now(), key=key)[wanted]


def dora_month(team: Team | None, month: dt.date) -> dora.DoraFigures:
    """A team's (the organisation's, for None) DORA figures of the month that ``month`` falls
    in, for the monthly report: deployments (``deployments``, ``successful``, ``failures``),
    the four keys (``deployment_frequency``, ``lead_time``, ``change_failure_rate``,
    ``recovery_time``) and the rework rate; toil.dora.overall_band gives its band."""
    return dora_scope_month(dora_key(team=team), month)


@dataclass(frozen=True)
class DoraRow:
    name: str
    slug: str
    figures: dora.DoraFigures
    band: str | None


def dora_team_rows(*, month: dora.Month) -> list[DoraRow]:
    """Every team's figures of the month with its band, for the DORA page's table: two queries."""
    snapshots = {
        s.team_id: s
        for s in DoraSnapshot.objects.filter(month=month_start(month), team__isnull=False)
    }
    rows = []
    for team in Team.objects.order_by("name").only("pk", "name", "slug"):
        snapshot = snapshots.get(team.pk)
        figures = figures_of_snapshot(snapshot) if snapshot else dora.DoraFigures()
        rows.append(DoraRow(team.name, team.slug, figures, dora.overall_band(figures)))
    return rows


def dora_service_scopes(month: dora.Month) -> dict[int, dora.DoraFigures]:
    """Each service's figures for the month, by service id (for the API's unscoped list)."""
    return {
        s.service_id: figures_of_snapshot(s)
        for s in DoraSnapshot.objects.filter(month=month_start(month), service__isnull=False)
    }
