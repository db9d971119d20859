import socket

from celery import shared_task
from django.utils import timezone

from portal.models import Heartbeat

HEARTBEAT = "celery"


@shared_task
def heartbeat():
    """Record that beat scheduled and a worker ran this task just now."""
    Heartbeat.objects.update_or_create(
        name=HEARTBEAT,
        defaults={"last_run": timezone.now(), "hostname": socket.gethostname()},
    )
