"""Incident work survives a broker outage and a mail server that never answers.

With Redis down, a status update, a declared incident and Alertmanager deliveries are saved
and answered as usual; their background work (sending the update, recomputing the metrics) is
recorded in the database and done once Redis is back and a worker starts — exactly once. A
mail server that accepts connections and never answers costs a send EMAIL_TIMEOUT, not a
worker, and the update is sent once a working server is there.
"""

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.utils import timezone
from rest_framework.test import APIClient

from incidents import tasks
from incidents.actions.status_updates import (
    status_update_queue,
    status_update_send,
    status_updates_sweep,
)
from incidents.choices import IncidentStatus, StatusUpdateKind, TimelineKind
from incidents.models.incidents import Incident, StatusUpdate, TimelineEntry
from incidents.models.metrics import IncidentMetricsDirtyMark, IncidentMetricsSnapshot
from portal.celery import app as celery_app
from portal.celery import sweep_when_a_worker_starts
from portal.tasks import sweep
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "alertmanager-fault-token"


def wait_for(condition, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@contextmanager
def worker():
    """A real worker on the test's Redis. The test worker does not send worker_ready, so
    the test does what that signal's handler does: ring the sweep."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        sweep_when_a_worker_starts(sender=None)
        yield


@pytest.fixture
def task_runs():
    """(task name, return value) of every task a worker ran during the test."""
    runs = []

    def record(sender=None, retval=None, **kwargs):
        runs.append((sender.name, retval))

    task_postrun.connect(record, weak=False)
    yield runs
    task_postrun.disconnect(record)


@pytest.fixture
def alertmanager(settings):
    settings.ALERTMANAGER_WEBHOOK_TOKEN = TOKEN
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return client


def webhook(status="firing"):
    return {
        "version": "4",
        "groupKey": '{}:{alertname="GatewayErrors"}',
        "status": status,
        "receiver": "reliability-portal",
        "groupLabels": {"alertname": "GatewayErrors"},
        "commonLabels": {"alertname": "GatewayErrors"},
        "commonAnnotations": {"summary": "Gateway errors"},
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "GatewayErrors", "service": "payments-api"},
                "annotations": {},
                "startsAt": (timezone.now() - timedelta(minutes=2)).isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "0f1e2d3c4b5a6978",
            }
        ],
    }


def test_work_requested_while_redis_is_down_is_done_once_when_it_is_back(
    restartable_redis, smtp_sink, settings, api_client_for, owner, service, alertmanager, task_runs
):
    settings.INCIDENT_METRICS_RECOMPUTE_DELAY = 1
    restartable_redis.stop()

    api = api_client_for(owner)
    declared = api.post(
        "/api/incidents/",
        {"title": "Card payments fail", "severity": "SEV2", "services": [service.slug]},
    )
    assert declared.status_code == 201, declared.content
    update = api.post(
        f"{declared.json()['url']}status-updates/",
        {"kind": "initial", "subject": "Card payments fail", "body": "We are on it."},
    )
    assert update.status_code == 201, update.content
    # Alertmanager delivers, times out on a slow answer and delivers again.
    answers = [
        alertmanager.post("/api/alerts/alertmanager/", webhook(), format="json") for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert sum(answer.json()["created"] for answer in answers) == 1

    # Everything is recorded, nothing is done yet.
    status_update = StatusUpdate.objects.get()
    assert status_update.sent_at is None
    assert IncidentMetricsDirtyMark.objects.exists()
    assert not IncidentMetricsSnapshot.objects.exists()
    assert smtp_sink.delivered == []

    restartable_redis.start()
    with worker():
        assert wait_for(
            lambda: (
                smtp_sink.delivered
                and not IncidentMetricsDirtyMark.objects.exists()
                and IncidentMetricsSnapshot.objects.exists()
            )
        )
        # Room for any duplicate to show up: the sweep again, a second ring.
        sweep()
        time.sleep(3)

    assert len(smtp_sink.delivered) == 1
    status_update.refresh_from_db()
    assert status_update.sent_at is not None and status_update.attempts == 1
    sent_entries = TimelineEntry.objects.filter(kind=TimelineKind.STATUS_UPDATE)
    assert sent_entries.count() == 1
    recomputes = [
        written
        for name, written in task_runs
        if name == tasks.recompute_changed_incident_metrics.name
    ]
    assert len([written for written in recomputes if written]) == 1
    assert Incident.objects.count() == 2  # the declared one and the alert's
    organisation = IncidentMetricsSnapshot.objects.get(team=None, months=3)
    assert organisation.metrics().count == 2


@dataclass
class SilentServer:
    port: int
    connections: list = field(default_factory=list)


@pytest.fixture
def silent_smtp():
    """A server that accepts TCP connections and never says a word (no SMTP greeting)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server = SilentServer(port=free_port())
    listener.bind(("127.0.0.1", server.port))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            server.connections.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join(timeout=5)
    for connection in server.connections:
        connection.close()
    listener.close()


def test_a_mail_server_that_never_answers_costs_a_send_its_timeout_then_the_update_goes_out(
    restartable_redis, silent_smtp, smtp_sink, settings, owner, service, payments
):
    incident = Incident.objects.create(
        reference="INC-2026-0100",
        title="Checkout fails",
        severity="SEV2",
        status=IncidentStatus.INVESTIGATING,
        started_at=timezone.now(),
        team=payments,
    )
    # The smtp_sink fixture set up SMTP; mail goes to the silent server first.
    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = silent_smtp.port, 2
    with worker():
        status_update = status_update_queue(
            incident=incident,
            kind=StatusUpdateKind.INITIAL,
            subject="On it",
            body="Looking.",
            by=owner,
        )
        started = time.monotonic()
        # While the worker waits on the server, the update is claimed, not "sent".
        assert wait_for(
            lambda: (
                StatusUpdate.objects.exclude(claimed_at=None).filter(pk=status_update.pk).exists()
            )
        )
        sending = StatusUpdate.objects.get(pk=status_update.pk)
        assert (sending.sent_at, sending.delivery) == (None, "sending")
        assert wait_for(
            lambda: StatusUpdate.objects.filter(
                pk=status_update.pk, attempts=1, claimed_at=None
            ).exists(),
            timeout=20,
        )
        # The worker was held for the mail timeout, not for ever.
        assert time.monotonic() - started < settings.EMAIL_TIMEOUT + 8
        assert silent_smtp.connections  # it did connect
        status_update.refresh_from_db()
        assert status_update.sent_at is None
        assert (status_update.delivery, status_update.last_error) == (
            "retrying",
            "mail server unreachable",
        )

        # A working server is there, and the retry's time has come.
        settings.EMAIL_PORT = smtp_sink.port
        StatusUpdate.objects.filter(pk=status_update.pk).update(next_attempt_at=timezone.now())
        assert status_updates_sweep() == 1
        assert wait_for(lambda: smtp_sink.delivered)
    assert len(smtp_sink.delivered) == 1
    status_update.refresh_from_db()
    assert status_update.sent_at is not None and status_update.attempts == 2
    # The scheduled retry, when it comes, finds it sent.
    assert status_update_send(status_update_id=status_update.pk).outcome == "skipped"
