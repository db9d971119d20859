"""manage.py send_monthly_reports [--month YYYY-MM] [--team SLUG] [--dry-run]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.reports import selectors
from portal.reports.actions import (
    report_deliveries_plan,
    report_delivery_send,
    report_generate,
    reports_plan,
)
from portal.reports.models import MonthlyReport
from portal.reports.months import last_full_month, parse_month
from services.models.catalog import Team


class Command(BaseCommand):
    help = (
        "Generate and send the monthly reports of --month (default: last month), the "
        "organisation's and every team's, or --team's only. Reports already generated are "
        "kept, and nobody gets a report twice. --dry-run lists who would get which report."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: last month.")
        parser.add_argument("--team", help="A team's slug: only its report.")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, month=None, team=None, dry_run=False, **options):
        now = timezone.now()
        try:
            period = parse_month(month, now=now) if month else last_full_month(now)
        except ValidationError as error:
            raise CommandError(" ".join(error.message_dict["month"])) from error
        scope = None
        if team:
            scope = Team.objects.filter(slug=team).first()
            if scope is None:
                raise CommandError(f"No team “{team}”.")
        if dry_run:
            scopes = [scope] if scope else [None, *Team.objects.order_by("name")]
            for item in scopes:
                report = MonthlyReport(team=item, month=period.first_day)
                people = selectors.report_recipients(report)
                self.stdout.write(f"{report}: {len(people)} recipient(s)")
                for person, reason in people:
                    address = person.email or "no email address: skipped"
                    self.stdout.write(f"  {person.username} <{address}> ({reason})")
            self.stdout.write("Dry run: nothing generated or sent.")
            return
        for report_id in reports_plan(month=period, team=scope):
            report_generate(report_id=report_id, now=now, deliver=False)
        reports = MonthlyReport.objects.filter(month=period.first_day).select_related("team")
        if scope is not None:
            reports = reports.filter(team=scope)
        sent = 0
        for report in reports:
            if report.status != "ready":
                self.stdout.write(f"{report}: {report.get_status_display()} {report.last_error}")
                continue
            report_deliveries_plan(report=report, now=now)
            for delivery_id in (
                selectors.deliveries_due(now).filter(report=report).values_list("pk", flat=True)
            ):
                sent += report_delivery_send(delivery_id=delivery_id) == "sent"
            report.refresh_from_db(fields=["skipped"])
            if report.skipped:
                self.stdout.write(f"{report}: no email address for {', '.join(report.skipped)}")
        self.stdout.write(f"{period.label}: {reports.count()} report(s), {sent} copies sent.")
