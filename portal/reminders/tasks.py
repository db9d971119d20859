"""Background work of reminders: thin tasks calling portal.reminders.actions."""

from celery import shared_task
from django.utils import timezone


@shared_task
def plan_digests() -> None:
    """Beat, every quarter of an hour: plan the digests of the people whose 08:00 has come."""
    from portal.reminders.actions import digests_plan

    digests_plan(now=timezone.now())


@shared_task
def send_digest(digest_id: int) -> None:
    from portal.reminders.actions import digest_send

    digest_send(digest_id=digest_id)


@shared_task
def sweep_digests() -> None:
    """PORTAL_SWEEPS: digests whose ring was lost or whose retry is due."""
    from portal.reminders.actions import digests_sweep

    digests_sweep(now=timezone.now())
