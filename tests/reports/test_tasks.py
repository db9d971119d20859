"""The schedule and the command: last month's reports once the month is over, made and
sent once however often they run."""

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from portal.reports import tasks
from portal.reports.choices import ReportStatus
from portal.reports.models import MonthlyReport, ReportDelivery
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db


def test_the_hourly_task_writes_last_months_reports_once(month_of_records, search_team, settings):
    with time_machine.travel(NOW, tick=False):
        tasks.plan_monthly_reports()
        tasks.plan_monthly_reports()
    assert sorted(
        (report.scope, f"{report.month:%Y-%m}", report.status)
        for report in MonthlyReport.objects.select_related("team")
    ) == [
        ("org", "2026-05", ReportStatus.PENDING),
        ("payments", "2026-05", ReportStatus.PENDING),
        ("search", "2026-05", ReportStatus.PENDING),
    ]
    assert settings.CELERY_BEAT_SCHEDULE["plan-monthly-reports"]["task"] == (
        tasks.plan_monthly_reports.name
    )
    assert tasks.sweep_reports.name in settings.PORTAL_SWEEPS


def test_the_generation_task_generates_and_lists_the_recipients(month_of_records, payments, owner):
    with time_machine.travel(NOW, tick=False):
        tasks.plan_monthly_reports()
        report = MonthlyReport.objects.get(team=payments)
        tasks.generate_report(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.READY
    assert report.deliveries_planned_at == NOW
    assert set(ReportDelivery.objects.values_list("user__username", flat=True)) == {"olivia", "tom"}


def test_the_command_generates_and_sends_a_month_once(month_of_records, payments, owner, smtp_sink):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("send_monthly_reports", "--month", "2026-05", "--team", "payments", stdout=out)
        call_command("send_monthly_reports", "--month", "2026-05", "--team", "payments", stdout=out)
    assert "May 2026: 1 report(s), 2 copies sent." in out.getvalue()
    assert "May 2026: 1 report(s), 0 copies sent." in out.getvalue()
    assert len(smtp_sink.delivered) == 2


def test_the_commands_dry_run_lists_who_would_get_what(month_of_records, sre_lead):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("send_monthly_reports", "--dry-run", stdout=out)
    assert "Organisation, May 2026: 2 recipient(s)" in out.getvalue()
    assert "sasha <sasha@example.test> (sre_lead)" in out.getvalue()
    assert not MonthlyReport.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--month", "2026-13"], "is not a month"),
        (["--month", "2026-06"], "is not over yet"),
        (["--team", "nobody"], "No team “nobody”"),
    ],
)
def test_the_command_refuses_an_unknown_month_or_team(db, arguments, message):
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match=message):
        call_command("send_monthly_reports", *arguments)
