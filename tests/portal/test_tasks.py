import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from portal.celery import app as celery_app
from portal.models import Heartbeat
from portal.tasks import HEARTBEAT, heartbeat

QUEUE = "celery"


@pytest.fixture
def broker(redis_url):
    """The suite's Redis, with the default queue emptied before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.delete(QUEUE)
    yield client
    client.delete(QUEUE)
    client.close()


@pytest.fixture
def celery_worker(broker, transactional_db):
    """A real Celery worker consuming from the suite's Redis, in a thread of this process.

    The worker's thread has its own database connection, so it sees only committed rows:
    hence transactional_db.
    """
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db
def test_the_heartbeat_records_when_it_last_ran():
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        heartbeat()
    with time_machine.travel(moment + timedelta(minutes=1), tick=False):
        heartbeat()
    beat = Heartbeat.objects.get()
    assert beat.name == HEARTBEAT
    assert beat.last_run == moment + timedelta(minutes=1)
    assert beat.hostname


@pytest.mark.django_db
def test_enqueueing_on_commit_sends_nothing_until_the_transaction_commits(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        heartbeat.delay_on_commit()
        assert broker.llen(QUEUE) == 0
    assert len(callbacks) == 1

    callbacks[0]()

    assert broker.llen(QUEUE) == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_enqueues_nothing(broker, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        heartbeat.delay_on_commit()
        raise RuntimeError("the request failed")
    assert callbacks == []
    assert broker.llen(QUEUE) == 0


def test_a_real_worker_runs_the_heartbeat_sent_after_commit(celery_worker, broker):
    with transaction.atomic():
        heartbeat.delay_on_commit()
        # Still inside the transaction: the task has not even reached the broker.
        assert broker.llen(QUEUE) == 0
        assert not Heartbeat.objects.exists()

    assert wait_for(lambda: Heartbeat.objects.filter(name=HEARTBEAT).exists())
    assert Heartbeat.objects.get().hostname


@pytest.mark.django_db
def test_the_admin_shows_whether_worker_and_beat_are_alive(client, sre_lead):
    Heartbeat.objects.create(name=HEARTBEAT, last_run=datetime.now(UTC), hostname="worker-7")
    client.force_login(sre_lead)
    response = client.get("/admin/portal/heartbeat/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "worker-7" in content
    assert "Worker and beat alive" in content
    assert 'alt="True"' in content


@pytest.mark.django_db
def test_the_admin_marks_a_stale_heartbeat(client, sre_lead, settings):
    settings.HEARTBEAT_STALE_AFTER_SECONDS = 180
    last_run = datetime.now(UTC) - timedelta(minutes=10)
    Heartbeat.objects.create(name=HEARTBEAT, last_run=last_run, hostname="worker-7")
    client.force_login(sre_lead)
    assert 'alt="False"' in client.get("/admin/portal/heartbeat/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["outsider", "viewer"])
def test_only_sre_leads_see_the_heartbeat_in_the_admin(client, request, user):
    client.force_login(request.getfixturevalue(user))
    response = client.get("/admin/portal/heartbeat/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_beat_schedules_the_heartbeat_more_often_than_it_turns_stale(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert entry["task"] == heartbeat.name
    assert entry["schedule"] < settings.HEARTBEAT_STALE_AFTER_SECONDS
