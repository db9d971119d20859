"""Data for the new fields.

- Who wrote the existing post-mortems' sections, from their history: the author, and everyone
  whose saved change altered a section. From now on incidents.actions.postmortems records it.
- Status updates as the sending used to leave them: ``sent_at`` was stamped when a worker
  *claimed* an update, so one with no recipients was claimed by a worker that died and never
  sent; one still unsent long after it was written had failed for good (the reason is on the
  incident's timeline). Both are marked failed, so that the sweep does not email stale news;
  recent unsent ones stay due and are sent.
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

SECTIONS = (
    "summary",
    "impact",
    "timeline",
    "root_cause",
    "five_whys",
    "contributing_factors",
    "went_well",
    "went_badly",
    "got_lucky",
    "lessons",
)


def contributors_from_history(apps, schema_editor):
    PostMortem = apps.get_model("incidents", "PostMortem")
    HistoricalPostMortem = apps.get_model("incidents", "HistoricalPostMortem")
    for postmortem in PostMortem.objects.all().iterator():
        people = {postmortem.author_id} if postmortem.author_id else set()
        previous = None
        for record in HistoricalPostMortem.objects.filter(id=postmortem.pk).order_by(
            "history_date", "history_id"
        ):
            sections = tuple(getattr(record, name) for name in SECTIONS)
            if previous is not None and sections != previous and record.history_user_id:
                people.add(record.history_user_id)
            previous = sections
        if people:
            postmortem.contributors.add(*people)


def settle_status_updates(apps, schema_editor):
    StatusUpdate = apps.get_model("incidents", "StatusUpdate")
    now = timezone.now()
    StatusUpdate.objects.exclude(sent_at=None).filter(recipients=[]).update(
        sent_at=None,
        failed_at=now,
        last_error="the worker sending it stopped before the mail server took it",
    )
    StatusUpdate.objects.filter(
        sent_at=None, failed_at=None, created_at__lt=now - timedelta(hours=2)
    ).update(failed_at=now, last_error="not sent (the reason is on the timeline)")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_status_update_delivery_metrics_marks_limits")]

    operations = [
        migrations.RunPython(contributors_from_history, migrations.RunPython.noop),
        migrations.RunPython(settle_status_updates, migrations.RunPython.noop),
    ]
