"""Production-readiness rules: how a review moves, who may take each step, when a criterion
counts as done, what a service's readiness is, and the gate on moving tier-1 and tier-2
services into production. Reads only what is handed in, apart from the role lookups of
portal.roles and the user's own team memberships (each one cached query)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings

from portal.roles import can_edit, in_group, is_sre_lead
from portal.timezones import portal_date
from services.choices import (
    APPROVED_REVIEW_STATUSES,
    OPEN_REVIEW_STATUSES,
    CriterionStatus,
    Lifecycle,
    ReadinessState,
    ReviewStatus,
    Tier,
    Verdict,
)

#: Members of this group may review services of teams they do not belong to (as SRE leads may).
PRR_REVIEWERS_GROUP = "PRR reviewers"
#: Services of these tiers enter production only with a valid review.
GATED_TIERS = frozenset({Tier.TIER_1, Tier.TIER_2})
#: The checklist a review is held against unless another is named.
DEFAULT_CHECKLIST = "production-readiness"
#: How the gate's override is marked in the service's history.
OVERRIDE_PREFIX = "Moved into production without a readiness review"

GATE_REFUSAL = (
    "A tier-1 or tier-2 service moves into production only with an approved, unexpired "
    "readiness review. Request a review from the service's readiness page, or ask an SRE lead "
    "to override the gate with a reason."
)

#: Which status may follow which; an approval is final (the next review is a new one).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    ReviewStatus.DRAFT: frozenset({ReviewStatus.IN_REVIEW}),
    ReviewStatus.IN_REVIEW: frozenset(
        {
            ReviewStatus.APPROVED,
            ReviewStatus.APPROVED_WITH_WAIVERS,
            ReviewStatus.CHANGES_REQUESTED,
        }
    ),
    ReviewStatus.CHANGES_REQUESTED: frozenset({ReviewStatus.IN_REVIEW}),
    ReviewStatus.APPROVED: frozenset(),
    ReviewStatus.APPROVED_WITH_WAIVERS: frozenset(),
}


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED_TRANSITIONS[current]


def approval_expiry(approved_at: datetime) -> datetime:
    return approved_at + timedelta(days=settings.READINESS_VALID_DAYS)


# --- a service's readiness --------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    """A service's current approval, as the state needs it."""

    approved_at: datetime
    expires_at: datetime
    waivers_expire_on: date | None = None


def approval_is_valid(approval: Approval | None, now: datetime) -> bool:
    return (
        approval is not None
        and approval.expires_at > now
        and (approval.waivers_expire_on is None or approval.waivers_expire_on >= portal_date(now))
    )


def readiness_state(approval: Approval | None, open_status: str | None, now: datetime) -> str:
    """The service's readiness: its current approval decides, then whether a review is open."""
    if approval is not None:
        if approval.expires_at <= now:
            return ReadinessState.REVIEW_DUE
        if approval.waivers_expire_on is not None:
            if approval.waivers_expire_on < portal_date(now):
                return ReadinessState.WAIVER_EXPIRED
            return ReadinessState.READY_WITH_WAIVERS
        return ReadinessState.READY
    if open_status is not None:
        return ReadinessState.IN_REVIEW
    return ReadinessState.NEVER_REVIEWED


def needs_review_for_production(tier: int) -> bool:
    return tier in GATED_TIERS


def in_production_without_review(
    tier: int, lifecycle: str, approval: Approval | None, now: datetime
) -> bool:
    """A tier-1/2 service in production without a valid review (imported, overridden, or
    whose approval or a waiver has expired)."""
    return (
        needs_review_for_production(tier)
        and lifecycle == Lifecycle.PRODUCTION
        and not approval_is_valid(approval, now)
    )


def enters_gated_production(*, tier: int, lifecycle: str, previous_lifecycle: str | None) -> bool:
    """Does this save move (or create) a tier-1/2 service into production?"""
    return (
        needs_review_for_production(tier)
        and lifecycle == Lifecycle.PRODUCTION
        and previous_lifecycle != Lifecycle.PRODUCTION
    )


# --- criteria -----------------------------------------------------------------------------------


