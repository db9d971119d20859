from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from portal.celery import app as celery_app
from portal.models import Heartbeat
from portal.tasks import HEARTBEAT
from tests.servers import free_port

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def unreachable_broker(monkeypatch, settings):
    """Point the Celery app at a loopback port nobody listens on; restored after the test."""
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 0.5


@pytest.mark.django_db
def test_healthz_answers_without_signing_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_each_check_when_database_and_broker_are_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"] == {"ok": True}
    assert set(body["checks"]) == {"database", "broker", "worker"}


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_broker_is_unreachable(client, unreachable_broker):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"] == {"ok": False, "error": "the broker is unreachable"}
    assert body["checks"]["database"] == {"ok": True}


@pytest.mark.django_db
def test_readyz_tells_anonymous_callers_no_raw_error_but_logs_it(
    client, unreachable_broker, caplog
):
    response = client.get("/readyz")

    text = response.content.decode()
    assert "127.0.0.1" not in text
    assert "Error" not in text
    logged = [record for record in caplog.records if record.name == "portal.health"]
    assert logged
    assert logged[0].exc_info is not None


@pytest.mark.django_db
def test_readyz_recovers_once_the_broker_is_back(client, unreachable_broker, monkeypatch):
    assert client.get("/readyz").status_code == 503
    monkeypatch.undo()
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_reports_a_missing_heartbeat_without_failing(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == {"ok": False, "last_run": None}


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_readyz_reports_a_fresh_heartbeat_as_alive(client, settings):
    settings.HEARTBEAT_STALE_AFTER_SECONDS = 180
    Heartbeat.objects.create(name=HEARTBEAT, last_run=NOW - timedelta(seconds=179))
    worker = client.get("/readyz").json()["checks"]["worker"]
    assert worker == {"ok": True, "last_run": (NOW - timedelta(seconds=179)).isoformat()}


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_readyz_reports_a_stale_heartbeat_as_not_alive_but_stays_ready(client, settings):
    settings.HEARTBEAT_STALE_AFTER_SECONDS = 180
    Heartbeat.objects.create(name=HEARTBEAT, last_run=NOW - timedelta(seconds=181))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["ok"] is False


@pytest.mark.django_db
def test_a_heartbeat_turns_stale_as_time_passes(client, settings):
    settings.HEARTBEAT_STALE_AFTER_SECONDS = 180
    with time_machine.travel(NOW, tick=False) as traveller:
        Heartbeat.objects.create(name=HEARTBEAT, last_run=NOW)
        assert client.get("/readyz").json()["checks"]["worker"]["ok"] is True
        traveller.shift(timedelta(minutes=5))
        assert client.get("/readyz").json()["checks"]["worker"]["ok"] is False


@pytest.mark.django_db
def test_probes_answer_only_get(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"
