"""The report's toil and maturity sections, fed by the toil inventory and the scorecards."""

import datetime as dt

import pytest
import time_machine

from portal.reports.actions import report_generate, reports_plan
from portal.reports.models import MonthlyReport
from portal.reports.months import month_of
from tests.factories import TeamFactory
from tests.reports.conftest import NOW
from tests.toil.factories import ToilItemFactory

pytestmark = pytest.mark.django_db

MAY = month_of(dt.date(2026, 5, 1))


def generated(team=None) -> MonthlyReport:
    with time_machine.travel(NOW, tick=False):
        for report_id in reports_plan(month=MAY, team=team):
            report_generate(report_id=report_id, now=NOW, deliver=False)
    report = MonthlyReport.objects.get(team=team, month=MAY.first_day)
    assert report.status == "ready", report.last_error
    return report


def test_a_teams_report_shows_its_toil_hours_and_share_of_capacity(service, payments, owner):
    ToilItemFactory(team=payments, task="Manual deployments")  # 50 times 30 min a month
    report = generated(payments)
    toil = report.figures["toil"]
    [row] = toil["rows"]
    assert row["team"] == "Payments"
    estimated = row["values"][0]
    assert (estimated["label"], estimated["value"]) == ("Estimated", 25.0)
    assert "Estimated" in report.html and "25.0 h" in report.html
    assert toil["summary"].startswith("0 teams over the toil cap")


def test_the_organisations_report_lists_every_team_with_toil_and_sums_their_hours(
    service, payments, owner
):
    busy = TeamFactory(name="Checkout")
    ToilItemFactory(team=payments, task="Manual deployments")
    # 400 times 30 min: 200 hours a month.
    ToilItemFactory(team=busy, task="Hand-run backups", frequency=400, minutes_each=30)
    report = generated(None)
    toil = report.figures["toil"]
    assert [row["team"] for row in toil["rows"]] == ["Checkout", "Payments"]
    assert toil["figures"][0]["value"] == 225.0  # estimated hours, summed


def test_a_team_without_toil_says_no_data_in_the_toil_section(service, payments):
    report = generated(payments)
    assert report.figures["toil"] is None


def test_the_maturity_section_counts_levels_and_unreviewed_production_services(service, payments):
    report = generated(payments)
    maturity = report.figures["maturity"]
    unreviewed = maturity["figures"][-1]
    assert unreviewed["label"].startswith("Tier-1/2 services in production without")
    assert unreviewed["value"] == 1  # the tier-2 service in production, never reviewed
    assert maturity["columns"][0] == "No level"
    assert "Readiness and maturity" in report.html
