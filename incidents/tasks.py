"""Background work of incidents. Each task fetches by id (or takes the recorded work) and
calls one action, imported in its body; the rules live in the actions."""

from celery import shared_task
from django.utils import timezone


@shared_task(bind=True, max_retries=None)
def send_status_update(self, status_update_id: int) -> str:
    """Send one status update (incidents.actions.status_updates.status_update_send); after a
    retryable failure, try again when the action says (exponential backoff). The action
    counts the attempts and gives up after its maximum, so the task itself never does."""
    from incidents.actions.status_updates import status_update_send

    result = status_update_send(status_update_id=status_update_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.outcome


@shared_task
def sweep_status_updates() -> int:
    """Ring for every status update still to send (settings.PORTAL_SWEEPS)."""
    from incidents.actions.status_updates import status_updates_sweep

    return status_updates_sweep()


@shared_task
def recompute_changed_incident_metrics() -> int:
    """Recompute the metrics snapshots that incident changes marked, once for all of them."""
    from incidents.actions.metrics import incident_metrics_changes_recompute

    return incident_metrics_changes_recompute()


@shared_task
def sweep_incident_metrics() -> bool:
    """Ring the recompute for marked changes whose ring was lost (settings.PORTAL_SWEEPS)."""
    from incidents.actions.metrics import incident_metrics_sweep

    return incident_metrics_sweep()


@shared_task
def recompute_incident_metrics() -> int:
    """Recompute every metrics snapshot. Beat runs it every few minutes even when no incident
    changed, since the periods end now and their months move on."""
    from incidents.actions.metrics import incident_metrics_snapshots_recompute

    return incident_metrics_snapshots_recompute(now=timezone.now())
