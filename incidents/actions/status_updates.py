"""Status updates: recording one (``status_update_queue``) and sending it
(``status_update_send``), which incidents.tasks.send_status_update calls by id.

Sending is recorded work, so that no update is lost or sent twice whatever the broker or the
mail server do:

- **Claim.** A send first claims the update with a conditional update (unsent, not failed,
  unclaimed or claimed by a dead worker, its next attempt due) that counts the attempt; a
  duplicated or early task claims nothing and sends nothing.
- **Sent only when accepted.** ``sent_at`` is written after the mail server accepted the
  message. A worker that dies in between leaves a claim that goes stale after the task's hard
  time limit; the sweep then tries again, and the repeated message has the same Message-ID,
  so that mail clients show it once.
- **Retry, then give up where people see it.** A retryable failure (server unreachable, timed
  out, 4xx) gives the claim back with the reason and the time of the next attempt, with
  exponential backoff; after MAX_ATTEMPTS, or at once for a permanent failure, the update is
  marked failed and the failure is written on the incident's timeline.
- **Sweep.** ``status_updates_sweep`` rings for every update that is due: rings lost while the
  broker was down, claims of dead workers, retries whose ring was lost.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone

from incidents import tasks
from incidents.actions.incidents import timeline_entry_add
from incidents.choices import TimelineKind
from incidents.models.incidents import Incident, StatusUpdate
from incidents.status_updates import NOBODY_TO_TELL, recipients_of, unfilled_prompt_errors
from portal import doorbell, notifications
from services.models.catalog import Service

#: Attempts before a status update is marked failed: with the backoff below, about an hour.
MAX_ATTEMPTS = 8
#: The wait after the first failed attempt, doubled after each one, up to RETRY_MAX.
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
#: A retry ring may arrive this much before the time it was rung for (clocks, rounding).
EARLY_SLACK = timedelta(seconds=2)


@transaction.atomic
def status_update_queue(
    *, incident: Incident, kind: str, subject: str, body: str, by
) -> StatusUpdate:
    """Record a status update written by ``by``, to be sent once this transaction commits.
    Refused while it still holds a draft's prompts or nobody would receive it. The update is
    the record of the work: if the ring is lost, the sweep sends it."""
    errors = unfilled_prompt_errors(subject=subject, body=body)
    if errors:
        raise ValidationError(errors)
    if not recipients_of(incident):
        raise ValidationError(NOBODY_TO_TELL)
    status_update = StatusUpdate(
        incident=incident, kind=kind, subject=subject.strip(), body=body.strip(), created_by=by
    )
    status_update.full_clean()
    status_update.save()
    doorbell.ring_on_commit(tasks.send_status_update, status_update.id)
    return status_update


@dataclass(frozen=True)
class SendResult:
    """What one call of status_update_send did: ``sent``, ``retry`` (try again in
    ``retry_in`` seconds), ``failed`` (given up), or ``skipped`` (nothing to do: sent, failed,
    gone, held by another worker, or not due yet)."""

    outcome: str
    retry_in: float | None = None


def claim_expiry() -> timedelta:
    """How old a claim must be to belong to a dead worker: longer than a task may run, since
    the hard time limit replaces the worker process at that point."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1, 2, 4 … minutes, at most 30."""
    return min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)


def _due(now: datetime) -> Q:
    """Updates a worker may take now: unsent, not failed, unclaimed (or claimed by a worker
    that died), their next attempt due."""
    return (
        Q(sent_at=None, failed_at=None)
        & (Q(claimed_at=None) | Q(claimed_at__lt=now - claim_expiry()))
        & (Q(next_attempt_at=None) | Q(next_attempt_at__lte=now + EARLY_SLACK))
    )


def _claim(status_update_id: int, now: datetime) -> bool:
    return bool(
        StatusUpdate.objects.filter(_due(now), id=status_update_id).update(
            claimed_at=now, attempts=F("attempts") + 1
        )
    )


