"""Stored hour and day rollups: kept equal to the sums of the buckets by every write (with the
slices of timeslice SLOs judged), built for buckets stored before them, and the read plan that
tells a recompute which of them to read."""

import importlib
import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from services.actions.slos import slo_update
from services.budget.windows import BUCKET, Bucket, align_down, floor_to
from services.models.slos import SLO, SLIBucket, SLIRollup
from services.sli import plan
from services.sli.store import slo_buckets_upsert
from tests.services.prometheus import checkout

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
START = datetime(2026, 10, 30, 21, 35, tzinfo=UTC)


def bucket_sums(slo) -> dict[tuple[int, datetime], tuple[int, int, int]]:
    """{(span, unit start): (good, total, buckets with data)} summed here from the buckets."""
    sums: dict[tuple[int, datetime], list[int]] = {}
    for bucket in SLIBucket.objects.filter(slo=slo):
        for span in SLIRollup.Span:
            unit = floor_to(bucket.start, timedelta(seconds=span))
            row = sums.setdefault((span.value, unit), [0, 0, 0])
            row[0] += bucket.good
            row[1] += bucket.total
            row[2] += bucket.total > 0
    return {key: tuple(row) for key, row in sums.items()}


def stored_rollups(slo) -> dict[tuple[int, datetime], tuple[int, int, int]]:
    return {
        (rollup.span, rollup.start): (rollup.good, rollup.total, rollup.present)
        for rollup in SLIRollup.objects.filter(slo=slo)
    }


