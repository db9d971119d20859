"""The broker is a doorbell: a ring while it is down is lost, quickly and quietly."""

import time

import pytest
import redis as redis_client
from django.db import transaction
from django.utils import timezone

from portal import doorbell
from portal.tasks import heartbeat, sweep


def queued(redis_url: str) -> int:
    client = redis_client.Redis.from_url(redis_url)
    try:
        return client.llen("celery")
    finally:
        client.close()


def test_a_ring_reaches_the_broker_when_it_is_up(restartable_redis):
    assert doorbell.ring(heartbeat) is True
    assert queued(restartable_redis.url) == 1


def test_a_ring_while_the_broker_is_down_returns_false_at_once(restartable_redis):
    restartable_redis.stop()
    started = time.monotonic()
    assert doorbell.ring(heartbeat) is False
    assert time.monotonic() - started < 10


def test_the_broker_back_on_its_port_takes_rings_again(restartable_redis):
    restartable_redis.stop()
    assert doorbell.ring(heartbeat) is False
    restartable_redis.start()
    assert doorbell.ring(heartbeat) is True
    assert queued(restartable_redis.url) == 1


@pytest.mark.django_db(transaction=True)
def test_a_ring_on_commit_with_the_broker_down_does_not_undo_or_fail_the_write(
    restartable_redis,
):
    from portal.models import Heartbeat

    restartable_redis.stop()
    with transaction.atomic():
        Heartbeat.objects.create(name="written", hostname="here", last_run=timezone.now())
        doorbell.ring_on_commit(heartbeat)
    assert Heartbeat.objects.filter(name="written").exists()


def test_the_sweep_rings_each_registered_sweep_by_name(restartable_redis, settings):
    settings.PORTAL_SWEEPS = ["portal.tasks.heartbeat", "portal.tasks.heartbeat"]
    sweep()
    assert queued(restartable_redis.url) == 2


def test_beat_runs_the_sweep_every_minute(settings):
    assert settings.CELERY_BEAT_SCHEDULE["sweep"] == {"task": sweep.name, "schedule": 60.0}


def test_every_task_has_a_time_limit(settings):
    assert 0 < settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    assert settings.EMAIL_TIMEOUT > 0
