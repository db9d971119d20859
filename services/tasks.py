"""Celery tasks for SLI data: fetch by id, call one action (imported inside the task, so that
actions and tasks never import each other at load time), retry with backoff."""

import random

from celery import shared_task
from django.utils import timezone

from portal import doorbell
from services.prometheus import PrometheusError
from services.selectors import slos as slo_selectors

#: Retries of one SLO's sync while Prometheus is unreachable; beat starts a fresh sync every
#: minute anyway, so a few retries bridge a restart without piling up behind the schedule.
SYNC_RETRIES = 3
#: Seconds before the first retry; each further retry waits twice as long (plus jitter, so that
#: the SLOs of one failed cycle do not all come back in the same second).
SYNC_BACKOFF_SECONDS = 10
#: Seconds after a sync cycle's fan-out before its SLOs are recomputed, in one batch: time for
#: the workers to sync every SLO of the cycle. Stragglers are picked up by the sweep.
SYNC_RECOMPUTE_DELAY_SECONDS = 30


def backoff_seconds(retries: int) -> float:
    base = SYNC_BACKOFF_SECONDS * 2**retries
    return base + random.uniform(0, base / 2)


@shared_task
def sync_slis():
    """One sync task per SLO fed by Prometheus, so that a slow or failing SLO holds up no other,
    then one recompute of all the SLOs they mark dirty."""
    slo_ids = list(slo_selectors.slos_synced_from_prometheus().values_list("pk", flat=True))
    for slo_id in slo_ids:
        doorbell.ring(sync_slo, slo_id)
    if slo_ids:
        doorbell.ring(recompute_dirty_slos, countdown=SYNC_RECOMPUTE_DELAY_SECONDS)


@shared_task(bind=True, max_retries=SYNC_RETRIES)
def sync_slo(self, slo_id: int):
    """Fetch one SLO's new buckets and mark it dirty. Retried with exponential backoff while
    Prometheus is unreachable; a refused query is recorded on the status, not retried."""
    from services.actions.sli import slo_sync

    slo = slo_selectors.slos_synced_from_prometheus().filter(pk=slo_id).first()
    if slo is None:  # deleted, or fed by pushes, since the fan-out
        return
    try:
        slo_sync(slo=slo, now=timezone.now())
    except PrometheusError as error:
        if error.retryable:
            raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from error


@shared_task
def recompute_dirty_slos():
    """Recompute every dirty SLO's snapshot, once, in one batch: rung a few seconds after a
    push or a change, after a sync cycle, and by the sweep (settings.PORTAL_SWEEPS)."""
    from services.actions.statuses import slo_statuses_recompute_dirty

    slo_statuses_recompute_dirty(now=timezone.now())


@shared_task
def mark_stale_slos():
    """Mark stale the snapshots whose newest data has grown too old, whatever feeds their SLO
    (a sweep: settings.PORTAL_SWEEPS)."""
    from services.actions.statuses import slo_statuses_mark_stale

    slo_statuses_mark_stale(now=timezone.now())


@shared_task
def push_demo_sli_data():
    """The demo SLOs' buckets up to now, as a system pushing SLI data would send them; beat
    runs it when `make run` loaded the demo (portal.demo.sli_schedule.schedule_demo_sli_data)."""
    from services.demo import load_demo_slos

    load_demo_slos(timezone.now())


@shared_task
def recompute_dirty_checks():
    """Run the checks of the services marked dirty and score them (services.actions.scorecards):
    rung on commit by the change that marked them, and by the sweep. A full batch rings again
    for the rest."""
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
