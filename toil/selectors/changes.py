"""Reads of change requests, their approvers and who must decide on them, for views, the API,
the worker and reports: each a fixed number of queries."""

import datetime as dt

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

from portal.roles import editable_team_ids, in_group, is_sre_lead
from services.models.catalog import Service
from toil.approvals import (
    APPROVABLE_AFTER_IMPLEMENTATION,
    ApproverFacts,
    ChangeFacts,
    required_approvals,
)
from toil.choices.changes import (
    ApprovalDecision,
    ApproverRole,
    ChangeCategory,
    ChangeStatus,
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
    return in_group(user, CHANGE_APPROVERS_GROUP)


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
        "title", "category", "team__name", "window_start", "implemented_at"
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
            # As toil.approvals reads it: the owning team or a team whose service it touches.
            touches = ChangeRequest.services.through.objects.filter(
                changerequest=OuterRef("pk"), service__owner_team_id__in=team_ids
            )
            theirs |= Q(category=ChangeCategory.LOW_RISK) & (
                Q(team_id__in=team_ids) | Exists(touches)
            )
    decided = ChangeApproval.objects.filter(change=OuterRef("pk"), approver=user)
    return (
        (change_list() if changes is None else changes)
        .filter(collecting & theirs)
        .exclude(Q(author=user) | Q(implementer=user))
        .exclude(pk__in=Subquery(decided.values("change")))
        .order_by("submitted_at", "id")
    )
