"""Recomputes as production runs them: one bad SLO fails alone and says so, dirty marks make each
change count once, pushed SLOs turn stale when their data stops, planner settings stay inside
their statement, and the events services hands to incidents."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, OperationalError, connection, transaction

from services import tasks
from services.actions import statuses
from services.actions.sli import _buckets_from_rates, slo_buckets_push
from services.actions.statuses import (
    slo_statuses_recompute,
    slo_statuses_recompute_dirty,
    slos_mark_dirty,
)
from services.budget.windows import BUCKET, Bucket
from services.models.slos import (
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    DirtySLO,
    MaintenanceWindow,
    SLIBucket,
    SLOStatus,
)
from services.selectors.slos import slo_events_between
from services.sli import plan, read
from services.sli.store import slo_buckets_upsert
from tests.portal.test_metrics import sample, scrape
from tests.services.slo_data import make_slo

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 1, 12, 0, 30, tzinfo=UTC)


def hour_of_buckets(slo, *, bad: int, ending=NOW) -> None:
    """The hour before `ending`: twelve buckets of 100 events, `bad` of them bad."""
    start = ending.replace(second=0) - timedelta(hours=1)
    slo_buckets_upsert(
        slo=slo, buckets=[Bucket(start + n * BUCKET, 100 - bad, 100) for n in range(12)]
    )


def recompute_all():
    with time_machine.travel(NOW, tick=False):
        return slo_statuses_recompute(now=NOW)


# --- One bad SLO fails alone ---------------------------------------------------------------


def test_a_policy_without_a_bottom_tier_leaves_its_slos_tier_unknown_and_the_others_go_on(
    service, caplog
):
    caplog.set_level(logging.WARNING, logger="services.budget.figures")
    # Written before the rule held (the admin's inline allowed it): every tier has a floor.
    floored = BudgetPolicy.objects.create(name="Floored", slug="floored")
    BudgetPolicyTier.objects.create(
        policy=floored, name="open", min_remaining=Decimal("0.5"), change_rule="allow"
    )
    BudgetPolicyTier.objects.create(
        policy=floored, name="careful", min_remaining=Decimal("0.1"), change_rule="review"
    )
    overspent = make_slo(service, 1, budget_policy=floored)
    healthy = make_slo(service, 2)
    hour_of_buckets(overspent, bad=50)
    hour_of_buckets(healthy, bad=0)

    assert recompute_all() == 2

    statuses = {status.slo_id: status for status in SLOStatus.objects.all()}
    assert statuses[overspent.pk].remaining < 0
    assert statuses[overspent.pk].policy_tier == "unknown"
    assert statuses[healthy.pk].policy_tier == "healthy"
    assert "No budget tier holds" in caplog.text


@pytest.fixture
def broken(service):
    """An SLO whose stored time zone no longer exists (written before validation, or dropped
    from the zone database since): nothing can say where its months begin."""
    slo = make_slo(service, 1, window_kind="calendar_month")
    SLO.objects.filter(pk=slo.pk).update(time_zone="Mars/Olympus")
    slo.refresh_from_db()
    return slo


def test_an_slo_that_cannot_be_computed_is_marked_and_logged_and_the_others_go_on(
    service, broken, caplog
):
    caplog.set_level(logging.ERROR, logger="services.actions.statuses")
    others = [make_slo(service, number) for number in (2, 3)]
    for slo in others:
        hour_of_buckets(slo, bad=1)

    assert recompute_all() == 2

    for slo in others:
        status = SLOStatus.objects.get(slo=slo)
        assert status.attainment == pytest.approx(0.99)
        assert status.compute_error == ""
    failed = SLOStatus.objects.get(slo=broken)
    assert failed.stale
    assert "Mars/Olympus" in failed.compute_error
    assert failed.attainment is None
    assert f"Could not compute the status of SLO {broken.pk}" in caplog.text


def test_a_failed_recompute_keeps_the_last_figures_and_a_good_one_clears_the_mark(service):
    slo = make_slo(service, 1)
    hour_of_buckets(slo, bad=1)
    recompute_all()
    SLO.objects.filter(pk=slo.pk).update(time_zone="Mars/Olympus")

    recompute_all()

    status = SLOStatus.objects.get(slo=slo)
    assert status.attainment == pytest.approx(0.99)
    assert status.stale
    assert "Mars/Olympus" in status.compute_error
    SLO.objects.filter(pk=slo.pk).update(time_zone="UTC")
    recompute_all()
    status.refresh_from_db()
    assert status.compute_error == ""
    assert not status.stale


def test_the_slo_page_and_the_status_api_say_it_could_not_be_computed(
    broken, client_for, api_client_for, viewer
):
    recompute_all()

    page = client_for(viewer).get(broken.get_absolute_url())
    assert "Could not compute: ZoneInfoNotFoundError" in page.content.decode()
    status = api_client_for(viewer).get(f"/api/slos/{broken.pk}/status/").json()
    assert status["compute_error"].startswith("could not compute: ZoneInfoNotFoundError")
    assert status["stale"] is True


# --- Dirty marks ---------------------------------------------------------------------------


def test_a_change_during_a_recompute_keeps_its_slo_dirty_for_the_next_one(service, monkeypatch):
    slo = make_slo(service, 1)
    slos_mark_dirty(slo_ids=[slo.pk], ring=False)
    recompute = statuses.slo_statuses_recompute

    def with_a_push_meanwhile(*, now, slos=None):
        written = recompute(now=now, slos=slos)
        hour_of_buckets(slo, bad=3)  # lands after the recompute read the data
        slos_mark_dirty(slo_ids=[slo.pk], ring=False)
        return written

    monkeypatch.setattr(statuses, "slo_statuses_recompute", with_a_push_meanwhile)
    with time_machine.travel(NOW, tick=False):
        assert slo_statuses_recompute_dirty(now=NOW) == 1
    monkeypatch.undo()

    dirty = DirtySLO.objects.get(slo=slo)
    assert dirty.claimed_at is None
    with time_machine.travel(NOW, tick=False):
        assert slo_statuses_recompute_dirty(now=NOW) == 1
    assert not DirtySLO.objects.exists()
    assert SLOStatus.objects.get(slo=slo).attainment == pytest.approx(0.97)


def test_a_claim_whose_worker_died_is_claimed_again_after_the_time_limit(service, settings):
    slo = make_slo(service, 1)
    slos_mark_dirty(slo_ids=[slo.pk], ring=False)
    DirtySLO.objects.update(claimed_at=NOW - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT - 5))
    with time_machine.travel(NOW, tick=False):
        assert slo_statuses_recompute_dirty(now=NOW) == 0  # still someone's
    later = NOW + timedelta(seconds=10)
    with time_machine.travel(later, tick=False):
        assert slo_statuses_recompute_dirty(now=later) == 1
    assert not DirtySLO.objects.exists()


def test_a_recompute_that_fails_releases_its_claims_for_the_next_one(service, monkeypatch):
    slo = make_slo(service, 1)
    slos_mark_dirty(slo_ids=[slo.pk], ring=False)

    def failing(*, now, slos=None):
        raise OperationalError("the server closed the connection unexpectedly")

    monkeypatch.setattr(statuses, "slo_statuses_recompute", failing)
    with time_machine.travel(NOW, tick=False), pytest.raises(OperationalError):
        slo_statuses_recompute_dirty(now=NOW)

    assert DirtySLO.objects.get(slo=slo).claimed_at is None


def test_creating_an_slo_marks_it_dirty_so_that_its_first_snapshot_follows(
    service, django_capture_on_commit_callbacks
):
    from services.actions.slos import slo_create

    with django_capture_on_commit_callbacks() as callbacks:
        slo = slo_create(
            service=service,
            name="Login",
            slug="login",
            objective=Decimal("99"),
            events_query="sum(rate(logins_total{ok='1'}[{{.window}}]))",
            total_query="sum(rate(logins_total[{{.window}}]))",
        )
    assert DirtySLO.objects.filter(slo=slo).exists()
    # Its recompute, and its service's readiness and maturity checks (which read its SLOs).
    assert [callback.args[0].name for callback in callbacks] == [
        "services.tasks.recompute_dirty_slos",
        "services.tasks.recompute_dirty_checks",
    ]
    with time_machine.travel(NOW, tick=False):
        tasks.recompute_dirty_slos()
    assert SLOStatus.objects.get(slo=slo).stale  # no data yet: computed, and stale


def test_the_sweeps_are_registered_for_portal_s_sweep(settings):
    assert tasks.recompute_dirty_slos.name in settings.PORTAL_SWEEPS
    assert tasks.mark_stale_slos.name in settings.PORTAL_SWEEPS


# --- Pushed SLIs go stale too ----------------------------------------------------------------


@pytest.fixture
def pushed(service):
    return make_slo(service, 1, name="Checkout pushes", slug="checkout-pushes", source="push")


def test_a_pushed_slo_whose_data_stopped_turns_stale_on_page_scorecard_api_and_metrics(
    pushed, client_for, api_client_for, viewer, client, settings
):
    settings.SLI_STALE_AFTER_MINUTES = 15
    settings.METRICS_TOKEN = "scrape-secret"
    with time_machine.travel(NOW, tick=False):
        slo_buckets_push(
            slo=pushed,
            buckets=[{"start": datetime(2026, 11, 1, 11, 55, tzinfo=UTC), "good": 9, "total": 10}],
        )
        tasks.recompute_dirty_slos()
    assert not SLOStatus.objects.get(slo=pushed).stale

    # Nothing is pushed any more; 21 minutes after the newest bucket ended, the sweep runs.
    with time_machine.travel(NOW + timedelta(minutes=21), tick=False):
        tasks.mark_stale_slos()

    page = client_for(viewer).get(pushed.get_absolute_url()).content.decode()
    assert '<span class="badge stale">stale</span>' in page
    scorecard = client_for(viewer).get("/slos/", {"stale": "true"}).content.decode()
    assert "Checkout pushes" in scorecard
    api = api_client_for(viewer)
    assert api.get(f"/api/slos/{pushed.pk}/status/").json()["stale"] is True
    assert api.get("/api/slos/", {"stale": "true"}).json()["count"] == 1
    labels = {"service": pushed.service.slug, "slo": pushed.slug}
    assert sample(scrape(client), "portal_slo_stale", **labels) == 1


def test_the_staleness_sweep_spares_fresh_data_whatever_feeds_the_slo(pushed, service, settings):
    settings.SLI_STALE_AFTER_MINUTES = 15
    synced = make_slo(service, 2)
    for slo in (pushed, synced):
        hour_of_buckets(slo, bad=0)  # the newest bucket ends at 12:00
    recompute_all()

    with time_machine.travel(NOW + timedelta(minutes=14), tick=False):
        tasks.mark_stale_slos()
    assert not SLOStatus.objects.filter(stale=True).exists()
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        tasks.mark_stale_slos()
    assert SLOStatus.objects.filter(stale=True).count() == 2


# --- PostgreSQL's escape hatches stay inside their statement ----------------------------------


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_planner_settings_of_the_read_end_with_it_inside_a_callers_transaction(service):
    slo = make_slo(service, 1)
    hour_of_buckets(slo, bad=1)
    before = {name: setting(name) for name in ("enable_hashjoin", "work_mem", "jit")}
    request = plan.read_request(slo, NOW, excluded=[])

    with transaction.atomic():
        groups = read.slo_groups([request], end=plan.epoch(NOW.replace(second=0)))
        after = {name: setting(name) for name in before}

    assert groups[slo.pk]
    assert after == before
    assert before["enable_hashjoin"] == "on"


# --- Events for incidents ---------------------------------------------------------------------


def test_slo_events_between_sums_bad_and_total_in_the_range_without_maintenance(service):
    slo, quiet = make_slo(service, 1), make_slo(service, 2)
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    slo_buckets_upsert(
        slo=slo, buckets=[Bucket(start + n * BUCKET, 88 + n, 100) for n in range(12)]
    )
    # 09:12 to 09:20 overlaps the buckets of 09:10 and 09:15.
    MaintenanceWindow.objects.create(
        slo=slo, start=start + timedelta(minutes=12), end=start + timedelta(minutes=20), reason="x"
    )

    events = slo_events_between(
        slo_ids=[slo.pk, quiet.pk], start=start + BUCKET, end=start + timedelta(minutes=50)
    )

    # Buckets 1 to 9 start in [09:05, 09:50); 2 and 3 are in maintenance.
    kept = [n for n in range(1, 10) if n not in (2, 3)]
    assert events == {slo.pk: (sum(12 - n for n in kept), 100 * len(kept)), quiet.pk: (0, 0)}


# --- Counts a bucket can hold ------------------------------------------------------------------


def test_no_write_path_stores_a_bucket_of_more_than_10_to_the_12_events(service):
    slo = make_slo(service, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SLIBucket.objects.create(slo=slo, start=NOW.replace(second=0), good=0, total=2**62)


def test_a_sync_leaves_a_bucket_prometheus_counts_past_the_bound_without_data(caplog):
    caplog.set_level(logging.WARNING, logger="services.actions.sli")
    at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    slo = SLO(query_kind="good_total")

    buckets = _buckets_from_rates(
        slo, events={at: 1.0, at + BUCKET: 2.0**62}, totals={at: 2.0, at + BUCKET: 2.0**62}
    )

    assert buckets == [Bucket(at - BUCKET, 300, 600)]
    assert "more than a bucket may hold" in caplog.text
