"""Fault injection against real servers: a broker that goes away and comes back."""

from dataclasses import dataclass

import kombu.pools
import pytest

from portal.celery import app as celery_app
from tests.servers import Server, start_redis


def _point_celery_at(url: str) -> None:
    celery_app.conf.broker_url = url
    # Connections and producers made for the previous broker are pooled: drop them.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


@dataclass
class RestartableRedis:
    """A Redis of the test's own, with Celery's broker pointed at it. ``stop()`` takes it
    away (publishing fails as it would in an outage); ``start()`` brings it back on the same
    port, empty, as a restarted Redis without persistence is."""

    server: Server
    url: str

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server, _ = start_redis(port=self.server.port)

    @property
    def running(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None


@pytest.fixture
def restartable_redis(settings, celery_broker):
    server, url = start_redis()
    settings.CELERY_BROKER_URL = url
    _point_celery_at(url)
    redis = RestartableRedis(server=server, url=url)
    yield redis
    redis.stop()
    _point_celery_at(celery_broker)
