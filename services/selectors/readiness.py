"""Reads of readiness checklists and reviews for views, the API, the gate and reminders: each
a fixed number of queries."""

import json
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast

from portal.prepared import prepared
from portal.roles import SRE_LEAD_GROUP
from portal.timezones import portal_date
from services.choices import (
    APPROVED_REVIEW_STATUSES,
    OPEN_REVIEW_STATUSES,
    Lifecycle,
    ReadinessState,
    ReviewStatus,
)
from services.models.catalog import Service
from services.models.readiness import (
    ChecklistCategory,
    ChecklistCriterion,
    ReadinessChecklist,
    ReadinessReview,
    ReviewEntry,
    ReviewItem,
    Waiver,
)
from services.models.scorecards import ServiceChecks
from services.readiness import (
    DEFAULT_CHECKLIST,
    GATED_TIERS,
    OVERRIDE_PREFIX,
    PRR_REVIEWERS_GROUP,
    Approval,
    in_production_without_review,
    readiness_state,
)


def checklist_list() -> QuerySet[ReadinessChecklist]:
    return ReadinessChecklist.objects.select_related("loaded_by").order_by("key", "-version")


def checklist_detail() -> QuerySet[ReadinessChecklist]:
    return checklist_list().prefetch_related(
        Prefetch(
            "categories",
            queryset=ChecklistCategory.objects.order_by("position").prefetch_related(
                Prefetch("criteria", queryset=ChecklistCriterion.objects.order_by("position"))
            ),
        )
    )


def latest_checklist(key: str) -> ReadinessChecklist | None:
    return ReadinessChecklist.objects.filter(key=key).order_by("-version").first()


def review_list() -> QuerySet[ReadinessReview]:
    return ReadinessReview.objects.select_related(
        "service__owner_team", "checklist", "requested_by", "reviewer"
    ).order_by("-created_at", "-id")


def review_items() -> QuerySet[ReviewItem]:
    return ReviewItem.objects.select_related(
        "criterion__category", "answered_by", "waiver__owner", "waiver__granted_by"
    ).order_by("criterion__category__position", "criterion__position")


def review_detail() -> QuerySet[ReadinessReview]:
    """A review with its items (criterion, category, waiver) and its entries."""
    return review_list().prefetch_related(
        Prefetch("items", queryset=review_items()),
        Prefetch(
            "entries", queryset=ReviewEntry.objects.select_related("author", "item__criterion")
        ),
    )


def review_item(review: ReadinessReview, item_id: int) -> ReviewItem | None:
    return review_items().filter(review=review, pk=item_id).first()


def valid_approval_exists(now: datetime) -> Exists:
    """True for a service (OuterRef "pk") whose current approval is valid at ``now``."""
    return Exists(
        ReadinessReview.objects.filter(
            service=OuterRef("pk"),
            status__in=APPROVED_REVIEW_STATUSES,
            superseded_at__isnull=True,
            expires_at__gt=now,
        ).filter(Q(waivers_expire_on__isnull=True) | Q(waivers_expire_on__gte=portal_date(now)))
    )


def has_valid_review(service_id: int, now: datetime) -> bool:
    return Service.objects.filter(pk=service_id).filter(valid_approval_exists(now)).exists()


def production_without_review(now: datetime) -> QuerySet[Service]:
    """Tier-1/2 services in production without a valid review: imported, overridden, or
    whose approval (or a waiver of it) has expired."""
    return Service.objects.filter(
        tier__in=sorted(GATED_TIERS), lifecycle=Lifecycle.PRODUCTION
    ).exclude(valid_approval_exists(now))


@dataclass(frozen=True)
class ServiceReadiness:
    """What the service page, the scorecards and the API show of a service's readiness."""

    state: str
    state_label: str
    approval: ReadinessReview | None
    open_review: ReadinessReview | None
    unreviewed_in_production: bool


@prepared
def _current_and_open_reviews(*, ids):
    return (
        ReadinessReview.objects.filter(service_id__in=ids)
        .filter(
            Q(status__in=APPROVED_REVIEW_STATUSES, superseded_at__isnull=True)
            | Q(status__in=OPEN_REVIEW_STATUSES)
        )
        .select_related("checklist", "reviewer")
        .order_by()
    )


def readiness_of(services, now: datetime) -> dict[int, ServiceReadiness]:
    """The readiness of each service (objects with pk, tier and lifecycle), in one query: each
    service's current approval and open review."""
    approvals, open_reviews = {}, {}
    for review in _current_and_open_reviews(ids=[service.pk for service in services]):
        found = open_reviews if review.is_open else approvals
        found[review.service_id] = review
    readiness = {}
    for service in services:
        approval = approvals.get(service.pk)
        summary = (
            Approval(approval.approved_at, approval.expires_at, approval.waivers_expire_on)
            if approval
            else None
        )
        open_review = open_reviews.get(service.pk)
        state = readiness_state(summary, open_review.status if open_review else None, now)
        readiness[service.pk] = ServiceReadiness(
            state=state,
            state_label=ReadinessState(state).label,
            approval=approval,
            open_review=open_review,
            unreviewed_in_production=in_production_without_review(
                service.tier, service.lifecycle, summary, now
            ),
        )
    return readiness


