"""Demo readiness reviews and maturity scorecards for `make run` (called by portal.demo after
the services, SLOs and incidents): Payments API approved months ago (and at Gold, with an
exemption), Refunds in review with a waiver, Search API in production never reviewed, a
campaign, and a few weeks of history for the trend charts.

Written through the actions, as people would; only the dates are moved back to when the
review happened. Idempotent: what exists is kept, so a second load adds nothing.
"""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import F

from portal.timezones import portal_date
from services.actions import readiness as readiness_actions
from services.actions.catalog import service_update
from services.actions.scorecards import (
    campaign_create,
    checks_recompute,
    exemption_approve,
    exemption_request,
    scorecard_trends_record,
    week_start,
)
from services.actions.statuses import slo_statuses_recompute
from services.choices import CriterionStatus, Verdict
from services.models.catalog import Service
from services.models.readiness import ReadinessReview, ReviewEntry
from services.models.scorecards import Campaign, Exemption, ScorecardTrend
from services.models.slos import SLO
from services.readiness import PRR_REVIEWERS_GROUP, approval_blockers

#: Services that page their on-call engineer through PagerDuty in the demo.
PAGED = {"payments-api": "PPAYAPI", "checkout-web": "PCHKWEB", "fraud-scoring": "PFRAUD"}
APPROVED, IN_REVIEW, NEVER_REVIEWED = "payments-api", "refunds", "search-api"
CAMPAIGN = "tier-1-at-silver"
HISTORY_WEEKS = 8


def load_demo_readiness(now: datetime) -> None:
    people = {user.username: user for user in get_user_model().objects.all()}
    services = {service.slug: service for service in Service.objects.select_related("owner_team")}
    if not {"admin", "priya", "marco", "ines"} <= set(people) or not {
        APPROVED,
        IN_REVIEW,
        NEVER_REVIEWED,
    } <= set(services):
        return  # someone removed a demo person or service since the first load
    reviewers, _ = Group.objects.get_or_create(name=PRR_REVIEWERS_GROUP)
    reviewers.user_set.add(people["ines"])
    for slug, pagerduty in PAGED.items():
        if slug in services and not services[slug].pagerduty_service_id:
            service_update(
                service=services[slug], pagerduty_service_id=pagerduty, readiness_gate=False
            )
    # The checks judge SLO data by its snapshots, which the worker computes after the load:
    # compute the demo's now, so that the reviews below see what the worker will.
    slo_statuses_recompute(now=now, slos=SLO.objects.filter(status__isnull=True).order_by("pk"))
    if not ReadinessReview.objects.filter(service=services[APPROVED]).exists():
        _approved_review(services[APPROVED], people, now)
        _gold_exemption(services[APPROVED], people, now)
    if not ReadinessReview.objects.filter(service=services[IN_REVIEW]).exists():
        _review_with_a_waiver(services[IN_REVIEW], people, now)
    if not Campaign.objects.filter(slug=CAMPAIGN).exists():
        campaign_create(
            name="Every tier-1 service at Silver",
            slug=CAMPAIGN,
            description="Tier-1 services carry the business: each should be measured (SLOs with "
            "fresh data) and page its on-call engineer by the end of the quarter.",
            scorecard_key="service-maturity",
            target_level="Silver",
            tiers=[1],
            due_on=portal_date(now) + timedelta(days=60),
            by=people["admin"],
        )
    checks_recompute(service_ids=None, now=now)
    _history(now)


def _answer_attested(review, engineer) -> None:
    for item in review.items.select_related("criterion"):
        if not item.criterion.is_automatic:
            readiness_actions.review_item_answer(
                item=item,
                status=CriterionStatus.MET,
                evidence_url=f"https://wiki.example.com/{review.service.slug}/{item.criterion.key}",
                by=engineer,
            )


def _backdate(review, days_ago: float, now: datetime) -> None:
    """Move the review's dates back as if it happened ``days_ago`` days before ``now``."""
    shift = timedelta(days=days_ago)
    ReadinessReview.objects.filter(pk=review.pk).update(
        created_at=F("created_at") - shift,
        submitted_at=F("submitted_at") - shift,
        approved_at=F("approved_at") - shift,
        expires_at=F("expires_at") - shift,
    )
    ReviewEntry.objects.filter(review=review).update(created_at=F("created_at") - shift)


