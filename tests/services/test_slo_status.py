"""Status snapshots computed in the database: the figures of a synced SLO against values worked
out by hand, the SQL path against the budget engine's in-memory path, chart series, monthly
history, staleness, policy tiers and the recompute of every SLO."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from services.actions import statuses
from services.actions.sli import slo_sync
from services.actions.statuses import (
    _snapshot_inputs,
    slo_status_recompute,
    slo_statuses_recompute,
)
from services.budget import evaluation as evaluation_budget
from services.budget.figures import Timeslices
from services.budget.in_memory import evaluate_buckets, monthly_attainment
from services.budget.windows import (
    BUCKET,
    Bucket,
    Interval,
    align_down,
    excluded_bucket_ranges,
    observed_end,
    window_bounds,
)
from services.models.slos import SLO, BudgetPolicy, BudgetPolicyTier, MaintenanceWindow, SLOStatus
from services.sli import plan, read, snapshot
from services.sli.store import slo_buckets_upsert
from services.sli.types import SLIGroup
from tests.services.prometheus import checkout

NOW = datetime(2026, 11, 1, 12, 0, 30, tzinfo=UTC)


def store(slo, *buckets: Bucket) -> None:
    """Buckets stored as a sync stores them, rollups included."""
    slo_buckets_upsert(slo=slo, buckets=buckets)


def recompute(slo, now=NOW) -> SLOStatus:
    with time_machine.travel(now, tick=False):
        return slo_status_recompute(slo=slo, now=now)


def sync(slo, now=NOW) -> SLOStatus:
    """A sync, then the recompute that follows it."""
    with time_machine.travel(now, tick=False):
        slo_sync(slo=slo, now=now)
    return recompute(slo, now)


@pytest.mark.django_db
def test_a_synced_slo_s_figures_equal_the_hand_computed_ones(prometheus, checkout_slo):
    status = sync(checkout_slo)

    # The day before 12:00 holds 288 buckets; the gap leaves 4 without data. 281 ordinary
    # buckets hold 500 good of 505, the fast burn's 3 hold 500 good of 600.
    good, bad = 284 * 500, 281 * 5 + 3 * 100
    share = 1 - 0.985
    assert status.attainment == pytest.approx(good / (good + bad))
    assert status.allowed_bad == pytest.approx(share * (good + bad))
    assert status.bad == bad
    assert status.remaining == pytest.approx(1 - bad / (share * (good + bad)))
    assert status.coverage == pytest.approx(284 / 288)
    # The last hour: 9 ordinary buckets and the fast burn's 3.
    assert status.burn_rates["1h"] == pytest.approx((9 * 5 + 300) / (9 * 505 + 3 * 600) / share)
    assert status.burn_rates["5m"] == pytest.approx(5 / 505 / share)
    assert status.burn_rates["30m"] == pytest.approx((3 * 5 + 300) / (3 * 505 + 1800) / share)
    # A one-day window scales the page threshold to 14.4 / 30 = 0.48: 1h and 5m both exceed it.
    assert status.alert == "page"
    assert status.policy_tier == "caution"
    assert status.latest_data_at == datetime(2026, 11, 1, 11, 55, tzinfo=UTC)
    assert not status.stale
    assert status.window_start == datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    assert status.window_end == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert status.time_until_exhaustion == timedelta(days=1) * (
        status.remaining / status.burn_rates["1h"]
    )


def random_buckets(start: datetime, end: datetime, seed: int) -> list[Bucket]:
    """Buckets with varied counts, some missing and some empty, from `start` to `end`."""
    generator = random.Random(seed)
    buckets, moment = [], start
    while moment < end:
        if generator.random() > 0.05:
            total = generator.choice([0, 50, 100, 1000])
            good = total - generator.choice([0, 0, 0, 1, 5, total // 10])
            buckets.append(Bucket(moment, max(good, 0), total))
        moment += BUCKET
    return buckets


def stored_status_as_engine_status(status: SLOStatus) -> dict:
    return {
        "attainment": status.attainment,
        "remaining": status.remaining,
        **{f"burn {key}": rate for key, rate in status.burn_rates.items()},
        "alert": status.alert,
        "coverage": status.coverage,
        "stale": status.stale,
        "policy_tier": status.policy_tier,
    }


def engine_status(figures: evaluation_budget.SLOStatus) -> dict:
    return {
        "attainment": figures.attainment,
        "remaining": figures.remaining,
        **{f"burn {key}": rate for key, rate in figures.burn_rates.items()},
        "alert": figures.alert,
        "coverage": figures.coverage,
        "stale": figures.stale,
        "policy_tier": figures.policy_tier,
    }


SLO_SHAPES = {
    "rolling occurrences": {},
    "rolling timeslices": {
        "budgeting_method": "timeslices",
        "slice_minutes": 15,
        "slice_target": Decimal("99"),
    },
    "rolling timeslices of one bucket": {
        "budgeting_method": "timeslices",
        "slice_minutes": 5,
        "slice_target": Decimal("99.5"),
    },
    "calendar month in Kolkata": {"window_kind": "calendar_month", "time_zone": "Asia/Kolkata"},
    "calendar month in Kathmandu": {
        "window_kind": "calendar_month",
        "time_zone": "Asia/Kathmandu",
    },
    "calendar month timeslices": {
        "window_kind": "calendar_month",
        "time_zone": "Europe/Berlin",
        "budgeting_method": "timeslices",
        "slice_minutes": 60,
        "slice_target": Decimal("95"),
    },
}


def shaped_slo(service, shape, now) -> tuple[SLO, list[Bucket], list[Interval]]:
    """An SLO of the shape with five weeks of varied buckets (across a month's end in every time
    zone, so that months, days and hours of rollups all come into play) and two maintenance
    windows."""
    slo = SLO.objects.create(
        service=service,
        name="Shape",
        slug="shape",
        objective=Decimal("99.5"),
        window_days=7,
        events_query=checkout.EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
        **SLO_SHAPES[shape],
    )
    maintenance = [
        (datetime(2026, 11, 1, 3, 7, tzinfo=UTC), datetime(2026, 11, 1, 5, 0, tzinfo=UTC)),
        (datetime(2026, 11, 3, 6, 0, tzinfo=UTC), datetime(2026, 11, 3, 6, 40, tzinfo=UTC)),
    ]
    for start, end in maintenance:
        MaintenanceWindow.objects.create(slo=slo, start=start, end=end, reason="upgrade")
    buckets = random_buckets(datetime(2026, 9, 28, tzinfo=UTC), now, seed=len(shape))
    slo_buckets_upsert(slo=slo, buckets=buckets)
    return slo, buckets, maintenance


#: A recompute's moment off every hour, and one at midnight (where days and hours of rollups
#: line up with the windows).
RECOMPUTE_MOMENTS = [
    datetime(2026, 11, 3, 7, 42, tzinfo=UTC),
    datetime(2026, 11, 3, 0, 0, 10, tzinfo=UTC),
]


@pytest.mark.django_db
@pytest.mark.parametrize("now", RECOMPUTE_MOMENTS, ids=["off the hour", "at midnight"])
@pytest.mark.parametrize("shape", SLO_SHAPES)
def test_the_database_path_computes_what_the_in_memory_engine_computes(service, shape, now):
    slo, buckets, maintenance = shaped_slo(service, shape, now)
    window = window_bounds(now, kind=slo.window_kind, days=7, tz=slo.time_zone)
    timeslices = None
    if slo.budgeting_method == "timeslices":
        timeslices = Timeslices(timedelta(minutes=slo.slice_minutes), float(slo.slice_target) / 100)

    status = recompute(slo, now)

    expected = evaluate_buckets(
        buckets,
        objective=0.995,
        window=window,
        now=now,
        timeslices=timeslices,
        exclusions=maintenance,
    )
    assert stored_status_as_engine_status(status) == pytest.approx(engine_status(expected))
    months = monthly_attainment(
        [b for b in buckets if b.start < observed_end(window, now)],
        objective=0.995,
        start=datetime(2025, 12, 1, tzinfo=UTC),
        end=observed_end(window, now),
        tz=slo.time_zone,
        timeslices=timeslices,
        exclusions=maintenance,
    )
    assert [month["attainment"] for month in status.monthly][-len(months) :] == pytest.approx(
        [month.attainment for month in months]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("now", RECOMPUTE_MOMENTS, ids=["off the hour", "at midnight"])
@pytest.mark.parametrize("shape", SLO_SHAPES)
def test_the_python_executor_for_sqlite_gives_the_snapshot_postgresql_gives(service, shape, now):
    slo, _, maintenance = shaped_slo(service, shape, now)
    request = plan.read_request(slo, now, excluded_bucket_ranges(maintenance))
    end = plan.epoch(align_down(now))
    inputs = _snapshot_inputs([slo])[slo.pk]

    in_python = read.groups_in_python([request], end=end)[slo.pk]
    in_postgresql = read.slo_groups([request], end=end)[slo.pk]

    def fields(groups):
        return snapshot.status_fields(slo, now, groups, None, inputs)

    assert fields(in_python) == fields(in_postgresql)
    # PostgreSQL reads stored rollups where Python reads every bucket: the same sums, fewer rows.
    assert sum(SLIGroup(*group).present for group in in_python) == sum(
        SLIGroup(*group).present for group in in_postgresql
    )
    assert len(in_postgresql) > 14


@pytest.mark.django_db
def test_the_chart_series_end_at_the_snapshot_s_figures(prometheus, checkout_slo):
    status = sync(checkout_slo)

    # A point at the one midnight inside the day's window, and one at its end.
    budget_points = status.series["budget"]
    assert [point[0] for point in budget_points] == [
        "2026-11-01T00:00:00+00:00",
        "2026-11-01T12:00:00+00:00",
    ]
    # Chart values keep five significant digits.
    assert budget_points[-1][1] == pytest.approx(status.remaining, rel=1e-4)
    burn_points = status.series["burn_1h"]
    assert len(burn_points) == 24
    assert burn_points[-1] == [
        "2026-11-01T12:00:00+00:00",
        pytest.approx(status.burn_rates["1h"], rel=1e-4),
    ]
    # The hour of the gap (10:00 to 11:00) still has data; an hour without any shows none.
    assert burn_points[0] == ["2026-10-31T13:00:00+00:00", pytest.approx(5 / 505 / 0.015, rel=1e-4)]


@pytest.mark.django_db
def test_the_budget_burn_down_has_a_point_per_midnight_falling_with_each_day_s_bad_events(
    service,
):
    slo = SLO.objects.create(
        service=service,
        name="Week",
        slug="week",
        objective=Decimal("99"),
        window_days=3,
        events_query=checkout.EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
    )
    start = datetime(2026, 10, 29, 12, 0, tzinfo=UTC)
    # 100 events a bucket; 1 bad a bucket on the first day, none on the second, 2 on the third
    # (days from noon to noon).
    bad_per_day = [1, 0, 2]
    store(
        slo,
        *(Bucket(start + n * BUCKET, 100 - bad_per_day[n // 288], 100) for n in range(3 * 288)),
    )

    status = recompute(slo)

    allowed = 0.01 * 3 * 288 * 100
    assert status.series["budget"] == [
        # Noon to midnight on the first day: 144 buckets with one bad event each.
        ["2026-10-30T00:00:00+00:00", pytest.approx(1 - 144 / allowed, rel=1e-4)],
        ["2026-10-31T00:00:00+00:00", pytest.approx(1 - 288 / allowed, rel=1e-4)],
        ["2026-11-01T00:00:00+00:00", pytest.approx(1 - (288 + 288) / allowed, rel=1e-4)],
        ["2026-11-01T12:00:00+00:00", pytest.approx(1 - 3 * 288 / allowed, abs=1e-9)],
    ]
    assert status.remaining == pytest.approx(0)


@pytest.mark.django_db
def test_monthly_history_covers_twelve_calendar_months_and_says_which_were_met(service):
    slo = SLO.objects.create(
        service=service,
        name="History",
        slug="history",
        objective=Decimal("99"),
        events_query=checkout.EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
    )
    store(slo, Bucket(datetime(2026, 9, 15, tzinfo=UTC), 995, 1000))
    store(slo, Bucket(datetime(2026, 10, 2, tzinfo=UTC), 98, 100))

    status = recompute(slo)

    assert len(status.monthly) == 12
    assert status.monthly[0]["start"] == "2025-12-01T00:00:00+00:00"
    by_start = {month["start"][:7]: month for month in status.monthly}
    assert by_start["2026-09"]["attainment"] == pytest.approx(0.995)
    assert by_start["2026-09"]["met"] is True
    assert by_start["2026-10"]["attainment"] == pytest.approx(0.98)
    assert by_start["2026-10"]["met"] is False
    assert by_start["2026-11"] == {
        "start": "2026-11-01T00:00:00+00:00",
        "end": "2026-12-01T00:00:00+00:00",
        "attainment": None,
        "met": None,
    }


@pytest.mark.django_db
def test_an_slo_whose_newest_data_is_older_than_the_staleness_limit_is_stale(
    checkout_slo, settings
):
    settings.SLI_STALE_AFTER_MINUTES = 15
    store(checkout_slo, Bucket(datetime(2026, 11, 1, 11, 40, tzinfo=UTC), 1, 1))

    assert not recompute(checkout_slo, datetime(2026, 11, 1, 12, 0, tzinfo=UTC)).stale
    assert recompute(checkout_slo, datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC)).stale


@pytest.mark.django_db
def test_an_slo_without_any_data_has_no_figures_rather_than_perfect_ones(checkout_slo):
    status = recompute(checkout_slo)

    assert status.attainment is None
    assert status.remaining is None
    assert status.coverage == 0
    assert set(status.burn_rates.values()) == {None}
    assert status.policy_tier == "unknown"
    assert status.stale


@pytest.mark.django_db
def test_the_tier_comes_from_the_slo_s_own_budget_policy(checkout_slo):
    policy = BudgetPolicy.objects.create(name="Strict", slug="strict")
    BudgetPolicyTier.objects.create(
        policy=policy, name="open", min_remaining=Decimal("0.9"), change_rule="allow"
    )
    BudgetPolicyTier.objects.create(policy=policy, name="shut", change_rule="freeze")
    checkout_slo.budget_policy = policy
    checkout_slo.save()
    # 0.4 % bad against a 1.5 % budget: 73 % left, healthy by default, "shut" by this policy.
    store(checkout_slo, Bucket(datetime(2026, 11, 1, 11, 0, tzinfo=UTC), 996, 1000))

    status = recompute(checkout_slo)

    assert status.remaining == pytest.approx(1 - 4 / 15)
    assert status.policy_tier == "shut"


@pytest.mark.django_db
def test_a_recompute_keeps_the_last_sync_s_outcome(checkout_slo):
    SLOStatus.objects.create(
        slo=checkout_slo,
        computed_at=NOW,
        window_start=NOW,
        window_end=NOW,
        last_sync_at=NOW - timedelta(minutes=3),
        last_sync_error="Prometheus answered 503",
    )

    status = recompute(checkout_slo)

    assert status.last_sync_at == NOW - timedelta(minutes=3)
    assert status.last_sync_error == "Prometheus answered 503"
    assert status.stale


def make_slos(service, count) -> list[SLO]:
    """SLOs numbered from those already there, each with one bucket of 100 events: the nth has
    n bad ones."""
    slos = []
    for number in range(SLO.objects.count(), count):
        slo = SLO.objects.create(
            service=service,
            name=f"SLO {number}",
            slug=f"slo-{number}",
            objective=Decimal("90"),
            window_days=1,
            events_query=checkout.EVENTS_QUERY,
            total_query=checkout.TOTAL_QUERY,
        )
        store(slo, Bucket(datetime(2026, 11, 1, 11, 50, tzinfo=UTC), 100 - number, 100))
        slos.append(slo)
    return slos


@pytest.mark.django_db
def test_recomputing_every_slo_writes_each_snapshot_and_keeps_sync_outcomes(service):
    slos = make_slos(service, 3)
    SLOStatus.objects.create(
        slo=slos[0],
        computed_at=NOW,
        window_start=NOW,
        window_end=NOW,
        last_sync_error="Prometheus answered 503",
    )

    assert slo_statuses_recompute(now=NOW) == 3

    statuses = {status.slo_id: status for status in SLOStatus.objects.all()}
    assert [statuses[slo.pk].attainment for slo in slos] == [1.0, 0.99, 0.98]
    assert statuses[slos[0].pk].last_sync_error == "Prometheus answered 503"
    assert statuses[slos[0].pk].stale
    assert not statuses[slos[1].pk].stale
    assert statuses[slos[0].pk].computed_at == NOW


@pytest.mark.django_db
def test_recomputing_every_slo_takes_the_same_queries_for_few_and_for_many(
    service, django_assert_max_num_queries
):
    # The SLOs, failing syncs, maintenance windows, policies with their tiers; per 250 SLOs the
    # groups (their planner settings set and put back, in a savepoint inside the test's
    # transaction) and the newest data; the write (create, copy, upsert and drop a temporary
    # table, in a savepoint too); the judged figures before the write and the services whose
    # checks they move, marked (three).
    for size in (2, 12):
        make_slos(service, size)
        with django_assert_max_num_queries(5 + 5 + 1 + 6 + 3):
            assert slo_statuses_recompute(now=NOW) == size


@pytest.mark.django_db
def test_the_metrics_read_every_snapshot_in_a_constant_number_of_queries(
    service, client, settings, django_assert_max_num_queries
):
    settings.METRICS_TOKEN = "scrape-secret"
    for size in (1, 6):
        for number in range(SLO.objects.count(), size):
            slo = SLO.objects.create(
                service=service,
                name=f"SLO {number}",
                slug=f"slo-{number}",
                objective=Decimal("99"),
                events_query=checkout.EVENTS_QUERY,
                total_query=checkout.TOTAL_QUERY,
            )
            recompute(slo)
        # The SLO gauges' queries, and the compliance gauges' two.
        with django_assert_max_num_queries(5):
            response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
        assert response.content.decode().count("portal_slo_stale{") == size


@pytest.mark.django_db(transaction=True)
def test_batches_recomputed_side_by_side_give_the_snapshots_one_connection_gives(
    service, monkeypatch
):
    monkeypatch.setattr(statuses, "RECOMPUTE_BATCH", 2)
    slos = make_slos(service, 5)
    with transaction.atomic():  # an open transaction keeps the work on this connection
        slo_statuses_recompute(now=NOW)
    one_connection = {status.slo_id: status.attainment for status in SLOStatus.objects.all()}
    SLOStatus.objects.all().delete()

    assert slo_statuses_recompute(now=NOW) == 5

    side_by_side = {status.slo_id: status.attainment for status in SLOStatus.objects.all()}
    assert side_by_side == one_connection
    assert [side_by_side[slo.pk] for slo in slos] == [1.0, 0.99, 0.98, 0.97, 0.96]
