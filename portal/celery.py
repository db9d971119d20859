"""The Celery application shared by web, worker and beat."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# DjangoTask gives every task delay_on_commit(): work is only enqueued once the
# transaction that asked for it has committed.
app = Celery("portal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def sweep_when_a_worker_starts(sender, **kwargs):
    """Work recorded while no worker ran (or the broker was down) is picked up at once."""
    from portal import doorbell

    doorbell.ring_by_name("portal.tasks.sweep")
