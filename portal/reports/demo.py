"""Demo reports for `make run` (portal.demo loads them last, once every other app's demo
records exist): last month's report for the organisation and for the payments team, generated
but not emailed, so the archive and a report's page have something to show at once. The
other teams' reports come from beat's hourly planning, as they would in production. Loading
again adds nothing: a report is generated once per scope and month."""

import datetime as dt

from portal.reports.actions import report_generate
from portal.reports.models import MonthlyReport
from portal.reports.months import month_of
from services.models.catalog import Team

#: The teams whose report the demo generates besides the organisation's.
DEMO_REPORT_TEAMS = ("payments",)


def load_demo_reports(now: dt.datetime) -> None:
    month = month_of(now.date()).previous()
    scopes = [None, *Team.objects.filter(slug__in=DEMO_REPORT_TEAMS).order_by("name")]
    for team in scopes:
        report, _ = MonthlyReport.objects.get_or_create(team=team, month=month.first_day)
        # Pending only when just created (or left behind): generating claims it.
        report_generate(report_id=report.pk, now=now, deliver=False)
