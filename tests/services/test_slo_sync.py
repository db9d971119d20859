"""The SLI sync from a real Prometheus (the suite's, holding tests/services/prometheus/checkout.py's
counters), the buckets it stores, its failures and retries, the push of buckets from elsewhere,
the sync_slis command and the sync's figures in /metrics."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Min, Sum

from services import tasks
from services.actions import statuses
from services.actions.sli import slo_buckets_push, slo_sync
from services.actions.slos import slo_update
from services.actions.statuses import slo_statuses_recompute_dirty, slos_mark_dirty
from services.budget.windows import BUCKET, Bucket
from services.models.slos import SLO, DirtySLO, SLIBucket, SLOStatus
from services.prometheus import PrometheusQueryError, PrometheusUnavailable
from services.sli.store import slo_buckets_upsert
from tests.portal.test_metrics import sample, scrape
from tests.portal.test_tasks import wait_for
from tests.servers import free_port
from tests.services.prometheus import checkout

#: Half a minute after the 12:00 scrape on the data's last day; the SLO's window is the day
#: before the bucket in progress.
NOW = datetime(2026, 11, 1, 12, 0, 30, tzinfo=UTC)
WINDOW = (datetime(2026, 10, 31, 12, 0, tzinfo=UTC), datetime(2026, 11, 1, 12, 0, tzinfo=UTC))


def stored(slo) -> dict[datetime, tuple[int, int]]:
    return {
        start: (good, total)
        for start, good, total in SLIBucket.objects.filter(slo=slo).values_list(
            "start", "good", "total"
        )
    }


def sync(slo, now=NOW):
    """A sync, then the recompute of the dirty SLOs that follows a sync cycle."""
    with time_machine.travel(now, tick=False):
        try:
            return slo_sync(slo=slo, now=now)
        finally:
            slo_statuses_recompute_dirty(now=now)


def errors_counted(slo, kind: str) -> int:
    """The SLO's failed syncs of one kind, as stored for /metrics."""
    status = SLOStatus.objects.filter(slo=slo).first()
    return getattr(status, f"{kind}_sync_errors", 0)


@pytest.fixture
def unreachable_prometheus(settings):
    """A loopback port nothing listens on."""
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{free_port()}"


@pytest.mark.django_db
def test_the_first_sync_stores_every_bucket_of_the_window_with_exact_counts(
    prometheus, checkout_slo
):
    result = sync(checkout_slo)

    expected = checkout.expected_buckets(*WINDOW)
    assert stored(checkout_slo) == expected
    assert result.buckets_written == len(expected) == 288 - 4
    # The counter reset at 11:02 is made up for: that bucket holds its 500 good requests.
    assert stored(checkout_slo)[datetime(2026, 11, 1, 11, 0, tzinfo=UTC)] == (500, 505)
    # The fast burn from 11:30 to 11:45.
    assert stored(checkout_slo)[datetime(2026, 11, 1, 11, 35, tzinfo=UTC)] == (500, 600)


@pytest.mark.django_db
def test_buckets_in_a_scrape_gap_are_left_absent_rather_than_stored_as_perfect(
    prometheus, checkout_slo
):
    sync(checkout_slo)

    starts = set(stored(checkout_slo))
    gap = [datetime(2026, 11, 1, 10, minute, tzinfo=UTC) for minute in (20, 25, 30, 35)]
    assert starts.isdisjoint(gap)
    assert {gap[0] - BUCKET, gap[-1] + BUCKET} <= starts


@pytest.mark.django_db
def test_the_backfill_reaches_back_no_further_than_the_slo_window(prometheus, checkout_slo):
    # Prometheus holds data from 10-31 00:00, twelve hours before the window starts.
    sync(checkout_slo)

    first = SLIBucket.objects.filter(slo=checkout_slo).aggregate(first=Min("start"))["first"]
    assert first == WINDOW[0]
    assert WINDOW[0] > checkout.FIRST_SCRAPE


@pytest.mark.django_db
def test_a_second_sync_stores_nothing_new_and_counts_nothing_twice(prometheus, checkout_slo):
    sync(checkout_slo)
    before = stored(checkout_slo)

    sync(checkout_slo)

    assert stored(checkout_slo) == before
    totals = SLIBucket.objects.filter(slo=checkout_slo).aggregate(Sum("good"), Sum("total"))
    assert totals == {
        "good__sum": sum(good for good, _ in before.values()),
        "total__sum": sum(total for _, total in before.values()),
    }


