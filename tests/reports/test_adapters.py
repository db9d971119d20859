"""The adapters that plug other apps' selectors in as report sections with one line each,
tested with selectors of the shapes those apps expose, over this app's own records."""

import datetime as dt

import pytest
import time_machine

from incidents.models.incidents import Incident
from portal.reports import sections
from portal.reports.actions import report_generate, reports_plan
from portal.reports.adapters import Field, scoped_figures, team_rows
from portal.reports.models import MonthlyReport
from portal.reports.months import month_of
from portal.reports.scope import ReportScope
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db

MAY = month_of(dt.date(2026, 5, 1))


def incidents_month(team, month: dt.date):
    """Shaped like dora_month(team | None, month): one scope's figures of a month, or None."""
    incidents = Incident.objects.filter(started_at__year=month.year, started_at__month=month.month)
    if team is not None:
        incidents = incidents.filter(team=team)
    count = incidents.count()
    return (
        {"incidents": count, "share": count / 10, "lead": dt.timedelta(hours=count)}
        if count
        else None
    )


def incidents_by_team(month: dt.date):
    """Shaped like toil_month_by_team(month): a row per team with its team_id."""
    rows = {}
    for incident in Incident.objects.filter(
        started_at__year=month.year, started_at__month=month.month
    ):
        row = rows.setdefault(incident.team_id, {"team_id": incident.team_id, "count": 0})
        row["count"] += 1
        row["busy"] = row["count"] > 1
    return list(rows.values())


def teams_now():
    """Shaped like maturity_levels_by_team(): a row per team as things stand."""
    return [
        {"team_id": team_id, "level": 3}
        for team_id in Incident.objects.values_list("team_id", flat=True).distinct()
    ]


def scope(team=None):
    return ReportScope(team=team, month=MAY, now=NOW)


def test_scoped_figures_read_the_month_and_the_previous_one(month_of_records, payments):
    build = scoped_figures(
        f"{__name__}.incidents_month",
        [
            Field("incidents", "Incidents", better="lower"),
            Field("share", "Share", "percent", "lower"),
            Field("lead", "Lead time", "duration", "lower"),
        ],
    )
    data = build(scope(payments))
    assert data["figures"] == [
        {"label": "Incidents", "value": 2, "previous": 1, "kind": "count", "better": "lower"},
        {"label": "Share", "value": 0.2, "previous": 0.1, "kind": "percent", "better": "lower"},
        {
            "label": "Lead time",
            "value": 7200.0,
            "previous": 3600.0,
            "kind": "duration",
            "better": "lower",
        },
    ]


def test_scoped_figures_without_records_mean_no_data_this_month(search_team):
    assert (
        scoped_figures(f"{__name__}.incidents_month", [Field("incidents", "Incidents")])(
            scope(search_team)
        )
        is None
    )


def test_team_rows_show_a_teams_row_or_every_row_with_sums_and_flags(month_of_records, payments):
    build = team_rows(
        f"{__name__}.incidents_by_team",
        [Field("count", "Incidents", better="lower")],
        flag=Field("busy", "with more than one incident"),
    )
    organisation = build(scope())
    assert organisation["rows"][0]["team"] == "Payments"
    assert organisation["rows"][0]["flagged"] is True
    assert organisation["figures"] == [
        {"label": "Incidents", "value": 2, "previous": 1, "kind": "count", "better": "lower"}
    ]
    assert organisation["summary"] == "1 team with more than one incident: Payments."
    assert build(scope(payments))["rows"][0]["values"][0]["value"] == 2


def test_team_rows_as_things_stand(month_of_records, payments, search_team):
    build = team_rows(f"{__name__}.teams_now", [Field("level", "Maturity level")], monthly=False)
    assert build(scope(payments))["rows"][0]["values"][0] == {
        "label": "Maturity level",
        "value": 3,
        "previous": None,
        "kind": "count",
        "better": "higher",
    }
    assert build(scope(search_team)) is None


def test_a_section_plugged_in_with_one_line_appears_in_the_report(
    month_of_records, payments, monkeypatch
):
    plugged = [
        section
        if section.key != "dora"
        else sections.Section(
            "dora",
            "Deployments and DORA's keys",
            scoped_figures(f"{__name__}.incidents_month", [Field("incidents", "Deployments")]),
        )
        for section in sections.SECTIONS
    ]
    monkeypatch.setattr(sections, "SECTIONS", plugged)
    with time_machine.travel(NOW, tick=False):
        [report_id] = reports_plan(month=MAY, team=payments)
        report_generate(report_id=report_id, now=NOW, deliver=False)
    report = MonthlyReport.objects.get(team=payments)
    assert report.status == "ready", report.last_error
    assert report.figures["dora"]["figures"][0]["value"] == 2
    # Toil: none recorded. Maturity: the tier-2 service in production is not reviewed.
    assert report.html.count("No data this month.") == 1
    assert "- Deployments: 2 (Apr 2026: 1 ▲)" in report.text