@prepared
def _automatic_criteria(*, service):
    newest = ReadinessChecklist.objects.filter(key=DEFAULT_CHECKLIST).order_by("-version")
    checks = ServiceChecks.objects.filter(service=service).values("results")[:1]
    return (
        ChecklistCriterion.objects.filter(checklist=Subquery(newest.values("pk")[:1]))
        .exclude(check_name="")
        .annotate(checks=Cast(Subquery(checks), output_field=TextField()))
        .order_by("category__position", "position")
        .values_list("title", "check_name", "tiers", "checks")
    )


def failing_automatic_criteria(service: Service) -> list[str]:
    """The titles of the newest default checklist's automatic criteria for the service's tier
    that its last checks fail: what a review would find missing today. One query: each
    criterion comes with the service's last check results (none before its first checks), as
    text, decoded once rather than on every row."""
    criteria = _automatic_criteria(service=service)
    if not criteria or criteria[0][3] is None:
        return []
    results = json.loads(criteria[0][3])
    return [
        title
        for title, check, tiers, _ in criteria
        if service.tier in tiers and check in results and not results[check][0]
    ]


def with_readiness(queryset: QuerySet, *, service_field: str = "pk") -> QuerySet:
    """``queryset`` (of services, or of records with a service at ``service_field``) with each
    service's current approval dates and open review status annotated: a service's readiness
    without a query per row (annotated_readiness)."""
    # Unordered: at most one row each (the constraints say so), and no sort per row.
    current = ReadinessReview.objects.filter(
        service_id=OuterRef(service_field),
        status__in=APPROVED_REVIEW_STATUSES,
        superseded_at__isnull=True,
    ).order_by()
    open_review = ReadinessReview.objects.filter(
        service_id=OuterRef(service_field), status__in=OPEN_REVIEW_STATUSES
    ).order_by()
    return queryset.annotate(
        readiness_approved_at=Subquery(current.values("approved_at")[:1]),
        readiness_expires_at=Subquery(current.values("expires_at")[:1]),
        readiness_waivers_expire_on=Subquery(current.values("waivers_expire_on")[:1]),
        readiness_open_status=Subquery(open_review.values("status")[:1]),
    )


def annotated_readiness(record, *, tier: int, lifecycle: str, now: datetime) -> tuple[str, bool]:
    """(state, in production without a review) of a record annotated by with_readiness()."""
    approval = (
        Approval(
            record.readiness_approved_at,
            record.readiness_expires_at,
            record.readiness_waivers_expire_on,
        )
        if record.readiness_approved_at is not None
        else None
    )
    state = readiness_state(approval, record.readiness_open_status, now)
    return state, in_production_without_review(tier, lifecycle, approval, now)


@prepared
def _production_overrides(*, service_id):
    return (
        Service.history.filter(id=service_id, history_change_reason__startswith=OVERRIDE_PREFIX)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:1]
    )


def production_override(service: Service):
    """The latest history record of the gate's override for this service, if any."""
    rows = _production_overrides(service_id=service.pk)
    return rows[0] if rows else None


@prepared
def open_review_items(*, review) -> list[ReviewItem]:
    """The review's items as review_items reads them (prepared: the service page asks on
    every view while a review is open)."""
    return review_items().filter(review=review)


def service_reviews(service: Service) -> QuerySet[ReadinessReview]:
    return review_list().filter(service=service)


def reviewer_candidates(service: Service) -> QuerySet:
    """People who may review the service: SRE leads and PRR reviewers outside its team."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[SRE_LEAD_GROUP, PRR_REVIEWERS_GROUP]))
        .exclude(memberships__team_id=service.owner_team_id)
        .distinct()
        .order_by("username")
    )


# --- for reminders and reports -------------------------------------------------------------------


def reviews_awaiting_reviewer(user) -> QuerySet[ReadinessReview]:
    """Reviews in review with ``user`` as their reviewer, oldest submission first."""
    return (
        review_list()
        .filter(status=ReviewStatus.IN_REVIEW, reviewer=user)
        .order_by("submitted_at", "pk")
    )


def reviews_in_review() -> QuerySet[ReadinessReview]:
    """Every review waiting for its reviewer's verdict, oldest submission first."""
    return review_list().filter(status=ReviewStatus.IN_REVIEW).order_by("submitted_at", "pk")


def waivers_expiring(before: date) -> QuerySet[Waiver]:
    """Waivers of current approvals that expire before ``before`` (a date in the portal's
    zone), soonest first, with their owner, review and service."""
    current = ReadinessReview.objects.filter(
        status__in=APPROVED_REVIEW_STATUSES, superseded_at__isnull=True
    )
    return (
        Waiver.objects.filter(
            expires_on__lt=before, item__review__in=Subquery(current.values("pk"))
        )
        .select_related(
            "owner", "item__criterion", "item__review__service__owner_team", "granted_by"
        )
        .order_by("expires_on", "pk")
    )