@pytest.mark.django_db
def test_a_sync_five_minutes_later_adds_the_one_bucket_completed_since(prometheus, checkout_slo):
    sync(checkout_slo)
    count = len(stored(checkout_slo))

    sync(checkout_slo, NOW + timedelta(minutes=5))

    buckets = stored(checkout_slo)
    assert len(buckets) == count + 1
    assert buckets[datetime(2026, 11, 1, 12, 0, tzinfo=UTC)] == (500, 505)


@pytest.mark.django_db
def test_after_an_outage_the_next_sync_fetches_every_missed_bucket(prometheus, checkout_slo):
    sync(checkout_slo, datetime(2026, 11, 1, 6, 0, 30, tzinfo=UTC))

    sync(checkout_slo)

    assert stored(checkout_slo) == checkout.expected_buckets(
        datetime(2026, 10, 31, 6, 0, tzinfo=UTC), WINDOW[1]
    )


@pytest.mark.django_db
def test_a_bad_events_query_stores_good_events_as_total_minus_bad(prometheus, service):
    slo = SLO.objects.create(
        service=service,
        name="Checkout errors",
        slug="checkout-errors",
        objective=Decimal("98.5"),
        window_days=1,
        query_kind="bad_total",
        events_query=checkout.BAD_EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
    )

    sync(slo)

    assert stored(slo) == checkout.expected_buckets(*WINDOW)


@pytest.mark.django_db
def test_while_prometheus_is_unreachable_the_status_is_stale_and_nothing_stored_is_lost(
    prometheus, checkout_slo, settings
):
    sync(checkout_slo)
    before = stored(checkout_slo)
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{free_port()}"
    counted = errors_counted(checkout_slo, "retryable")

    with pytest.raises(PrometheusUnavailable) as raised:
        sync(checkout_slo, NOW + timedelta(minutes=5))

    assert raised.value.retryable
    assert stored(checkout_slo) == before
    status = SLOStatus.objects.get(slo=checkout_slo)
    assert status.stale
    assert "unreachable" in status.last_sync_error
    assert status.last_sync_at == NOW
    assert status.computed_at == NOW + timedelta(minutes=5)
    assert errors_counted(checkout_slo, "retryable") == counted + 1


@pytest.mark.django_db
def test_the_next_successful_sync_clears_the_error_and_the_staleness(
    prometheus, checkout_slo, settings
):
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PrometheusUnavailable):
        sync(checkout_slo)
    settings.PROMETHEUS_URL = prometheus

    sync(checkout_slo, NOW + timedelta(minutes=1))

    status = SLOStatus.objects.get(slo=checkout_slo)
    assert not status.stale
    assert status.last_sync_error == ""
    assert status.last_sync_at == NOW + timedelta(minutes=1)


@pytest.mark.django_db
def test_a_query_prometheus_refuses_is_recorded_as_a_permanent_error(prometheus, checkout_slo):
    checkout_slo.total_query = 'sum(rate(http_requests_total{job="checkout"}[{{.window}}])'
    checkout_slo.save()
    counted = errors_counted(checkout_slo, "permanent")

    with pytest.raises(PrometheusQueryError) as raised:
        sync(checkout_slo)

    assert not raised.value.retryable
    status = SLOStatus.objects.get(slo=checkout_slo)
    assert "parse error" in status.last_sync_error
    assert status.stale
    assert errors_counted(checkout_slo, "permanent") == counted + 1


# --- Celery: fan-out, retries -----------------------------------------------------------------


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(tasks, "SYNC_BACKOFF_SECONDS", 0.05)


@pytest.mark.usefixtures("celery_worker")
def test_beat_s_task_fans_out_one_sync_per_slo_to_a_real_worker(prometheus, checkout_slo, service):
    other = SLO.objects.create(
        service=service,
        name="Checkout errors",
        slug="checkout-errors",
        objective=Decimal("99"),
        window_days=1,
        query_kind="bad_total",
        events_query=checkout.BAD_EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
    )
    with time_machine.travel(NOW, tick=True):
        tasks.sync_slis.delay()

        assert wait_for(lambda: SLOStatus.objects.filter(last_sync_error="").count() == 2, 60)
    for slo in (checkout_slo, other):
        assert stored(slo) == checkout.expected_buckets(*WINDOW)


@pytest.mark.usefixtures("celery_worker", "unreachable_prometheus", "quick_retries")
def test_a_worker_retries_an_unreachable_prometheus_with_backoff_then_gives_up(checkout_slo):
    counted = errors_counted(checkout_slo, "retryable")

    tasks.sync_slo.delay(checkout_slo.pk)

    attempts = 1 + tasks.SYNC_RETRIES
    assert wait_for(lambda: errors_counted(checkout_slo, "retryable") == counted + attempts, 30)
    assert SLOStatus.objects.get(slo=checkout_slo).stale


