"""A month of records for the payments team: two SLOs with SLI data in April and May 2026,
incidents, a post-mortem and action items; "now" is the night of 1 June 2026."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from incidents.choices import ActionItemStatus, PostMortemStatus, Severity
from services.actions.statuses import slo_status_recompute
from services.budget.windows import BUCKET, Bucket
from services.models.slos import SLO
from services.sli.store import slo_buckets_upsert
from tests.incidents.factories import ActionItemFactory, PostMortemFactory, resolved_incident

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def hour_of_buckets(day: dt.datetime, good: int, total: int) -> list[Bucket]:
    """Twelve 5-minute buckets from ``day``, ``good`` of ``total`` events in all."""
    return [Bucket(day + index * BUCKET, good // 12, total // 12) for index in range(12)]


def slo_with_months(service, slug, objective, april, may) -> SLO:
    """An SLO whose April and May data have the given (good, total) for one hour each."""
    slo = SLO.objects.create(
        service=service,
        name=slug.replace("-", " ").capitalize(),
        slug=slug,
        objective=Decimal(objective),
        window_days=30,
        events_query="sum(rate(ok_total[{{.window}}]))",
        total_query="sum(rate(all_total[{{.window}}]))",
    )
    slo_buckets_upsert(
        slo=slo, buckets=hour_of_buckets(dt.datetime(2026, 4, 10, 9, tzinfo=UTC), *april)
    )
    slo_buckets_upsert(
        slo=slo, buckets=hour_of_buckets(dt.datetime(2026, 5, 20, 9, tzinfo=UTC), *may)
    )
    with time_machine.travel(NOW, tick=False):
        slo_status_recompute(slo=slo, now=NOW)
    return slo


@pytest.fixture
def month_of_records(service, owner, teammate):
    """Availability (99.9 %) met in May, missed in April; Latency (99 %) the other way round.
    May: a SEV2 of 90 minutes (post-mortem published in May, two action items) and a SEV3 of
    30 minutes; April: a SEV1 of two hours."""
    availability = slo_with_months(service, "availability", "99.9", (11976, 12000), (11998, 12000))
    latency = slo_with_months(service, "latency", "99", (11940, 12000), (11760, 12000))
    may_sev2 = resolved_incident(
        service, started=dt.datetime(2026, 5, 12, 10, tzinfo=UTC), minutes=90
    )
    may_sev3 = resolved_incident(
        service, started=dt.datetime(2026, 5, 25, 8, tzinfo=UTC), minutes=30, severity=Severity.SEV3
    )
    april_sev1 = resolved_incident(
        service,
        started=dt.datetime(2026, 4, 3, 14, tzinfo=UTC),
        minutes=120,
        severity=Severity.SEV1,
    )
    postmortem = PostMortemFactory(
        incident=may_sev2,
        status=PostMortemStatus.PUBLISHED,
        published_at=dt.datetime(2026, 5, 15, 12, tzinfo=UTC),
        due_at=dt.datetime(2026, 5, 19, 12, tzinfo=UTC),
        author=owner,
    )
    with time_machine.travel(dt.datetime(2026, 5, 15, 13, tzinfo=UTC), tick=False):
        done = ActionItemFactory(
            postmortem=postmortem,
            owner=teammate,
            due_date=dt.date(2026, 5, 22),
            status=ActionItemStatus.DONE,
            completed_at=dt.datetime(2026, 5, 21, 9, tzinfo=UTC),
        )
        late = ActionItemFactory(
            postmortem=postmortem, owner=teammate, due_date=dt.date(2026, 5, 29)
        )
    return {
        "availability": availability,
        "latency": latency,
        "incidents": [may_sev2, may_sev3, april_sev1],
        "postmortem": postmortem,
        "items": [done, late],
    }
