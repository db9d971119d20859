"""Facts, services and reviews for the readiness and scorecard tests."""

from dataclasses import replace
from datetime import UTC, date, datetime

from services.actions import readiness as readiness_actions
from services.checks.registry import ReadinessFacts, ServiceFacts, SLOFacts
from services.choices import CriterionStatus, Lifecycle, Tier, Verdict
from services.models.readiness import ReadinessReview

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)

HEALTHY_SLO = SLOFacts(
    name="Availability",
    sli_kind="availability",
    has_policy=True,
    computed=True,
    stale=False,
    coverage=0.99,
    remaining=0.6,
    alert="none",
)


def facts(**changes) -> ServiceFacts:
    """A service whose every catalog check passes; ``changes`` break what a test needs."""
    base = ServiceFacts(
        service_id=1,
        slug="ledger",
        name="Ledger",
        tier=Tier.TIER_1,
        lifecycle=Lifecycle.PRODUCTION,
        description="Books every movement of money.",
        team_slug="payments",
        team_name="Payments",
        team_has_manager=True,
        repository_url="https://git.example.test/ledger",
        runbook_url="https://wiki.example.test/ledger",
        dashboard_url="https://grafana.example.test/ledger",
        oncall_url="https://oncall.example.test/payments",
        pagerduty_service_id="PLEDGER",
        handles_personal_data=True,
        data_retention_days=365,
        dependency_count=2,
        now=NOW,
        today=TODAY,
        slos=(HEALTHY_SLO, replace(HEALTHY_SLO, name="Latency", sli_kind="latency")),
        readiness=ReadinessFacts(
            approved=True, expires_at=datetime(2027, 6, 1, tzinfo=UTC), waivers_expire_on=None
        ),
    )
    return replace(base, **changes)


def complete_service(service, *, dependency) -> None:
    """Every link and field the catalog checks read, set on ``service``."""
    service.repository_url = "https://git.example.test/x"
    service.runbook_url = "https://wiki.example.test/x"
    service.dashboard_url = "https://grafana.example.test/x"
    service.oncall_url = "https://oncall.example.test/x"
    service.pagerduty_service_id = "PX"
    service.save()
    service.depends_on.set([dependency])


def answer_everything(review: ReadinessReview, engineer) -> None:
    """The owner team answers every attested criterion as met, with evidence."""
    for item in review.items.select_related("criterion"):
        if not item.criterion.is_automatic:
            readiness_actions.review_item_answer(
                item=item,
                status=CriterionStatus.MET,
                evidence_url=f"https://wiki.example.test/{item.criterion.key}",
                by=engineer,
            )


def accept_everything(review: ReadinessReview, reviewer) -> None:
    for item in review.items.select_related("criterion"):
        if item.status == CriterionStatus.MET and not item.criterion.is_automatic:
            readiness_actions.review_item_judge(item=item, verdict=Verdict.ACCEPTED, by=reviewer)


def waive_what_blocks(review: ReadinessReview, reviewer, *, owner, expires_on) -> int:
    """Waive every required criterion still not done; returns how many."""
    from services.readiness import approval_blockers

    blockers = approval_blockers(review.items.select_related("criterion"))
    for item in blockers:
        readiness_actions.review_item_waive(
            item=item, reason="Later.", owner=owner, expires_on=expires_on, by=reviewer
        )
    return len(blockers)


def approved_review(service, *, engineer, reviewer, waive_until=None) -> ReadinessReview:
    """A review of ``service`` taken all the way to approval (what blocks it is waived until
    ``waive_until``, or accepted as not applicable when no date is given)."""
    review = readiness_actions.review_request(service=service, by=engineer)
    answer_everything(review, engineer)
    readiness_actions.review_submit(review=review, by=engineer, reviewer=reviewer)
    accept_everything(review, reviewer)
    from services.readiness import approval_blockers

    for item in approval_blockers(review.items.select_related("criterion")):
        if waive_until is not None:
            readiness_actions.review_item_waive(
                item=item, reason="Later.", owner=engineer, expires_on=waive_until, by=reviewer
            )
        else:
            readiness_actions.review_item_answer(
                item=item, status=CriterionStatus.NOT_APPLICABLE, note="Not here.", by=engineer
            )
            item.refresh_from_db()
            readiness_actions.review_item_judge(item=item, verdict=Verdict.ACCEPTED, by=reviewer)
    # Not-applicable answers go back to the team; the review is in review throughout.
    return readiness_actions.review_approve(review=review, by=reviewer)


def query_count(call) -> int:
    """How many queries ``call()`` makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)
