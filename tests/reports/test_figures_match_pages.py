"""A report's figures equal the portal's own pages for the same month and scope: the SLO
page's monthly attainment, the incident metrics page of that month, and the scorecard's
budgets; and months begin at midnight in TIME_ZONE."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from incidents.choices import Severity
from portal.reports.actions import report_generate, reports_plan
from portal.reports.models import MonthlyReport
from portal.reports.months import last_full_month, month_of, parse_month
from tests.incidents.factories import resolved_incident
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db

MAY = month_of(dt.date(2026, 5, 1))


def generated(team=None, month=MAY) -> MonthlyReport:
    with time_machine.travel(NOW, tick=False):
        for report_id in reports_plan(month=month, team=team):
            report_generate(report_id=report_id, now=NOW, deliver=False)
    return MonthlyReport.objects.get(month=month.first_day, team=team)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_each_slos_attainment_equals_the_month_on_its_slo_page(
    month_of_records, payments, client_for, viewer
):
    report = generated(payments)
    client = client_for(viewer)
    for row in report.figures["slos"]["rows"]:
        page = text_of(client.get(row["url"]))
        shown = f"{row['attainment'] * 100:.3f} %"
        verdict = "met" if row["met"] else "missed"
        assert re.search(rf"May 2026 {re.escape(shown)} {verdict}", page), (row["name"], shown)
        previous = f"{row['previous_attainment'] * 100:.3f} %"
        assert f"April 2026 {previous}" in page


def test_the_incident_figures_equal_the_metrics_page_of_that_month(
    month_of_records, payments, client_for, viewer
):
    for team in (payments, None):
        report = generated(team)
        incidents = report.figures["incidents"]
        page = text_of(client_for(viewer).get(incidents["metrics_url"]))
        assert f"Incidents that started in May 2026 (UTC): {incidents['count']}" in page
        counts = " ".join(str(incidents["by_severity"][code]) for code in Severity.values)
        assert f"May 2026 {counts} {incidents['count']}" in page


def test_the_metrics_page_of_a_month_shows_the_same_durations_as_the_report(
    month_of_records, payments, client_for, viewer
):
    report = generated(payments)
    response = client_for(viewer).get(report.figures["incidents"]["metrics_url"])
    figures = response.context["figures"]
    by_label = {item["label"]: item["value"] for item in report.figures["incidents"]["figures"]}
    assert figures.count == by_label["Incidents"]
    assert figures.mtta.mean.total_seconds() == by_label["MTTA (mean)"]
    assert figures.mttr.mean.total_seconds() == by_label["MTTR (mean)"]
    assert figures.mtbf.total_seconds() == by_label["MTBF"]


def test_the_budgets_now_equal_the_scorecard(month_of_records, payments, client_for, viewer):
    report = generated(payments)
    budget = report.figures["budget"]
    page = text_of(client_for(viewer).get(reverse("team_scorecard", args=["payments"])))
    for row in budget["rows"]:
        shown = f"{row['remaining'] * 100:.1f} %"
        assert re.search(rf"{row['name']} .*?{re.escape(shown)}", page), (row["name"], shown)
        assert row["tier"] in page


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Kolkata"])
def test_months_begin_at_midnight_in_the_portals_time_zone(
    zone, settings, service, client_for, viewer
):
    settings.TIME_ZONE = zone
    tz = month_of(dt.date(2026, 5, 1)).start.tzinfo
    # Half an hour before and after midnight at the start and the end of May, local time.
    starts = [
        dt.datetime(2026, 4, 30, 23, 30, tzinfo=tz),
        dt.datetime(2026, 5, 1, 0, 30, tzinfo=tz),
        dt.datetime(2026, 5, 31, 23, 30, tzinfo=tz),
        dt.datetime(2026, 6, 1, 0, 30, tzinfo=tz),
    ]
    for start in starts:
        resolved_incident(service, started=start, minutes=20, severity=Severity.SEV3)
    with time_machine.travel(dt.datetime(2026, 6, 2, tzinfo=dt.UTC), tick=False):
        assert last_full_month(dt.datetime.now(dt.UTC)).key == "2026-05"
        for report_id in reports_plan(month=parse_month("2026-05")):
            report_generate(report_id=report_id, now=dt.datetime.now(dt.UTC), deliver=False)
    incidents = MonthlyReport.objects.get(team=None).figures["incidents"]
    assert incidents["count"] == 2
    assert [month["counts"]["SEV3"] for month in incidents["trend"][-2:]] == [1, 2]
    response = client_for(viewer).get(incidents["metrics_url"])
    assert response.context["figures"].count == 2
    assert f"May 2026 ({zone})" in response.content.decode()


def test_the_first_of_the_month_in_kolkata_is_still_the_previous_month_in_utc(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    # 1 June, 02:00 in Kolkata is 31 May, 20:30 UTC: May is over there.
    assert last_full_month(dt.datetime(2026, 5, 31, 20, 30, tzinfo=dt.UTC)).key == "2026-05"
    assert last_full_month(dt.datetime(2026, 5, 31, 18, 0, tzinfo=dt.UTC)).key == "2026-04"


def test_the_metrics_page_refuses_a_malformed_month_with_a_message(client_for, viewer):
    response = client_for(viewer).get(reverse("incident_metrics") + "?month=2026-13")
    assert response.status_code == 200
    assert "Write a month as YYYY-MM" in response.content.decode()