@pytest.mark.usefixtures("celery_worker", "prometheus", "quick_retries")
def test_a_worker_does_not_retry_a_refused_query(checkout_slo):
    checkout_slo.events_query = "sum(rate(http_requests_total[{{.window}}]"
    checkout_slo.save()
    counted = errors_counted(checkout_slo, "permanent")

    tasks.sync_slo.delay(checkout_slo.pk)

    assert wait_for(lambda: errors_counted(checkout_slo, "permanent") == counted + 1, 30)
    # Long enough for a few retries at the shortened backoff: none comes.
    assert not wait_for(lambda: errors_counted(checkout_slo, "permanent") > counted + 1, 2)
    assert "parse error" in SLOStatus.objects.get(slo=checkout_slo).last_sync_error


def test_retries_wait_longer_each_time():
    waits = [tasks.backoff_seconds(retries) for retries in range(4)]
    for retries, wait in enumerate(waits):
        base = tasks.SYNC_BACKOFF_SECONDS * 2**retries
        assert base <= wait <= base * 1.5
    assert waits == sorted(waits)


# --- pushed buckets -------------------------------------------------------------------------


def at(hour, minute):
    return datetime(2026, 11, 1, hour, minute, tzinfo=UTC)


@pytest.fixture
def pushed_checkout(checkout_slo):
    """The checkout SLO, fed by pushes."""
    SLO.objects.filter(pk=checkout_slo.pk).update(source="push")
    checkout_slo.refresh_from_db()
    return checkout_slo


@pytest.mark.django_db
def test_pushed_buckets_are_stored_and_the_recompute_enqueued_once_the_push_commits(
    pushed_checkout, django_capture_on_commit_callbacks, broker
):
    buckets = [
        {"start": at(11, 50), "good": 99, "total": 100},
        {"start": at(11, 55), "good": 100, "total": 100},
    ]
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        assert slo_buckets_push(slo=pushed_checkout, buckets=buckets) == 2
        assert broker.llen("celery") == 0

    assert stored(pushed_checkout) == {at(11, 50): (99, 100), at(11, 55): (100, 100)}
    assert len(callbacks) == 1
    assert broker.llen("celery") == 1


@pytest.mark.django_db
def test_the_recompute_after_a_push_counts_the_pushed_buckets(pushed_checkout):
    slo_buckets_upsert(
        slo=pushed_checkout,
        buckets=[Bucket(at(11, 50), 99, 100), Bucket(at(11, 55), 100, 100)],
    )

    slos_mark_dirty(slo_ids=[pushed_checkout.pk], ring=False)

    with time_machine.travel(NOW, tick=False):
        tasks.recompute_dirty_slos()

    status = SLOStatus.objects.get(slo=pushed_checkout)
    assert status.attainment == pytest.approx(199 / 200)
    assert status.latest_data_at == at(11, 55)
    assert status.last_sync_at is None


@pytest.mark.django_db
def test_pushing_a_bucket_again_replaces_it(pushed_checkout, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        slo_buckets_push(
            slo=pushed_checkout, buckets=[{"start": at(11, 50), "good": 1, "total": 2}]
        )
        slo_buckets_push(
            slo=pushed_checkout, buckets=[{"start": at(11, 50), "good": 90, "total": 100}]
        )

    assert stored(pushed_checkout) == {at(11, 50): (90, 100)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bucket", "message"),
    [
        ({"start": at(11, 52), "good": 1, "total": 1}, "5-minute boundary"),
        ({"start": at(11, 50), "good": 2, "total": 1}, "good <= total"),
        ({"start": at(11, 50), "good": -1, "total": 1}, "good <= total"),
        ({"start": at(11, 50), "good": 1.5, "total": 2}, "whole number"),
        ({"start": "2026-11-01T11:50:00Z", "good": 1, "total": 1}, "date and time"),
        ({"start": at(12, 5), "good": 1, "total": 1}, "future"),
        ({"start": datetime(2026, 11, 1, 11, 50), "good": 1, "total": 1}, "timezone-aware"),
        ({"good": 1, "total": 1}, "start"),
        ({"start": at(11, 50), "good": 1, "total": 10**12 + 1}, "at most 1000000000000"),
        ({"start": datetime(1970, 1, 1, tzinfo=UTC), "good": 1, "total": 1}, "400 days back"),
    ],
)
def test_a_push_with_one_bad_bucket_stores_none_and_names_it(
    pushed_checkout, django_capture_on_commit_callbacks, bucket, message
):
    good_bucket = {"start": at(11, 45), "good": 1, "total": 1}
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError) as raised,
    ):
        slo_buckets_push(slo=pushed_checkout, buckets=[good_bucket, bucket])

    (error,) = raised.value.message_dict["buckets"]
    assert error.startswith("Bucket 1: ")
    assert message in error
    assert not SLIBucket.objects.exists()
    assert callbacks == []


