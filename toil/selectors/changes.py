"""Reads of change requests, their approvers and risk, freezes, scheduling conflicts and the
calendar, for views, the API, the worker and reports: each a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
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

from incidents.selectors import incidents as incident_selectors
from portal.roles import editable_team_ids, in_group, is_sre_lead
from services.models.catalog import Service
from services.selectors import catalog as catalog_selectors
from services.selectors import slos as slo_selectors
from toil import freezes, gate, risk
from toil.approvals import (
    APPROVABLE_AFTER_IMPLEMENTATION,
    ApproverFacts,
    ChangeFacts,
    required_approvals,
)
from toil.choices.changes import (
    ACTIVE_STATUSES,
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
)

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
        cached = in_group(user, CHANGE_APPROVERS_GROUP)
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


def collecting_approvals_q(now: dt.datetime) -> Q:
    """The changes still collecting approvals at ``now`` (toil.approvals.approval_window_open):
    submitted and not yet approved, or an emergency implemented within the last 24 hours."""
    return Q(status=ChangeStatus.SUBMITTED, approved_at=None) | Q(
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


def change_lines() -> QuerySet[ChangeRequest]:
    """Changes as a one-line mention shows them (the home page): title, category, team and
    window, without the list's services, author and approval count."""
    return ChangeRequest.objects.select_related("team").only(
        "title", "category", "team__name", "window_start"
    )


def changes_awaiting_approval(
    user, *, now: dt.datetime | None = None, changes: QuerySet[ChangeRequest] | None = None
) -> QuerySet[ChangeRequest]:
    """The changes waiting for this person's decision: ones they may approve (toil.approvals)
    that are still collecting approvals and that they have neither written, implement nor
    decided on yet. For the change list's "needs my attention" and the reminder digest; taken
    from ``changes`` (the change list's rows by default)."""
    from django.utils import timezone

    now = now or timezone.now()
    if not user.is_authenticated:
        return ChangeRequest.objects.none()
    collecting = collecting_approvals_q(now)
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
        (change_list() if changes is None else changes)
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
    dependents = catalog_selectors.service_dependency_closure(ids, direction="dependents")
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


def freezes_reaching_q(start: dt.datetime, end: dt.datetime) -> Q:
    """Freezes that may have an occurrence overlapping [start, end): one-off ones that do, and
    repeating ones that have begun by ``end`` (their rule says the rest)."""
    return Q(recurrence="", start__lt=end, end__gt=start) | (~Q(recurrence="") & Q(start__lt=end))


def freezes_over_q(services) -> Q:
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
        FreezeWindow.objects.filter(freezes_over_q(services) & freezes_reaching_q(start, end))
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
        FreezeWindow.objects.filter(freezes_over_q([service]) & freezes_reaching_q(now, horizon))
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
    for rule in slo_selectors.slo_change_rules(ids):
        if rule.change_rule == gate.RULE_FREEZE:
            found.append(
                Conflict(
                    "budget_freeze",
                    f"{names[rule.service_id]}: the SLO “{rule.slo_name}” is in the "
                    f"{rule.tier_name} budget tier, which freezes changes.",
                    rule.url,
                )
            )
    dependencies = catalog_selectors.service_dependency_closure(ids)
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
        .values_list("pk", "title", "status", "window_start", "window_end")
    )
    labels = dict(ChangeStatus.choices)
    url = reverse("change_detail", args=[0]).removesuffix("0/")
    last_day = calendar[-1].date
    for pk, title, status, window_start, window_end in changes:
        first = max(window_start.astimezone(zone).date(), today)
        last_moment = window_end - dt.timedelta(microseconds=1)
        last = min(last_moment.astimezone(zone).date(), last_day)
        entry = None
        for offset in range((first - today).days, (last - today).days + 1):
            day = calendar[offset]
            if len(day.changes) < CALENDAR_CHANGES_PER_DAY:
                entry = entry or CalendarChange(
                    pk=pk,
                    title=title,
                    status=status,
                    status_label=labels[status],
                    url=f"{url}{pk}/",
                )
                day.changes.append(entry)
            else:
                day.more += 1
    candidates = list(
        FreezeWindow.objects.filter(freezes_reaching_q(start, end)).select_related(
            "team", "service"
        )
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
