"""Writes of production-readiness reviews: requesting one, answering and judging its criteria,
waivers, comments, and the transitions (services.readiness holds the rules; the views and the
API check who may take each step). Every step writes its entry in the review's history."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.timezones import portal_date
from services import readiness
from services.actions.scorecards import checks_mark_dirty
from services.checks.registry import CheckResult, run_checks
from services.choices import (
    APPROVED_REVIEW_STATUSES,
    OPEN_REVIEW_STATUSES,
    CriterionStatus,
    ReviewEntryKind,
    ReviewStatus,
    Verdict,
)
from services.models.catalog import Service
from services.models.readiness import ReadinessReview, ReviewEntry, ReviewItem, Waiver
from services.selectors.checks import service_facts
from services.selectors.readiness import latest_checklist


def _name(user) -> str:
    if user is None:
        return "the portal"
    return user.get_full_name() or user.get_username()


def _entry(review, text: str, *, by, item=None, kind=ReviewEntryKind.EVENT) -> ReviewEntry:
    return ReviewEntry.objects.create(review=review, item=item, kind=kind, author=by, text=text)


def _lock(review: ReadinessReview) -> None:
    """Lock the review's row and reload it: two steps at once take turns."""
    ReadinessReview.objects.select_for_update().filter(pk=review.pk).values_list("pk").get()
    review.refresh_from_db()


def _move(review: ReadinessReview, status: str) -> None:
    if not readiness.can_transition(review.status, status):
        raise ValidationError(
            {
                "status": f"A review that is {review.get_status_display().lower()} cannot "
                f"become {ReviewStatus(status).label.lower()}."
            }
        )
    review.status = status


def _require(review: ReadinessReview, statuses, doing: str) -> None:
    if review.status not in statuses:
        raise ValidationError(
            {"status": f"A review that is {review.get_status_display().lower()} cannot {doing}."}
        )


def _check_results(review: ReadinessReview, items, now: datetime) -> dict[str, CheckResult]:
    names = sorted({item.criterion.check_name for item in items if item.criterion.is_automatic})
    if not names:
        return {}
    facts = service_facts([review.service_id], now=now)[review.service_id]
    return run_checks(facts, names)


def _run_automatic(review: ReadinessReview, items: list[ReviewItem], now: datetime) -> None:
    """Run the checks of the review's automatic items now and store their outcomes."""
    results = _check_results(review, items, now)
    automatic = [item for item in items if item.criterion.is_automatic]
    for item in automatic:
        readiness.apply_check(item, results[item.criterion.check_name], now)
    ReviewItem.objects.bulk_update(automatic, ["status", "check_reason", "check_url", "checked_at"])


@transaction.atomic
def review_request(
    *, service: Service, by, checklist_key: str = readiness.DEFAULT_CHECKLIST
) -> ReadinessReview:
    """Start a review of the service against the newest version of the checklist: one item per
    criterion that applies to the service's tier, the automatic ones checked at once."""
    Service.objects.select_for_update().filter(pk=service.pk).values_list("pk").get()
    if ReadinessReview.objects.filter(service=service, status__in=OPEN_REVIEW_STATUSES).exists():
        raise ValidationError("This service already has a review in progress.")
    checklist = latest_checklist(checklist_key)
    if checklist is None:
        raise ValidationError({"checklist": f"No checklist has the key “{checklist_key}”."})
    review = ReadinessReview(service=service, checklist=checklist, requested_by=by)
    review.full_clean()
    review.save()
    criteria = [
        criterion
        for criterion in checklist.criteria.select_related("category").order_by(
            "category__position", "position"
        )
        if readiness.applies_to_tier(criterion.tiers, service.tier)
    ]
    items = ReviewItem.objects.bulk_create(
        ReviewItem(review=review, criterion=criterion) for criterion in criteria
    )
    _run_automatic(review, items, timezone.now())
    _entry(
        review,
        f"Review requested by {_name(by)} against {checklist.title} version {checklist.version} "
        f"({len(items)} criteria for tier {service.tier}).",
        by=by,
    )
    return review


def _check_reviewer(review: ReadinessReview, reviewer) -> None:
    refusal = readiness.reviewer_refusal(reviewer, review.service)
    if refusal:
        raise ValidationError({"reviewer": refusal})


