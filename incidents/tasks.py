"""Background work of incidents: sending status updates (queued by
incidents.actions.status_update_queue) and recomputing the metrics snapshots."""

import logging

from celery import shared_task
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from incidents.choices import TimelineKind
from incidents.models.incidents import StatusUpdate
from incidents.status_updates import recipients_of
from portal import notifications
from services.models.catalog import Service

logger = logging.getLogger(__name__)


def _status_update_with_audience(status_update_id: int) -> StatusUpdate:
    services = Service.objects.select_related("owner_team").order_by("name")
    return (
        StatusUpdate.objects.select_related("incident__team", "created_by")
        .prefetch_related(
            Prefetch("incident__services", queryset=services), "incident__subscribers"
        )
        .get(id=status_update_id)
    )


def _release_claim(status_update_id: int) -> None:
    StatusUpdate.objects.filter(id=status_update_id).update(sent_at=None)


@shared_task(
    bind=True,
    autoretry_for=(notifications.RetryableNotificationError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def send_status_update(self, status_update_id: int) -> None:
    """Email a status update to its incident's teams and subscribers, once.

    The update is claimed by stamping ``sent_at`` only while it is empty, so a duplicate
    or retried task finds it claimed and sends nothing. A failure gives the claim back: a
    retryable one to be tried again later (with backoff), a permanent one noted on the
    timeline for a person to look at.
    """
    from incidents.actions.incidents import timeline_entry_add

    claimed = StatusUpdate.objects.filter(id=status_update_id, sent_at=None).update(
        sent_at=timezone.now()
    )
    if not claimed:
        logger.info("Status update %s is already sent or gone; nothing to do.", status_update_id)
        return
    status_update = _status_update_with_audience(status_update_id)
    incident = status_update.incident
    recipients = recipients_of(incident)
    message = notifications.render_email(
        "status-update",
        {"status_update": status_update, "incident": incident},
        recipients,
    )
    try:
        notifications.send(message)
    except notifications.RetryableNotificationError:
        _release_claim(status_update_id)
        raise
    except notifications.PermanentNotificationError as error:
        with transaction.atomic():
            _release_claim(status_update_id)
            timeline_entry_add(
                incident=incident,
                kind=TimelineKind.STATUS_UPDATE,
                text=f"The {status_update.get_kind_display().lower()} status update "
                f"“{status_update.subject}” could not be sent: {error}",
            )
        return
    with transaction.atomic():
        StatusUpdate.objects.filter(id=status_update_id).update(recipients=recipients)
        timeline_entry_add(
            incident=incident,
            author=status_update.created_by,
            kind=TimelineKind.STATUS_UPDATE,
            text=f"{status_update.get_kind_display()} status update “{status_update.subject}” "
            f"sent to {len(recipients)} recipient{'s' if len(recipients) != 1 else ''}.",
        )


@shared_task
def recompute_incident_metrics() -> None:
    """Recompute the metrics page's snapshots. Beat runs it every few minutes even when no
    incident changed, since the periods end now and their months move on; a change to an
    incident's figures queues it at once."""
    from incidents.actions.metrics import incident_metrics_snapshots_recompute

    incident_metrics_snapshots_recompute(now=timezone.now())
