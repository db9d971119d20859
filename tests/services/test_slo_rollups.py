"""Stored hour and day rollups: kept equal to the sums of the buckets by every write, built for
buckets stored before them, and the read plan that tells a recompute which of them to read."""

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

from services import snapshots
from services.actions.sli import slo_buckets_upsert
from services.budget.windows import BUCKET, Bucket, align_down, floor_to
from services.models.slos import SLO, SLIBucket, SLIRollup
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


# --- the read plan --------------------------------------------------------------------------------

EPOCH = datetime(2026, 10, 1, tzinfo=UTC)
moments = st.integers(0, 10 * 288).map(lambda n: EPOCH + n * BUCKET)


@st.composite
def plans(draw):
    start, end = sorted(draw(st.lists(moments, min_size=2, max_size=2, unique=True)))
    cuts = draw(st.lists(moments, max_size=12))
    edges = sorted(set(draw(st.lists(moments, max_size=6))))
    excluded = list(zip(edges[::2], edges[1::2], strict=False))
    # Excluded ranges start and end at cuts, as rollup_request() makes them.
    cuts += [edge for excluded_range in excluded for edge in excluded_range]
    return start, end, cuts, excluded


def buckets_of(ranges) -> list[datetime]:
    starts = []
    for low, high in ranges:
        moment = low
        while moment < high:
            starts.append(moment)
            moment += BUCKET
    return starts


@given(plans())
def test_a_read_plan_reads_every_bucket_once_and_no_unit_a_cut_falls_inside(plan):
    start, end, cuts, excluded = plan

    by_span, by_bucket = snapshots.read_plan(start, end, cuts, (DAY, HOUR), excluded)

    read = buckets_of(by_bucket) + [
        moment for ranges in by_span.values() for moment in buckets_of(ranges)
    ]
    expected = [
        moment
        for moment in buckets_of([(start, end)])
        if not any(low <= moment < high for low, high in excluded)
    ]
    assert sorted(read) == expected
    for span, ranges in by_span.items():
        for low, high in ranges:
            assert floor_to(low, span) == low and floor_to(high, span) == high
            assert not any(low < cut < high and floor_to(cut, span) != cut for cut in cuts)


@pytest.mark.django_db
def test_a_thirty_day_slo_with_a_year_of_history_reads_a_few_thousand_rows_not_100_000(service):
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

    request = snapshots.rollup_request(slo, now, excluded=[])

    def units(ranges, length):
        return sum((high - low) // length for low, high in ranges)

    days, hours, buckets = (
        units(request.days, DAY),
        units(request.hours, HOUR),
        units(request.buckets, BUCKET),
    )
    # Whole days from the oldest month up to the window; hours where a day-back, a month
    # start in Kolkata (18:30 UTC) or the look-back windows cut a day; buckets where they cut
    # an hour: 30 day-back cuts, 72 hour-back cuts, 6 bucket-back cuts and 13 month starts.
    assert (request.history, request.buckets[-1][1]) == (
        datetime(2025, 11, 30, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 24, 9, 35, tzinfo=UTC),
    )
    assert 300 < days < 330
    assert hours < 1_200
    assert buckets < 1_500
    assert days * 288 + hours * 12 + buckets == (align_down(now) - request.history) // BUCKET
