"""The notification transport: emails rendered from three templates, sent to a real SMTP
server on loopback, and failures sorted into permanent and retryable."""

import re
import socket

import pytest

from portal import notifications
from portal.notifications import (
    Message,
    PermanentNotificationError,
    RetryableNotificationError,
    render_email,
)
from tests.servers import free_port


@pytest.fixture
def email_templates(tmp_path, settings):
    """An email named "greeting" in a template folder of its own."""
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "greeting-subject.txt").write_text("Hello\n  {{ name }}\n")
    (folder / "greeting-body.txt").write_text("Hi {{ name }} & co, see {{ portal_base_url }}/x/\n")
    (folder / "greeting-body.html").write_text("<p>Hi {{ name }}</p>\n")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    settings.PORTAL_BASE_URL = "https://portal.example.test/"


def a_message(*to):
    return Message(
        subject="Checkout degraded", text="Plain words.", html="<p>Rich words.</p>", to=to
    )


def test_render_email_fills_all_three_templates_and_keeps_the_subject_on_one_line(
    email_templates,
):
    message = render_email("greeting", {"name": "<Ada>"}, ["ada@example.test"])
    assert message.subject == "Hello <Ada>"
    # Plain text keeps what was typed; only the HTML body escapes. Links are absolute.
    assert message.text == "Hi <Ada> & co, see https://portal.example.test/x/\n"
    assert message.html == "<p>Hi &lt;Ada&gt;</p>\n"
    assert message.to == ("ada@example.test",)


# A sent message is logged (portal.models.SentEmail).
@pytest.mark.django_db
def test_a_message_arrives_with_text_and_html_parts_from_the_portal_sender(smtp_sink, settings):
    settings.DEFAULT_FROM_EMAIL = "portal@example.test"
    notifications.send(a_message("ops@example.test", "sre@example.test"))

    [delivered] = smtp_sink.delivered
    assert delivered.sender == "portal@example.test"
    assert delivered.recipients == ["ops@example.test", "sre@example.test"]
    assert delivered.message["Subject"] == "Checkout degraded"
    assert delivered.body("text/plain").strip() == "Plain words."
    assert delivered.body("text/html").strip() == "<p>Rich words.</p>"


# A sent message is logged (portal.models.SentEmail).
@pytest.mark.django_db
def test_extra_headers_travel_with_the_message(smtp_sink):
    message = Message(
        subject="S",
        text="T",
        html="<p>H</p>",
        to=("a@example.test",),
        headers={"X-Portal-Reference": "INC-2026-0001"},
    )
    notifications.send(message)
    assert smtp_sink.delivered[0].message["X-Portal-Reference"] == "INC-2026-0001"


def test_every_recipient_refused_for_good_is_a_permanent_error(smtp_sink):
    smtp_sink.refusals["gone@example.test"] = "550 No such user"
    with pytest.raises(PermanentNotificationError, match=re.escape("gone@example.test")):
        notifications.send(a_message("gone@example.test"))
    assert smtp_sink.delivered == []


def test_a_recipient_deferred_with_a_4xx_reply_is_worth_a_retry(smtp_sink):
    smtp_sink.refusals["busy@example.test"] = "451 Mailbox busy, try later"
    with pytest.raises(RetryableNotificationError, match=re.escape("busy@example.test")):
        notifications.send(a_message("busy@example.test"))


# A sent message is logged (portal.models.SentEmail).
@pytest.mark.django_db
def test_one_refused_recipient_does_not_stop_the_others(smtp_sink):
    smtp_sink.refusals["gone@example.test"] = "550 No such user"
    notifications.send(a_message("gone@example.test", "ops@example.test"))
    assert smtp_sink.delivered[0].recipients == ["ops@example.test"]


def test_a_mail_server_that_refuses_connections_is_worth_a_retry(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    with pytest.raises(RetryableNotificationError, match="unreachable"):
        notifications.send(a_message("ops@example.test"))


def test_a_mail_server_that_never_answers_times_out_and_is_worth_a_retry(settings):
    # A socket that accepts connections but never greets: the SMTP client waits, then gives up.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent.getsockname()[1]
        settings.EMAIL_TIMEOUT = 0.5
        with pytest.raises(RetryableNotificationError, match="timed out"):
            notifications.send(a_message("ops@example.test"))


def test_a_message_without_recipients_is_a_permanent_error(smtp_sink):
    with pytest.raises(PermanentNotificationError, match="no recipients"):
        notifications.send(a_message())
    assert smtp_sink.delivered == []


def test_an_address_that_is_no_address_is_a_permanent_error(smtp_sink):
    with pytest.raises(PermanentNotificationError):
        notifications.send(a_message("ops@example.test\nBcc: everyone@example.test"))
    assert smtp_sink.delivered == []
