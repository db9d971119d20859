"""Celery tasks for SLI data: fetch by id, call the actions, retry with backoff."""

import random

from celery import shared_task
from django.utils import timezone

from services.models.slos import SLO
from services.prometheus import PrometheusError
from services.selectors import slos as slo_selectors

#: Retries of one SLO's sync while Prometheus is unreachable; beat starts a fresh sync every
#: minute anyway, so a few retries bridge a restart without piling up behind the schedule.
SYNC_RETRIES = 3
#: Seconds before the first retry; each further retry waits twice as long (plus jitter, so that
#: the SLOs of one failed cycle do not all come back in the same second).
SYNC_BACKOFF_SECONDS = 10


def backoff_seconds(retries: int) -> float:
    base = SYNC_BACKOFF_SECONDS * 2**retries
    return base + random.uniform(0, base / 2)


@shared_task
def sync_slis():
    """One sync task per SLO fed by Prometheus, so that a slow or failing SLO holds up no
    other."""
    for slo_id in slo_selectors.slos_synced_from_prometheus().values_list("pk", flat=True):
        sync_slo.delay(slo_id)


@shared_task(bind=True, max_retries=SYNC_RETRIES)
def sync_slo(self, slo_id: int):
    """Fetch one SLO's new buckets and recompute its status. Retried with exponential backoff
    while Prometheus is unreachable; a refused query is recorded on the status, not retried."""
    slo = slo_selectors.slos_synced_from_prometheus().filter(pk=slo_id).first()
    if slo is None:  # deleted, or fed by pushes, since the fan-out
        return
    try:
        from services.actions.sli import slo_sync

        slo_sync(slo=slo, now=timezone.now())
    except PrometheusError as error:
        if error.retryable:
            raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from error


@shared_task
def recompute_slo_status(slo_id: int):
    """Recompute one SLO's status from its stored buckets (after a push)."""
    slo = SLO.objects.filter(pk=slo_id).first()
    if slo is not None:
        from services.actions.sli import slo_status_recompute

        slo_status_recompute(slo=slo, now=timezone.now())


@shared_task
def recompute_slo_statuses():
    """Recompute every SLO's status from stored buckets (after a change of budget policy)."""
    from services.actions.sli import slo_statuses_recompute

    slo_statuses_recompute(now=timezone.now())


@shared_task
def recompute_dirty_checks():
    """Run the checks of the services marked dirty and score them (services.actions.scorecards):
    rung on commit by the change that marked them, and by the sweep. A full batch rings again
    for the rest."""
    from portal import doorbell
    from services.actions.scorecards import DIRTY_BATCH, checks_recompute_dirty

    if checks_recompute_dirty(now=timezone.now()) >= DIRTY_BATCH:
        doorbell.ring(recompute_dirty_checks)


@shared_task
def recompute_all_checks():
    """Nightly: every service's checks and scores again, since time alone changes some answers
    (a post-mortem falls past due, an approval or a waiver expires)."""
    from services.actions.scorecards import checks_recompute

    checks_recompute(service_ids=None, now=timezone.now())


@shared_task
def record_scorecard_trends():
    """Weekly: the scorecards' snapshot per team and for the organisation."""
    from services.actions.scorecards import scorecard_trends_record

    scorecard_trends_record(now=timezone.now())
