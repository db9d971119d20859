"""The one way the portal sends anything outwards: ``send(message)``.

Email is the transport today; chat and webhooks can join behind the same ``send`` later.
Callers get one of two errors when a send fails, and only need to know which:

- ``PermanentNotificationError``: trying again will fail the same way (every recipient
  refused, a malformed address, a 5xx reply); record it and move on.
- ``RetryableNotificationError``: the server could not be reached, timed out (EMAIL_TIMEOUT,
  or the task's soft time limit while talking to it), hung up or answered 4xx (try later); a
  task should retry with backoff.

Each error has a ``summary`` short enough for a status line ("mail server unreachable").

Emails come from three templates, ``emails/<name>-subject.txt``, ``emails/<name>-body.txt``
and ``emails/<name>-body.html``, rendered by ``render_email``. This module imports no app.
"""

import smtplib
from dataclasses import dataclass, field
from email.mime.image import MIMEImage

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string


class NotificationError(Exception):
    """A message could not be sent; ``summary`` says why in a few words (the message itself
    when none is given)."""

    def __init__(self, message: str, *, summary: str = ""):
        super().__init__(message)
        self.summary = summary or message


class PermanentNotificationError(NotificationError):
    """The message will never go through as it is: retrying would not help."""


class RetryableNotificationError(NotificationError):
    """The transport failed for now: the same message may go through later."""


@dataclass(frozen=True)
class InlineImage:
    """A PNG the HTML body shows as ``<img src="cid:{cid}">``: mail clients run no scripts
    and draw SVG badly, so charts travel as images inside the message."""

    cid: str
    png: bytes
    filename: str


@dataclass(frozen=True)
class Message:
    """A rendered notification: a subject, a plain-text and an HTML body, and its recipients;
    ``images`` are attached for the HTML body to show inline (multipart/related)."""

    subject: str
    text: str
    html: str
    to: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)
    #: The email templates it came from (``status-update``), for the log of sent emails.
    name: str = ""
    images: tuple[InlineImage, ...] = ()


def render_email(name: str, context: dict, to) -> Message:
    """Render the ``emails/<name>-*`` templates with the context into a Message for ``to``.

    Every template also gets ``portal_base_url``, so that links in emails are absolute.
    """
    context = {"portal_base_url": settings.PORTAL_BASE_URL.rstrip("/"), **context}
    # A subject is one line whatever the template's line breaks; a header cannot hold more.
    subject = " ".join(_render_plain_text(f"emails/{name}-subject.txt", context).split())
    return Message(
        subject=subject,
        text=_render_plain_text(f"emails/{name}-body.txt", context),
        html=render_to_string(f"emails/{name}-body.html", context),
        to=tuple(to),
        name=name,
    )


def _render_plain_text(template_name: str, context: dict) -> str:
    # Plain text is not HTML: "Q&A <beta>" must reach the reader as typed, not as entities.
    template = get_template(template_name).template
    return template.render(Context(context, autoescape=False))


UNREACHABLE = "mail server unreachable"


def _is_permanent_reply(code: int) -> bool:
    # SMTP replies: 4xx is a transient failure, 5xx a permanent one (RFC 5321, 4.2.1).
    return 500 <= code < 600


class EmailTransport:
    """Sends a Message as one multipart email (text and HTML) through Django's mail backend."""

    def send(self, message: Message) -> None:
        if not message.to:
            raise PermanentNotificationError("The message has no recipients.")
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=list(message.to),
            headers=message.headers,
        )
        email.attach_alternative(message.html, "text/html")
        if message.images:
            # multipart/related around multipart/alternative: the HTML part and the images it
            # references by Content-ID travel together, the plain text stays an alternative.
            email.mixed_subtype = "related"
            for image in message.images:
                part = MIMEImage(image.png, "png")
                part.add_header("Content-ID", f"<{image.cid}>")
                part.add_header("Content-Disposition", "inline", filename=image.filename)
                email.attach(part)
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            # Raised only when every recipient was refused; a 4xx among them may pass later.
            codes = [code for code, _reply in error.recipients.values()]
            refused = ", ".join(sorted(error.recipients))
            if all(_is_permanent_reply(code) for code in codes):
                raise PermanentNotificationError(
                    f"Every recipient was refused: {refused}."
                ) from error
            raise RetryableNotificationError(
                f"Recipients deferred: {refused}.", summary="recipients deferred"
            ) from error
        except smtplib.SMTPResponseException as error:
            reply = f"{error.smtp_code} {error.smtp_error!r}"
            if _is_permanent_reply(error.smtp_code):
                raise PermanentNotificationError(f"The mail server refused: {reply}.") from error
            raise RetryableNotificationError(
                f"The mail server deferred: {reply}.", summary="mail server busy"
            ) from error
        except smtplib.SMTPServerDisconnected as error:
            # Also what a server that accepts the connection and never answers ends in, once
            # EMAIL_TIMEOUT has passed.
            raise RetryableNotificationError(
                f"The mail server hung up: {error}.", summary=UNREACHABLE
            ) from error
        except SoftTimeLimitExceeded as error:
            # The task's time ran out while the server kept it waiting.
            raise RetryableNotificationError(
                "The mail server did not answer in time.", summary=UNREACHABLE
            ) from error
        except (smtplib.SMTPException, ValueError) as error:
            # SMTPException is an OSError too, so it is sorted out first: what remains of it is
            # configuration the server does not support (e.g. no STARTTLS), and a ValueError
            # is an address that is no address. Neither improves by waiting.
            raise PermanentNotificationError(f"The message cannot be sent: {error}.") from error
        except OSError as error:
            # Connection refused, reset or timed out: the server may be back soon.
            raise RetryableNotificationError(
                f"The mail server was unreachable: {error}.", summary=UNREACHABLE
            ) from error


_transport = EmailTransport()


def send(message: Message) -> None:
    """Send the message through the portal's transport; raises a NotificationError subclass.
    What was sent to whom is logged (portal.models.SentEmail; kept PORTAL_LOG_RETENTION_DAYS)."""
    _transport.send(message)
    # Imported here: this module is loaded by tasks modules before the app registry is ready.
    from portal.models import SentEmail

    SentEmail.objects.create(
        name=message.name, subject=message.subject[:250], recipients=list(message.to)
    )
