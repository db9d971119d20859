"""Beat's schedule for the demo SLOs' synthetic SLI data, added when the demo is loaded."""

from django_celery_beat.models import IntervalSchedule, PeriodicTask

#: How often the worker pushes the demo SLOs' new buckets.
DEMO_SLI_DATA_EVERY_MINUTES = 5


def schedule_demo_sli_data() -> None:
    """Have beat push the demo SLOs' data every few minutes, so that they stay fresh while
    the demo runs. Kept in beat's database schedule, next to the settings' tasks, since only a
    database with the demo loaded needs it."""
    every, _ = IntervalSchedule.objects.get_or_create(
        every=DEMO_SLI_DATA_EVERY_MINUTES, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.update_or_create(
        name="Demo SLI data",
        defaults={"task": "services.tasks.push_demo_sli_data", "interval": every, "enabled": True},
    )