@pytest.mark.django_db
def test_a_push_naming_one_start_twice_is_refused(pushed_checkout):
    bucket = {"start": at(11, 45), "good": 1, "total": 1}
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as raised:
        slo_buckets_push(slo=pushed_checkout, buckets=[bucket, bucket])

    assert raised.value.message_dict["buckets"] == [
        "Bucket 1: start 2026-11-01T11:45:00+00:00 is given twice."
    ]


@pytest.mark.django_db
def test_an_empty_push_is_refused(pushed_checkout):
    with pytest.raises(ValidationError) as raised:
        slo_buckets_push(slo=pushed_checkout, buckets=[])

    assert raised.value.message_dict["buckets"] == ["Push at least one bucket."]


@pytest.mark.django_db
def test_a_push_into_an_slo_synced_from_prometheus_is_refused_naming_its_source(checkout_slo):
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as raised:
        slo_buckets_push(slo=checkout_slo, buckets=[{"start": at(11, 45), "good": 1, "total": 1}])

    assert "synced from Prometheus" in raised.value.message_dict["source"][0]
    assert not SLIBucket.objects.exists()


@pytest.mark.django_db
def test_a_storm_of_pushes_rings_one_recompute_which_computes_each_slo_once(
    pushed_checkout, service, broker, django_capture_on_commit_callbacks, monkeypatch
):
    slos = [pushed_checkout, pushed_slo(service)]
    computed = []
    status_fields = statuses.snapshot.status_fields

    def counted(slo, *args):
        computed.append(slo.pk)
        return status_fields(slo, *args)

    monkeypatch.setattr(statuses.snapshot, "status_fields", counted)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        for minute in range(0, 60, 5):
            for slo in slos:
                bucket = {"start": at(11, minute) - timedelta(hours=1), "good": 9, "total": 10}
                slo_buckets_push(slo=slo, buckets=[bucket])

    assert broker.llen("celery") == 1
    with time_machine.travel(NOW, tick=False):
        tasks.recompute_dirty_slos()
        tasks.recompute_dirty_slos()  # a second ring finds nothing left to do

    assert sorted(computed) == sorted(slo.pk for slo in slos)
    assert SLOStatus.objects.get(slo=pushed_checkout).attainment == pytest.approx(0.9)


# --- the command ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_sync_slis_runs_one_cycle_and_says_what_it_did(prometheus, checkout_slo, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("sync_slis")

    output = capsys.readouterr().out
    assert "payments-api/checkout-availability: 284 buckets" in output
    assert "alert page" in output
    assert len(stored(checkout_slo)) == 284


@pytest.mark.django_db
def test_sync_slis_with_a_slug_syncs_only_that_slo(prometheus, checkout_slo, service, capsys):
    other = SLO.objects.create(
        service=service,
        name="Other",
        slug="other",
        objective=Decimal("99"),
        events_query=checkout.BAD_EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
    )
    with time_machine.travel(NOW, tick=False):
        call_command("sync_slis", slo="checkout-availability")

    assert "checkout-availability" in capsys.readouterr().out
    assert stored(checkout_slo)
    assert not stored(other)


@pytest.mark.django_db
def test_sync_slis_reports_a_failed_sync_and_exits_with_an_error(
    unreachable_prometheus, checkout_slo, capsys
):
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match="1 of 1"):
        call_command("sync_slis")

    assert "unreachable" in capsys.readouterr().err


@pytest.mark.django_db
def test_sync_slis_with_an_unknown_slug_says_so(checkout_slo):
    with pytest.raises(CommandError, match="No SLO"):
        call_command("sync_slis", slo="nonexistent")


def pushed_slo(service) -> SLO:
    return SLO.objects.create(
        service=service,
        name="Pushed",
        slug="pushed",
        objective=Decimal("99"),
        source="push",
        events_query=checkout.EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
    )


@pytest.mark.django_db
def test_beat_s_fan_out_leaves_out_the_slos_fed_by_pushes(checkout_slo, service, broker):
    pushed_slo(service)

    tasks.sync_slis()

    # One sync, and the recompute of the cycle.
    assert broker.llen("celery") == 2
    checkout_slo.source = "push"
    checkout_slo.save()
    tasks.sync_slis()
    assert broker.llen("celery") == 2


