"""Background work of change approvals: the emails owed about changes (recorded by
toil.actions.changes, sent by toil.actions.emails) and the DORA snapshots
(toil.actions.deployments). Thin: each task fetches by id and calls one action."""

from celery import shared_task
from django.utils import timezone

from portal import doorbell, notifications


@shared_task(
    autoretry_for=(notifications.RetryableNotificationError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def send_change_notification(notification_id: int) -> None:
    """Send an email owed about a change, once (the action claims it)."""
    from toil.actions.emails import change_notification_send

    change_notification_send(notification_id=notification_id)


@shared_task
def recompute_dora() -> None:
    """Recompute the months whose deployments or caused incidents changed."""
    from toil.actions.deployments import dora_dirty_recompute

    dora_dirty_recompute(now=timezone.now())


@shared_task
def recompute_all_dora() -> None:
    """Recompute every month the DORA page shows: beat runs it hourly, since the current
    month's frequency counts the days gone so far, and a new month begins."""
    from toil.actions.deployments import dora_snapshots_recompute

    dora_snapshots_recompute(now=timezone.now())


@shared_task
def sweep_changes() -> None:
    """Ring again for recorded work whose ring was lost: unsent change emails, dirty DORA
    months (settings.PORTAL_SWEEPS)."""
    from toil.actions.deployments import dora_has_dirty_months
    from toil.actions.emails import change_notifications_unsent

    for notification_id in change_notifications_unsent():
        doorbell.ring(send_change_notification, notification_id)
    if dora_has_dirty_months():
        doorbell.ring(recompute_dora)