def item_is_done(status: str, verdict: str, automatic: bool) -> bool:
    """Does the criterion count towards an approval? An automatic one met by its check, an
    attested one met and accepted, a non-applicable one accepted, or a waived one."""
    if status == CriterionStatus.WAIVED:
        return True
    if status == CriterionStatus.MET:
        return automatic or verdict == Verdict.ACCEPTED
    if status == CriterionStatus.NOT_APPLICABLE:
        return verdict == Verdict.ACCEPTED
    return False


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    required_left: int
    waived: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def review_progress(items: Iterable) -> Progress:
    """Progress over the review's items (each with .status, .verdict, .criterion)."""
    done = total = required_left = waived = 0
    for item in items:
        total += 1
        finished = item_is_done(item.status, item.verdict, item.criterion.is_automatic)
        done += finished
        waived += item.status == CriterionStatus.WAIVED
        required_left += item.criterion.required and not finished
    return Progress(done=done, total=total, required_left=required_left, waived=waived)


def approval_blockers(items: Iterable) -> list:
    """The required items that are not done: an approval must wait for them (or waive them)."""
    return [
        item
        for item in items
        if item.criterion.required
        and not item_is_done(item.status, item.verdict, item.criterion.is_automatic)
    ]


def applies_to_tier(tiers: Iterable[int], tier: int) -> bool:
    return tier in set(tiers)


#: An automatic criterion's statuses that follow its check; a person's answer (not applicable)
#: or the reviewer's waiver stays until taken back.
CHECKED_STATUSES = frozenset(
    {CriterionStatus.PENDING, CriterionStatus.MET, CriterionStatus.NOT_MET}
)


def apply_check(item, result, now: datetime) -> bool:
    """Set an automatic review item (``item``) from its check's ``result`` (CheckResult);
    returns whether anything the item shows changed."""
    before = (item.status, item.check_reason, item.check_url)
    if item.status in CHECKED_STATUSES:
        item.status = CriterionStatus.MET if result.passed else CriterionStatus.NOT_MET
    item.check_reason, item.check_url, item.checked_at = result.reason, result.fix_url, now
    return before != (item.status, item.check_reason, item.check_url)


# --- who may do what ------------------------------------------------------------------------------


def member_team_ids(user) -> frozenset[int]:
    """Every team the user belongs to, in any role (one query, cached on the user)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_member_team_ids", None)
    if cached is None:
        cached = frozenset(user.memberships.values_list("team_id", flat=True))
        user._member_team_ids = cached
    return cached


def is_prr_reviewer(user) -> bool:
    """An SRE lead or a member of the "PRR reviewers" group."""
    if not user.is_authenticated or not user.is_active:
        return False
    return is_sre_lead(user) or in_group(user, PRR_REVIEWERS_GROUP)


def reviewer_refusal(user, service) -> str | None:
    """Why ``user`` may not review ``service`` (None when they may)."""
    if user is None or not is_prr_reviewer(user):
        return "A reviewer is an SRE lead or a member of the “PRR reviewers” group."
    if service.owner_team_id in member_team_ids(user):
        return "A reviewer is never a member of the service's own team."
    return None


def can_request_review(user, service) -> bool:
    return can_edit(user, service)


def can_answer(user, review) -> bool:
    """Owner-team engineers (and SRE leads) answer criteria while the review is open."""
    return review.status in OPEN_REVIEW_STATUSES and can_edit(user, review)


def can_submit(user, review) -> bool:
    return review.status in {
        ReviewStatus.DRAFT,
        ReviewStatus.CHANGES_REQUESTED,
    } and can_edit(user, review)


def is_assigned_reviewer(user, review) -> bool:
    return user.is_authenticated and review.reviewer_id == user.pk


def can_judge(user, review) -> bool:
    """The assigned reviewer accepts, rejects, waives, approves and requests changes."""
    return review.status == ReviewStatus.IN_REVIEW and is_assigned_reviewer(user, review)


def can_assign_reviewer(user, review) -> bool:
    return review.status in OPEN_REVIEW_STATUSES and (
        is_sre_lead(user) or (review.status != ReviewStatus.IN_REVIEW and can_edit(user, review))
    )


def can_comment(user, review) -> bool:
    return can_edit(user, review) or is_assigned_reviewer(user, review) or is_sre_lead(user)


def is_approved(status: str) -> bool:
    return status in APPROVED_REVIEW_STATUSES
