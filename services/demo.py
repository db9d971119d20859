"""Demo SLOs for `make run` (called by portal.demo), with 30 days of synthetic 5-minute SLI
buckets.

The SLOs are chosen so that the scorecard shows every state: healthy budgets, one burning
fast enough to page, one overspent by a slow burn (a ticket), one exhausted through bad
timeslices, one whose data stopped arriving, and an outage hidden by a maintenance window.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Max

from services.actions.slos import maintenance_window_create, slo_create, slo_update
from services.actions.statuses import slos_mark_dirty
from services.budget.windows import BUCKET, Bucket, align_down
from services.choices import SLISource
from services.models.catalog import Service
from services.models.slos import SLO
from services.sli.store import slo_buckets_upsert


@dataclass(frozen=True)
class DemoPeriod:
    """A stretch of the history with another bad-event rate: `start_hours_ago` to
    `end_hours_ago` before now."""

    start_hours_ago: float
    end_hours_ago: float
    bad_rate: float


@dataclass(frozen=True)
class DemoSLO:
    service: str
    slug: str
    name: str
    sli_kind: str
    objective: str
    bad_rate: float
    events_per_bucket: int
    outages: tuple[DemoPeriod, ...] = ()
    data_stops_hours_ago: float = 0
    maintenance: DemoPeriod | None = None
    extra: dict | None = None


SLOS = [
    DemoSLO(
        "payments-api",
        "checkout-availability",
        "Checkout availability",
        "availability",
        "99.95",
        0.0001,
        900,
    ),
    DemoSLO(
        "api-gateway",
        "availability",
        "Gateway availability",
        "availability",
        "99.9",
        0.0005,
        3000,
        outages=(DemoPeriod(0.85, 0, 0.03),),
    ),
    DemoSLO(
        "checkout-web",
        "page-loads",
        "Checkout page loads",
        "availability",
        "99.5",
        0.002,
        600,
        extra={"window_kind": "calendar_month", "time_zone": "Europe/Berlin"},
    ),
    DemoSLO(
        "orders",
        "order-placement",
        "Order placement",
        "error_rate",
        "99.9",
        0.0013,
        800,
    ),
    DemoSLO(
        "search-api",
        "query-latency",
        "Queries under 200 ms",
        "latency",
        "99.0",
        0.02,
        1500,
        outages=(DemoPeriod(80, 70, 0.1),),
        extra={"budgeting_method": "timeslices", "slice_minutes": 5, "slice_target": "95"},
    ),
    DemoSLO(
        "event-pipeline",
        "event-delivery",
        "Events delivered intact",
        "correctness",
        "99.0",
        0.003,
        2000,
        data_stops_hours_ago=2,
    ),
    DemoSLO(
        "fraud-scoring",
        "scoring-availability",
        "Scoring availability",
        "availability",
        "99.9",
        0.0002,
        700,
        maintenance=DemoPeriod(122, 120, 0.4),
    ),
]

DEMO_HISTORY_DAYS = 30


def _demo_query(demo: DemoSLO, selector: str) -> str:
    job = demo.service.replace("-", "_")
    return f"sum(rate({job}_events_total{{{selector}}}[{{{{.window}}}}]))"


def load_demo_slos(now: datetime) -> None:
    """Create the demo SLOs that are missing and fill their history up to now: 30 days on the
    first load, then only the buckets since the newest stored one. The demo SLOs are fed by
    pushes: no Prometheus runs under `make run`, and the worker pushes their new buckets every
    few minutes (services.tasks.push_demo_sli_data) as another system would. The worker computes
    the snapshots, as it does after every push."""
    services = {
        service.slug: service
        for service in Service.objects.filter(slug__in=[demo.service for demo in SLOS])
    }
    existing = {
        (slo.service.slug, slo.slug): slo
        for slo in SLO.objects.select_related("service")
        .filter(service__slug__in=services)
        .annotate(newest_bucket=Max("buckets__start"))
    }
    for demo in SLOS:
        if demo.service not in services:
            continue
        slo = existing.get((demo.service, demo.slug))
        if slo is None:
            slo = slo_create(
                service=services[demo.service],
                name=demo.name,
                slug=demo.slug,
                sli_kind=demo.sli_kind,
                objective=Decimal(demo.objective),
                source=SLISource.PUSH,
                events_query=_demo_query(demo, 'outcome="good"'),
                total_query=_demo_query(demo, ""),
                **(demo.extra or {}),
            )
            if demo.maintenance:
                maintenance_window_create(
                    slo=slo,
                    start=now - timedelta(hours=demo.maintenance.start_hours_ago),
                    end=now - timedelta(hours=demo.maintenance.end_hours_ago),
                    reason="Database failover drill",
                )
        elif slo.source != SLISource.PUSH:  # created before demo SLOs were fed by pushes
            slo_update(slo=slo, source=SLISource.PUSH)
        newest = getattr(slo, "newest_bucket", None)
        since = None if newest is None else newest + BUCKET
        slo_buckets_upsert(slo=slo, buckets=_synthetic_buckets(demo, now, since))
        slos_mark_dirty(slo_ids=[slo.pk])


def _synthetic_buckets(demo: DemoSLO, now: datetime, since: datetime | None) -> list[Bucket]:
    """5-minute buckets from `since` (at most 30 days back) to now, with a daily traffic cycle
    and noise seeded by the bucket's start, so the same moment always draws the same counts."""
    end = align_down(now - timedelta(hours=demo.data_stops_hours_ago))
    start = align_down(now) - timedelta(days=DEMO_HISTORY_DAYS)
    if since is not None:
        start = max(start, since)
    periods = [period for period in (*demo.outages, demo.maintenance) if period]
    buckets = []
    moment = start
    while moment < end:
        rng = random.Random(f"{demo.slug}:{moment.timestamp()}")
        hours_ago = (now - moment) / timedelta(hours=1)
        daily_cycle = 1 + 0.5 * math.sin(2 * math.pi * (moment.hour + moment.minute / 60) / 24)
        total = round(demo.events_per_bucket * daily_cycle * rng.uniform(0.9, 1.1))
        rate = next(
            (
                period.bad_rate
                for period in periods
                if period.end_hours_ago <= hours_ago < period.start_hours_ago
            ),
            demo.bad_rate,
        )
        expected_bad = total * rate * rng.uniform(0.5, 1.5)
        bad = min(total, int(expected_bad) + (rng.random() < expected_bad % 1))
        buckets.append(Bucket(start=moment, good=total - bad, total=total))
        moment += BUCKET
    return buckets
