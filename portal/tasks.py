import socket

from celery import shared_task
from django.utils import timezone

from portal.models import Heartbeat
from services.demo import load_demo_slos

HEARTBEAT = "celery"


@shared_task
def heartbeat():
    """Record that beat scheduled and a worker ran this task just now."""
    Heartbeat.objects.update_or_create(
        name=HEARTBEAT,
        defaults={"last_run": timezone.now(), "hostname": socket.gethostname()},
    )


@shared_task
def push_demo_sli_data():
    """The demo SLOs' buckets up to now, as a system pushing SLI data would send them; beat
    runs it when `make run` loaded the demo (portal.demo.schedule_demo_sli_data)."""
    load_demo_slos(timezone.now())
