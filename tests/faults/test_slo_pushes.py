"""Bucket pushes while the broker is down: the push answers as usual, the SLO stays marked dirty
in the database, and once Redis is back the sweep has it recomputed, exactly once."""

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from portal.celery import app as celery_app
from portal.models import Heartbeat
from portal.tasks import HEARTBEAT, heartbeat, sweep
from services.actions import statuses
from services.budget.windows import align_down
from services.models.slos import DirtySLO, SLIBucket, SLOStatus
from tests.portal.test_tasks import wait_for
from tests.services.slo_data import make_slo


@pytest.fixture
def computed(monkeypatch):
    """The SLOs whose snapshot was computed, in order, however many workers did it."""
    computed = []
    status_fields = statuses.snapshot.status_fields

    def counted(slo, *args):
        computed.append(slo.pk)
        return status_fields(slo, *args)

    monkeypatch.setattr(statuses.snapshot, "status_fields", counted)
    return computed


def worker_done_with_the_queue() -> bool:
    """Ring a heartbeat and wait for it: a solo worker runs its tasks one after another, so
    every task queued before the heartbeat has finished once it has run."""
    Heartbeat.objects.filter(name=HEARTBEAT).delete()
    heartbeat.delay()
    return wait_for(lambda: Heartbeat.objects.filter(name=HEARTBEAT).exists(), 30)


@pytest.mark.django_db(transaction=True)
def test_a_push_while_redis_is_down_is_answered_and_recomputed_once_redis_is_back(
    restartable_redis, service, owner, api_client_for, computed
):
    slo = make_slo(service, name="Checkout pushes", slug="checkout-pushes", source="push")
    start = align_down(timezone.now()) - timedelta(minutes=5)
    restartable_redis.stop()

    response = api_client_for(owner).post(
        f"/api/slos/{slo.pk}/buckets/",
        [{"start": start.isoformat(), "good": 97, "total": 100}],
        format="json",
    )

    assert response.status_code == 202, response.content
    assert SLIBucket.objects.filter(slo=slo).count() == 1
    assert DirtySLO.objects.filter(slo=slo).exists()  # the ring was lost; the mark was not
    assert computed == []

    restartable_redis.start()  # empty: whatever was queued before the outage is gone too
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        sweep()  # what beat rings every minute, and a worker when it starts
        assert wait_for(lambda: not DirtySLO.objects.exists(), 30)
        assert SLOStatus.objects.get(slo=slo).attainment == pytest.approx(0.97)
        # The next minute's sweep finds nothing left to do.
        sweep()
        assert worker_done_with_the_queue()

    assert computed == [slo.pk]


@pytest.mark.django_db(transaction=True)
def test_pushes_to_several_slos_during_an_outage_are_each_recomputed_once(
    restartable_redis, service, owner, api_client_for, computed
):
    slos = [
        make_slo(service, number, slug=f"pushed-{number}", source="push") for number in range(3)
    ]
    start = align_down(timezone.now()) - timedelta(minutes=30)
    client = api_client_for(owner)
    restartable_redis.stop()
    for minutes in range(0, 30, 5):
        for slo in slos:
            bucket = {
                "start": (start + timedelta(minutes=minutes)).isoformat(),
                "good": 9,
                "total": 10,
            }
            response = client.post(f"/api/slos/{slo.pk}/buckets/", [bucket], format="json")
            assert response.status_code == 202
    assert DirtySLO.objects.count() == 3

    restartable_redis.start()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        sweep()
        assert wait_for(lambda: not DirtySLO.objects.exists(), 30)
        sweep()
        assert worker_done_with_the_queue()

    assert sorted(computed) == sorted(slo.pk for slo in slos)
    assert [status.attainment for status in SLOStatus.objects.all()] == pytest.approx([0.9] * 3)