@transaction.atomic
def review_submit(*, review: ReadinessReview, by, reviewer=None) -> ReadinessReview:
    """Draft or changes requested → in review, with its reviewer (the one assigned already
    unless another is named)."""
    _lock(review)
    _move(review, ReviewStatus.IN_REVIEW)
    reviewer = reviewer or review.reviewer
    _check_reviewer(review, reviewer)
    review.reviewer = reviewer
    review.submitted_at = timezone.now()
    review.full_clean()
    review.save()
    _entry(review, f"Submitted for review by {_name(by)}; reviewer: {_name(reviewer)}.", by=by)
    return review


@transaction.atomic
def review_assign(*, review: ReadinessReview, reviewer, by) -> ReadinessReview:
    _lock(review)
    _require(review, OPEN_REVIEW_STATUSES, "get a new reviewer")
    _check_reviewer(review, reviewer)
    review.reviewer = reviewer
    review.full_clean()
    review.save()
    _entry(review, f"{_name(reviewer)} was made the reviewer by {_name(by)}.", by=by)
    return review


def _item_for_update(item: ReviewItem) -> ReviewItem:
    _lock(item.review)
    item.refresh_from_db()
    return item


#: What the owner team may answer for a criterion.
ANSWERS = {
    CriterionStatus.PENDING,
    CriterionStatus.MET,
    CriterionStatus.NOT_MET,
    CriterionStatus.NOT_APPLICABLE,
}


@transaction.atomic
def review_item_answer(
    *, item: ReviewItem, status: str, by, evidence_url: str = "", note: str = ""
) -> ReviewItem:
    """The owner team's answer: an attested criterion met (with evidence), not met, or any
    criterion not applicable (with the reason); "pending" takes the answer back (an automatic
    criterion then follows its check again). The reviewer judges it afresh."""
    item = _item_for_update(item)
    review = item.review
    _require(review, OPEN_REVIEW_STATUSES, "be answered")
    if status not in ANSWERS:
        raise ValidationError({"status": "Answer met, not met, not applicable or pending."})
    if item.status == CriterionStatus.WAIVED:
        raise ValidationError({"status": "The reviewer waived this criterion."})
    automatic = item.criterion.is_automatic
    if automatic and status in {CriterionStatus.MET, CriterionStatus.NOT_MET}:
        raise ValidationError(
            {"status": "The portal checks this criterion; only “not applicable” can be answered."}
        )
    item.status, item.evidence_url, item.note = status, evidence_url, note.strip()
    item.answered_by, item.answered_at = by, timezone.now()
    item.verdict = Verdict.PENDING
    if automatic and status == CriterionStatus.PENDING:
        now = timezone.now()
        readiness.apply_check(
            item, _check_results(review, [item], now)[item.criterion.check_name], now
        )
    item.full_clean()
    item.save()
    _entry(
        review,
        f"{_name(by)} answered “{item.criterion.title}”: {item.get_status_display().lower()}.",
        by=by,
        item=item,
    )
    return item


@transaction.atomic
def review_item_judge(*, item: ReviewItem, verdict: str, by, comment: str = "") -> ReviewItem:
    """The reviewer accepts or rejects the team's answer, with a comment."""
    item = _item_for_update(item)
    _require(item.review, {ReviewStatus.IN_REVIEW}, "be judged")
    if verdict not in {Verdict.ACCEPTED, Verdict.REJECTED}:
        raise ValidationError({"verdict": "Accept or reject the answer."})
    if item.status == CriterionStatus.WAIVED:
        raise ValidationError({"verdict": "Take the waiver back before judging the answer."})
    if verdict == Verdict.REJECTED and not comment.strip():
        raise ValidationError({"reviewer_comment": "Say what is missing."})
    item.verdict, item.reviewer_comment = verdict, comment.strip()
    item.save()
    _entry(
        item.review,
        f"{_name(by)} {Verdict(verdict).label.lower()} “{item.criterion.title}”"
        + (f": {comment.strip()}" if comment.strip() else "."),
        by=by,
        item=item,
    )
    return item


