"""manage.py send_reminders [--dry-run] [--date YYYY-MM-DD]: the daily digests, by hand."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.reminders.actions import digest_send, digests_plan


class Command(BaseCommand):
    help = (
        "Plan and send the daily digests: everyone's of --date (any hour), else those whose "
        "08:00 has come today. --dry-run prints who would get what and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day of the digests, YYYY-MM-DD.")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, date=None, dry_run=False, **options):
        day = None
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as error:
                raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}.") from error
        plan = digests_plan(now=timezone.now(), day=day, dry_run=dry_run)
        for planned in plan.digests:
            self.stdout.write(
                f"{planned.user.username} <{planned.user.email}> {planned.day}: "
                f"{planned.item_count} item(s), {planned.escalated_count} escalated"
            )
            for group in planned.groups:
                for item in group["items"]:
                    late = f", {item['days_late']} days late" if item["days_late"] else ""
                    self.stdout.write(
                        f"  [{group['label']}] {item['title']} (due {item['due']}{late})"
                    )
        for person in plan.without_address:
            self.stdout.write(f"{person.username}: skipped, no email address")
        self.stdout.write(
            f"{len(plan.digests)} digest(s), {len(plan.nothing_due)} with nothing due, "
            f"{len(plan.without_address)} without an address"
            + (" (dry run: nothing recorded or sent)." if dry_run else ".")
        )
        if dry_run:
            return
        from portal.reminders.models import Digest

        ids = Digest.objects.filter(
            user__in=[planned.user for planned in plan.digests],
            day__in={planned.day for planned in plan.digests},
        ).values_list("pk", flat=True)
        outcomes = [digest_send(digest_id=pk) for pk in ids]
        self.stdout.write(
            f"Sent {outcomes.count('sent')}; others: {len(outcomes) - outcomes.count('sent')}."
        )
