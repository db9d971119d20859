"""The portal's own retention: sign-in records and the log of sent emails older than
PORTAL_LOG_RETENTION_DAYS go every night."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessFailureLog, AccessLog

from portal.models import SentEmail
from portal.privacy import tasks

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 3, 17, tzinfo=UTC)


def sign_in(model, days_ago, username="tom"):
    record = model.objects.create(
        username=username,
        ip_address="127.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/login/",
    )
    model.objects.filter(pk=record.pk).update(attempt_time=NOW - timedelta(days=days_ago))


def email(days_ago):
    sent = SentEmail.objects.create(name="status-update", subject="s", recipients=["a@b.test"])
    SentEmail.objects.filter(pk=sent.pk).update(sent_at=NOW - timedelta(days=days_ago))


def test_the_nightly_task_deletes_sign_ins_and_email_logs_past_retention_only(settings):
    settings.PORTAL_LOG_RETENTION_DAYS = 90
    sign_in(AccessLog, 91)
    sign_in(AccessLog, 89)
    sign_in(AccessFailureLog, 120)
    sign_in(AccessFailureLog, 3)
    email(95)
    email(10)

    with time_machine.travel(NOW, tick=False):
        tasks.purge_portal_logs()

    assert AccessLog.objects.count() == 1
    assert AccessFailureLog.objects.count() == 1
    assert SentEmail.objects.count() == 1
    assert SentEmail.objects.get().sent_at == NOW - timedelta(days=10)


def test_every_email_the_portal_sends_is_logged_without_its_body(smtp_sink):
    from portal import notifications

    message = notifications.Message(
        subject="Hello",
        text="secret body",
        html="<p>secret body</p>",
        to=("a@b.test",),
        name="greeting",
    )
    notifications.send(message)

    logged = SentEmail.objects.get()
    assert (logged.name, logged.subject, logged.recipients) == ("greeting", "Hello", ["a@b.test"])
    assert "secret" not in str(logged.__dict__)


def test_the_purge_runs_nightly_from_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-portal-logs"]
    assert schedule["task"] == "portal.privacy.tasks.purge_portal_logs"
    assert schedule["schedule"].hour == {3}