@transaction.atomic
def review_item_waive(*, item: ReviewItem, reason: str, owner, expires_on: date, by) -> Waiver:
    """The reviewer lets the service go without this criterion until ``expires_on``; someone
    (``owner``) answers for closing the gap."""
    item = _item_for_update(item)
    _require(item.review, {ReviewStatus.IN_REVIEW}, "take waivers")
    if expires_on is None or expires_on <= portal_date(timezone.now()):
        raise ValidationError({"expires_on": "A waiver expires after today."})
    waiver = Waiver.objects.filter(item=item).first() or Waiver(item=item)
    waiver.reason, waiver.owner, waiver.expires_on, waiver.granted_by = (
        reason.strip(),
        owner,
        expires_on,
        by,
    )
    waiver.full_clean()
    waiver.save()
    item.status, item.verdict = CriterionStatus.WAIVED, Verdict.ACCEPTED
    item.save()
    _entry(
        item.review,
        f"{_name(by)} waived “{item.criterion.title}” until {expires_on:%d %b %Y} "
        f"(owner: {_name(owner)}): {waiver.reason}",
        by=by,
        item=item,
    )
    return waiver


@transaction.atomic
def review_item_unwaive(*, item: ReviewItem, by) -> ReviewItem:
    item = _item_for_update(item)
    _require(item.review, {ReviewStatus.IN_REVIEW}, "change waivers")
    if item.status != CriterionStatus.WAIVED:
        raise ValidationError({"status": "This criterion is not waived."})
    Waiver.objects.filter(item=item).delete()
    item.status, item.verdict = CriterionStatus.PENDING, Verdict.PENDING
    item.save()
    if item.criterion.is_automatic:
        _run_automatic(item.review, [item], timezone.now())
    _entry(
        item.review,
        f"{_name(by)} took back the waiver of “{item.criterion.title}”.",
        by=by,
        item=item,
    )
    return item


@transaction.atomic
def review_approve(*, review: ReadinessReview, by, comment: str = "") -> ReadinessReview:
    """In review → approved (or approved with waivers), once every required criterion is done.
    The automatic criteria are checked one last time and frozen; the approval is valid for
    READINESS_VALID_DAYS and replaces the service's previous one."""
    _lock(review)
    _move(review, ReviewStatus.APPROVED)
    now = timezone.now()
    items = list(review.items.select_related("criterion", "waiver"))
    _run_automatic(review, items, now)
    blockers = readiness.approval_blockers(items)
    if blockers:
        titles = "; ".join(item.criterion.title for item in blockers[:5])
        more = f" and {len(blockers) - 5} more" if len(blockers) > 5 else ""
        raise ValidationError(
            {
                "status": f"Required criteria are not done yet: {titles}{more}. Accept, waive or "
                "request changes first."
            }
        )
    waivers = [item.waiver.expires_on for item in items if item.status == CriterionStatus.WAIVED]
    review.status = ReviewStatus.APPROVED_WITH_WAIVERS if waivers else ReviewStatus.APPROVED
    review.approved_at, review.expires_at = now, readiness.approval_expiry(now)
    review.waivers_expire_on = min(waivers) if waivers else None
    ReadinessReview.objects.filter(
        service_id=review.service_id, status__in=APPROVED_REVIEW_STATUSES, superseded_at=None
    ).exclude(pk=review.pk).update(superseded_at=now)
    review.full_clean()
    review.save()
    _entry(
        review,
        f"{review.get_status_display()} by {_name(by)}, valid until {review.expires_at:%d %b %Y}"
        + (f": {comment.strip()}" if comment.strip() else "."),
        by=by,
    )
    checks_mark_dirty(service_ids=[review.service_id])
    return review


@transaction.atomic
def review_request_changes(*, review: ReadinessReview, by, comment: str) -> ReadinessReview:
    if not comment.strip():
        raise ValidationError({"comment": "Say what has to change."})
    _lock(review)
    _move(review, ReviewStatus.CHANGES_REQUESTED)
    review.save()
    _entry(review, f"Changes requested by {_name(by)}: {comment.strip()}", by=by)
    return review


@transaction.atomic
def review_comment(*, review: ReadinessReview, by, text: str, item: ReviewItem | None = None):
    if not text.strip():
        raise ValidationError({"text": "Write a comment."})
    return _entry(review, text.strip(), by=by, item=item, kind=ReviewEntryKind.COMMENT)