def _approved_review(service, people, now) -> None:
    admin, priya = people["admin"], people["priya"]
    review = readiness_actions.review_request(service=service, by=priya)
    _answer_attested(review, priya)
    readiness_actions.review_submit(review=review, by=priya, reviewer=admin)
    for item in review.items.select_related("criterion"):
        if item.status in {CriterionStatus.MET, CriterionStatus.NOT_APPLICABLE} and not (
            item.criterion.is_automatic
        ):
            readiness_actions.review_item_judge(item=item, verdict=Verdict.ACCEPTED, by=admin)
    # Should a demo record have changed so that a required check fails, it is waived.
    for item in approval_blockers(review.items.select_related("criterion")):
        readiness_actions.review_item_waive(
            item=item,
            reason="Fixed in the next sprint.",
            owner=priya,
            expires_on=portal_date(now) + timedelta(days=90),
            by=admin,
        )
    readiness_actions.review_approve(
        review=review, by=admin, comment="Solid: runbooks, paging and SLOs are in place."
    )
    _backdate(review, 120, now)


def _gold_exemption(service, people, now) -> None:
    if Exemption.objects.filter(service=service).exists():
        return
    exemption = exemption_request(
        service=service,
        scorecard_key="service-maturity",
        check_name="latency_slo",
        reason="Authorisation latency is bound by the acquirers and reported in their SLA "
        "reviews; a latency SLO of our own follows when the new gateway measures it.",
        expires_on=portal_date(now) + timedelta(days=120),
        by=people["priya"],
    )
    exemption_approve(exemption=exemption, by=people["admin"], note="Until the new gateway.")


def _review_with_a_waiver(service, people, now) -> None:
    marco, ines = people["marco"], people["ines"]
    review = readiness_actions.review_request(service=service, by=marco)
    attested = [
        item for item in review.items.select_related("criterion") if not item.criterion.is_automatic
    ]
    for item in attested[:-2]:
        readiness_actions.review_item_answer(
            item=item,
            status=CriterionStatus.MET,
            evidence_url=f"https://wiki.example.com/refunds/{item.criterion.key}",
            by=marco,
        )
    readiness_actions.review_submit(review=review, by=marco, reviewer=ines)
    for item in attested[:3]:
        readiness_actions.review_item_judge(item=item, verdict=Verdict.ACCEPTED, by=ines)
    load_test = next(
        (item for item in attested if item.criterion.key == "load-tested"), attested[-1]
    )
    readiness_actions.review_item_waive(
        item=load_test,
        reason="The load test runs with the payments load test next month; refunds peak at a "
        "tenth of payments, far below what the service handled in the last sale.",
        owner=marco,
        expires_on=portal_date(now) + timedelta(days=45),
        by=ines,
    )
    readiness_actions.review_comment(
        review=review,
        text="Backups: please link the last **restore test**, not only the schedule.",
        by=ines,
    )
    readiness_actions.review_comment(review=review, text="On it; the DR runbook too.", by=marco)
    _backdate(review, 3, now)


def _history(now: datetime) -> None:
    """This week's snapshot, and earlier weeks a little lower each (the organisation has been
    improving), so that the trend charts have a line to show."""
    scorecard_trends_record(now=now)
    this_week = week_start(now)
    current = list(ScorecardTrend.objects.filter(week=this_week))
    for weeks_back in range(1, HISTORY_WEEKS):
        week = this_week - timedelta(weeks=weeks_back)
        for row in current:
            ScorecardTrend.objects.get_or_create(
                scorecard_key=row.scorecard_key,
                team=row.team,
                week=week,
                defaults={
                    "services": row.services,
                    "average_score": max((row.average_score or 0) - 1.5 * weeks_back, 0),
                    "level_counts": row.level_counts,
                    "recorded_at": now - timedelta(weeks=weeks_back),
                },
            )