@pytest.mark.django_db
def test_a_sync_cycle_recomputes_its_slos_in_one_batch_not_one_per_slo(
    prometheus, checkout_slo, service, monkeypatch
):
    others = [
        SLO.objects.create(
            service=service,
            name=f"Checkout {number}",
            slug=f"checkout-{number}",
            objective=Decimal("99"),
            window_days=1,
            events_query=checkout.EVENTS_QUERY,
            total_query=checkout.TOTAL_QUERY,
        )
        for number in range(3)
    ]
    slos = [checkout_slo, *others]
    before = NOW - timedelta(minutes=1)
    with time_machine.travel(before, tick=False):
        statuses.slo_statuses_recompute(now=before)  # the SLOs' first snapshots
    batches = []
    recompute = statuses.slo_statuses_recompute

    def recorded(*, now, slos=None):
        batches.append(sorted(slo.pk for slo in slos))
        return recompute(now=now, slos=slos)

    monkeypatch.setattr(statuses, "slo_statuses_recompute", recorded)

    with time_machine.travel(NOW, tick=False):
        for slo in slos:
            tasks.sync_slo(slo.pk)  # what the worker runs for each ring of the fan-out
        # No sync recomputed its SLO: each marked it dirty.
        assert set(SLOStatus.objects.values_list("computed_at", flat=True)) == {before}
        assert DirtySLO.objects.count() == len(slos)
        tasks.recompute_dirty_slos()  # rung by the fan-out, once

    assert batches == [sorted(slo.pk for slo in slos)]
    assert not DirtySLO.objects.exists()
    assert {status.attainment for status in SLOStatus.objects.all()} == {
        SLOStatus.objects.get(slo=checkout_slo).attainment
    }


@pytest.mark.django_db
def test_sync_slis_skips_slos_fed_by_pushes_and_says_so_when_asked_for_one(
    prometheus, checkout_slo, service, capsys
):
    pushed = pushed_slo(service)
    with time_machine.travel(NOW, tick=False):
        call_command("sync_slis")
        with pytest.raises(CommandError, match="fed by pushes"):
            call_command("sync_slis", slo="pushed")

    assert "pushed" not in capsys.readouterr().out
    assert stored(checkout_slo)
    assert not stored(pushed)


@pytest.mark.django_db
def test_an_slo_switched_to_pushes_drops_the_error_of_its_last_sync(
    unreachable_prometheus, checkout_slo
):
    with pytest.raises(PrometheusUnavailable):
        sync(checkout_slo)

    slo_update(slo=checkout_slo, source="push")

    assert SLOStatus.objects.get(slo=checkout_slo).last_sync_error == ""


# --- /metrics -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_show_the_sync_and_each_slo_s_budget_burn_rates_and_staleness(
    prometheus, checkout_slo, client, settings
):
    settings.METRICS_TOKEN = "scrape-secret"
    sync(checkout_slo)
    status = SLOStatus.objects.get(slo=checkout_slo)

    samples = scrape(client)

    labels = {"service": "payments-api", "slo": "checkout-availability"}
    assert sample(samples, "portal_slo_budget_remaining", **labels) == pytest.approx(
        status.remaining
    )
    assert sample(samples, "portal_slo_burn_rate", **labels, window="1h") == pytest.approx(
        status.burn_rates["1h"]
    )
    assert sample(samples, "portal_slo_stale", **labels) == 0
    assert sample(samples, "portal_slo_sync_failing", **labels) == 0
    assert sample(samples, "portal_slo_data_age_seconds", **labels) == 30
    assert sample(samples, "portal_slo_sync_duration_seconds", **labels) == pytest.approx(
        status.last_sync_seconds
    )
    assert 0 < status.last_sync_seconds < 10
    assert sample(samples, "portal_slo_sync_errors_total", **labels, kind="retryable") == 0


@pytest.mark.django_db
def test_metrics_show_a_failing_sync_as_an_error_and_a_stale_slo(
    unreachable_prometheus, checkout_slo, client, settings
):
    settings.METRICS_TOKEN = "scrape-secret"
    with pytest.raises(PrometheusUnavailable):
        sync(checkout_slo)

    samples = scrape(client)

    labels = {"service": "payments-api", "slo": "checkout-availability"}
    assert sample(samples, "portal_slo_sync_errors_total", **labels, kind="retryable") == 1
    assert sample(samples, "portal_slo_sync_errors_total", **labels, kind="permanent") == 0
    assert sample(samples, "portal_slo_stale", **labels) == 1
    assert sample(samples, "portal_slo_sync_failing", **labels) == 1
