import socket

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from portal import doorbell
from portal.models import Heartbeat

HEARTBEAT = "celery"


@shared_task
def heartbeat():
    """Record that beat scheduled and a worker ran this task just now."""
    Heartbeat.objects.update_or_create(
        name=HEARTBEAT,
        defaults={"last_run": timezone.now(), "hostname": socket.gethostname()},
    )


@shared_task
def sweep():
    """Ring for every kind of recorded work (settings.PORTAL_SWEEPS): each app's sweep task
    finds what the database says is still to do — work whose ring was lost while the broker
    was down, or whose worker died — and does it, once. Beat runs this every minute and every
    worker runs it when it starts."""
    for name in settings.PORTAL_SWEEPS:
        doorbell.ring_by_name(name)