def varied_buckets(first: datetime, count: int, seed: int) -> list[Bucket]:
    generator = random.Random(seed)
    buckets = []
    for number in range(count):
        total = generator.choice([0, 10, 100, 1000])
        buckets.append(
            Bucket(first + number * BUCKET, total - generator.randint(0, total // 10), total)
        )
    return buckets


@pytest.mark.django_db
def test_every_write_keeps_the_rollups_equal_to_the_sums_of_the_buckets(checkout_slo):
    # Two days from 21:35 across a midnight, then a re-sync replacing an hour that straddles
    # no boundary of its own but sits inside a day already summed, then a late bucket alone.
    slo_buckets_upsert(slo=checkout_slo, buckets=varied_buckets(START, 576, seed=1))
    slo_buckets_upsert(
        slo=checkout_slo, buckets=varied_buckets(START + 5 * HOUR + 25 * BUCKET, 12, seed=2)
    )
    slo_buckets_upsert(slo=checkout_slo, buckets=[Bucket(START - DAY, 3, 4)])

    rollups = stored_rollups(checkout_slo)

    assert rollups == bucket_sums(checkout_slo)
    assert {span for span, _ in rollups} == {3600, 86400}
    assert rollups[(86400, datetime(2026, 10, 29, tzinfo=UTC))] == (3, 4, 1)


@pytest.mark.django_db(transaction=True)
def test_writes_to_one_slo_at_once_leave_no_bucket_out_of_the_rollups(checkout_slo):
    """A sync still in its transaction and a push into the same hour: the push waits for the
    sync, so its rollups include the sync's bucket."""
    sync_stored, push_done = threading.Event(), threading.Event()
    errors = []

    def sync():
        try:
            with transaction.atomic():
                slo_buckets_upsert(slo=checkout_slo, buckets=[Bucket(START, 9, 10)])
                sync_stored.set()
                # The push runs meanwhile, up to the lock, and must not finish before this commit.
                assert not push_done.wait(timeout=1)
        except Exception as error:  # a thread cannot raise into the test: collect it
            errors.append(error)
        finally:
            connection.close()

    def push():
        try:
            sync_stored.wait(timeout=10)
            slo_buckets_upsert(slo=checkout_slo, buckets=[Bucket(START + BUCKET, 7, 10)])
            push_done.set()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sync), threading.Thread(target=push)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert stored_rollups(checkout_slo) == bucket_sums(checkout_slo)
    assert stored_rollups(checkout_slo)[(3600, floor_to(START, HOUR))] == (16, 20, 2)


@pytest.mark.django_db
def test_the_migration_sums_the_buckets_stored_before_rollups_existed(checkout_slo):
    slo_buckets_upsert(slo=checkout_slo, buckets=varied_buckets(START, 300, seed=3))
    expected = stored_rollups(checkout_slo)
    SLIRollup.objects.all().delete()
    migration = importlib.import_module("services.migrations.0005_sli_rollups")

    migration.sum_stored_buckets(apps, schema_editor=None)

    assert stored_rollups(checkout_slo) == expected == bucket_sums(checkout_slo)


def judged_slices(slo, slice_minutes: int, target: float) -> dict[tuple[int, datetime], tuple]:
    """{(span, unit start): (good slices, bad slices)} judged here from the buckets."""
    length = timedelta(minutes=slice_minutes)
    sums: dict[datetime, list[int]] = {}
    for bucket in SLIBucket.objects.filter(slo=slo):
        slice_sums = sums.setdefault(floor_to(bucket.start, length), [0, 0])
        slice_sums[0] += bucket.good
        slice_sums[1] += bucket.total
    judged: dict[tuple[int, datetime], list[int]] = {}
    for start, (good, total) in sums.items():
        for span in SLIRollup.Span:
            row = judged.setdefault((span.value, floor_to(start, timedelta(seconds=span))), [0, 0])
            if total:
                row[0 if good / total >= target else 1] += 1
    return {key: tuple(row) for key, row in judged.items()}


@pytest.mark.django_db
def test_the_rollups_of_a_timeslice_slo_carry_its_slices_judged_and_follow_its_definition(
    checkout_slo,
):
    slo_update(
        slo=checkout_slo,
        budgeting_method="timeslices",
        slice_minutes=15,
        slice_target=Decimal("95"),
    )
    slo_buckets_upsert(slo=checkout_slo, buckets=varied_buckets(START, 300, seed=4))

    def stored_judgement():
        return {
            (rollup.span, rollup.start): (rollup.good_slices, rollup.bad_slices)
            for rollup in SLIRollup.objects.filter(slo=checkout_slo)
        }

    assert stored_judgement() == judged_slices(checkout_slo, 15, 0.95)
    assert sum(bad for _, bad in stored_judgement().values()) > 0

    # A new slice length or target re-judges every stored rollup.
    slo_update(slo=checkout_slo, slice_minutes=60, slice_target=Decimal("99.9"))

    assert stored_judgement() == judged_slices(checkout_slo, 60, 0.999)


@pytest.mark.django_db
def test_the_judged_slices_migration_judges_the_rollups_of_timeslice_slos(checkout_slo):
    SLO.objects.filter(pk=checkout_slo.pk).update(
        budgeting_method="timeslices", slice_minutes=5, slice_target=Decimal("99")
    )
    slo_buckets_upsert(slo=checkout_slo, buckets=varied_buckets(START, 100, seed=5))
    SLIRollup.objects.update(good_slices=0, bad_slices=0)
    migration = importlib.import_module(
        "services.migrations.0008_dirty_slos_judged_slices_bounded_counts"
    )

    migration.bound_buckets_and_judge_slices(apps, schema_editor=None)

    judged = {
        (rollup.span, rollup.start): (rollup.good_slices, rollup.bad_slices)
        for rollup in SLIRollup.objects.filter(slo=checkout_slo)
    }
    assert judged == judged_slices(checkout_slo, 5, 0.99)


# --- the read plan --------------------------------------------------------------------------------

EPOCH = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
SECONDS = {"bucket": 300, "hour": 3600, "day": 86400}
moments = st.integers(0, 10 * 288).map(lambda n: EPOCH + n * 300)


@st.composite
def plans(draw):
    start, end = sorted(draw(st.lists(moments, min_size=2, max_size=2, unique=True)))
    cuts = draw(st.lists(moments, max_size=12))
    edges = sorted(set(draw(st.lists(moments, max_size=6))))
    excluded = list(zip(edges[::2], edges[1::2], strict=False))
    # Excluded ranges start and end at cuts, as read_request() makes them.
    cuts += [edge for excluded_range in excluded for edge in excluded_range]
    return start, end, cuts, excluded


def buckets_of(ranges) -> list[int]:
    return [moment for low, high in ranges for moment in range(low, high, 300)]


@given(plans())
def test_a_read_plan_reads_every_bucket_once_and_no_unit_a_cut_falls_inside(plan_input):
    start, end, cuts, excluded = plan_input

    ranges = plan.read_plan(start, end, cuts, (SECONDS["day"], SECONDS["hour"]), excluded)

    read = [moment for span_ranges in ranges.values() for moment in buckets_of(span_ranges)]
    expected = [
        moment
        for moment in range(start, end, 300)
        if not any(low <= moment < high for low, high in excluded)
    ]
    assert sorted(read) == expected
    for span, span_ranges in ranges.items():
        for low, high in span_ranges:
            assert low % span == 0 and high % span == 0
            assert not any(low < cut < high and cut % span for cut in cuts)


@pytest.mark.django_db
def test_a_thirty_day_slo_with_a_year_of_history_reads_a_few_hundred_rows_not_100_000(service):
    slo = SLO.objects.create(
        service=service,
        name="Checkout",
        slug="checkout-year",
        objective=Decimal("99.9"),
        events_query=checkout.EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
        time_zone="Asia/Kolkata",
    )
    now = datetime(2026, 11, 24, 9, 37, 12, tzinfo=UTC)

    request = plan.read_request(slo, now, excluded=[])

    def units(span):
        return sum((high - low) // span for low, high in request.ranges.get(span, []))

    days, hours, buckets = units(86400), units(3600), units(300)
    # Whole days from the oldest month up to the last three days; hours there (the burn-rate
    # chart keeps each apart) and where a month start in Kolkata (18:30 UTC) or the window's
    # start cuts a day; buckets only where a look-back window, the window or a month starts
    # inside an hour.
    assert datetime.fromtimestamp(request.history, UTC) == datetime(
        2025, 11, 30, 18, 30, tzinfo=UTC
    )
    assert 300 < days < 365
    assert hours < 72 + 13 * 24 + 24
    assert buckets < 250
    assert (
        days * 288 + hours * 12 + buckets
        == (int(align_down(now).timestamp()) - request.history) // 300
    )