def _with_audience(status_update_id: int) -> StatusUpdate:
    services = Service.objects.select_related("owner_team").order_by("name")
    return (
        StatusUpdate.objects.select_related("incident__team", "created_by")
        .prefetch_related(
            Prefetch("incident__services", queryset=services), "incident__subscribers"
        )
        .get(id=status_update_id)
    )


def _message_id(status_update: StatusUpdate) -> str:
    """The same Message-ID on every attempt, so that a message sent twice (a worker died
    between the server's acceptance and the record of it) shows once in mail clients."""
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost"
    return f"<status-update-{status_update.pk}.{status_update.created_at:%Y%m%d%H%M%S}@{domain}>"


def _what(status_update: StatusUpdate, *, capital: bool = True) -> str:
    kind = status_update.get_kind_display()
    return f"{kind if capital else kind.lower()} status update “{status_update.subject}”"


def status_update_send(*, status_update_id: int) -> SendResult:
    """Send a status update to its incident's teams and followers, once (see the module
    docstring): claim it, render it, send it, record the result."""
    if not _claim(status_update_id, timezone.now()):
        return SendResult("skipped")
    status_update = _with_audience(status_update_id)
    incident = status_update.incident
    recipients = recipients_of(incident)
    message = notifications.render_email(
        "status-update", {"status_update": status_update, "incident": incident}, recipients
    )
    message.headers["Message-ID"] = _message_id(status_update)
    try:
        notifications.send(message)
    except notifications.RetryableNotificationError as error:
        if status_update.attempts >= MAX_ATTEMPTS:
            _give_up(status_update, error)
            return SendResult("failed")
        delay = retry_delay(status_update.attempts)
        StatusUpdate.objects.filter(id=status_update_id).update(
            claimed_at=None,
            next_attempt_at=timezone.now() + delay,
            last_error=error.summary[:500],
        )
        return SendResult("retry", retry_in=delay.total_seconds())
    except notifications.PermanentNotificationError as error:
        _give_up(status_update, error)
        return SendResult("failed")
    with transaction.atomic():
        StatusUpdate.objects.filter(id=status_update_id).update(
            sent_at=timezone.now(),
            claimed_at=None,
            next_attempt_at=None,
            last_error="",
            recipients=recipients,
        )
        timeline_entry_add(
            incident=incident,
            author=status_update.created_by,
            kind=TimelineKind.STATUS_UPDATE,
            text=f"{_what(status_update)} sent to {len(recipients)} "
            f"recipient{'s' if len(recipients) != 1 else ''}.",
        )
    return SendResult("sent")


def _give_up(status_update: StatusUpdate, error: notifications.NotificationError) -> None:
    """Mark the update failed and say so on the timeline, where its senders look."""
    if isinstance(error, notifications.PermanentNotificationError):
        reason, detail = error.summary, ""
    else:
        reason = f"{error.summary} (after {status_update.attempts} attempts)"
        detail = f"\n\nLast error: {error}"
    with transaction.atomic():
        StatusUpdate.objects.filter(id=status_update.pk).update(
            claimed_at=None,
            next_attempt_at=None,
            failed_at=timezone.now(),
            last_error=reason[:500],
        )
        timeline_entry_add(
            incident=status_update.incident,
            kind=TimelineKind.STATUS_UPDATE,
            text=f"The {_what(status_update, capital=False)} failed: {reason}{detail}",
        )


def status_updates_sweep(*, limit: int = 500) -> int:
    """Ring the send task for every status update that is due (its ring was lost, its worker
    died, or its retry's ring was lost); returns how many were rung. A ring for an update
    whose task is already coming is harmless: the claim lets one of them send it."""
    due = list(
        StatusUpdate.objects.filter(_due(timezone.now()))
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for status_update_id in due:
        doorbell.ring(tasks.send_status_update, status_update_id)
    return len(due)
