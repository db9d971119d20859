"""Generating a report: its sections' figures, "no data this month", the summary, charts."""

import datetime as dt

import pytest
import time_machine

from portal.reports import sections
from portal.reports.actions import report_generate, reports_plan
from portal.reports.choices import ReportStatus
from portal.reports.models import MonthlyReport
from portal.reports.months import month_of
from tests.reports.conftest import NOW
from tests.toil.change_factories import DeploymentFactory
from toil.actions.deployments import dora_snapshots_recompute

pytestmark = pytest.mark.django_db

MAY = month_of(dt.date(2026, 5, 1))


def generate(team=None) -> MonthlyReport:
    with time_machine.travel(NOW, tick=False):
        ids = reports_plan(month=MAY, team=team) if team else reports_plan(month=MAY)
        for report_id in ids:
            report_generate(report_id=report_id, now=NOW, deliver=False)
    return MonthlyReport.objects.get(month=MAY.first_day, team=team)


def figure(data, label):
    return next(item for item in data["figures"] if item["label"] == label)


def test_a_team_report_has_each_slos_attainment_of_the_month_met_or_missed(
    month_of_records, payments
):
    report = generate(payments)
    slos = report.figures["slos"]
    rows = {row["name"]: row for row in slos["rows"]}
    assert rows["Availability"]["met"] is True
    assert rows["Availability"]["attainment"] == pytest.approx(11988 / 12000, abs=1e-3)
    assert rows["Availability"]["previous_met"] is False
    assert rows["Latency"]["met"] is False
    assert rows["Latency"]["previous_met"] is True
    assert figure(slos, "SLOs that met their objective") | {} == {
        "label": "SLOs that met their objective",
        "value": 1,
        "previous": 1,
        "kind": "count",
        "better": "higher",
    }
    assert slos["worst"][0]["name"] == "Latency"
    # The month's budget: (1 - attainment) / (1 - objective).
    latency = rows["Latency"]
    assert latency["consumed"] == pytest.approx((1 - latency["attainment"]) / 0.01)


def test_a_team_report_counts_the_months_incidents_with_mtta_mttr_and_mtbf(
    month_of_records, payments
):
    incidents = generate(payments).figures["incidents"]
    assert incidents["count"] == 2
    assert incidents["by_severity"] == {"SEV1": 0, "SEV2": 1, "SEV3": 1, "SEV4": 0}
    assert figure(incidents, "SEV1") == {
        "label": "SEV1",
        "value": 0,
        "previous": 1,
        "kind": "count",
        "better": "lower",
    }
    assert figure(incidents, "MTTR (mean)")["value"] == 60 * 60  # (90 + 30) / 2 minutes
    assert figure(incidents, "MTTR (mean)")["previous"] == 120 * 60
    assert figure(incidents, "MTTA (mean)")["value"] == 2 * 60
    mtbf = dt.datetime(2026, 5, 25, 8) - dt.datetime(2026, 5, 12, 10)
    assert figure(incidents, "MTBF")["value"] == mtbf.total_seconds()
    assert [item["reference"] for item in incidents["serious"]] == [
        month_of_records["incidents"][0].reference
    ]
    assert [month["month"] for month in incidents["trend"]][-2:] == ["2026-04", "2026-05"]


def test_post_mortems_and_action_items_are_counted_for_the_month(month_of_records, payments):
    follow_up = generate(payments).figures["follow_up"]
    assert [item["value"] for item in follow_up["figures"]] == [1, 0, 2, 1, 1]
    assert [item["previous"] for item in follow_up["figures"]] == [0, 0, 0, 0, 0]


def test_the_executive_summary_is_computed_from_the_figures(month_of_records, payments):
    summary = generate(payments).figures["summary"]
    assert summary[0] == "1 of 2 SLOs met their objective; missed: Payments API: Latency."
    assert summary[1] == "2 incidents (no SEV1, 1 SEV2); MTTR 1 h 00 min (was 2 h 00 min)."


def test_a_scope_without_records_says_no_data_this_month_and_still_generates(search_team):
    report = generate(search_team)
    assert report.status == ReportStatus.READY
    assert report.figures["slos"] is None
    assert report.figures["budget"] is None
    assert report.figures["dora"] is None
    assert report.html.count("No data this month.") == 5
    assert "No data this month." in report.text
    assert report.figures["incidents"]["count"] == 0
    assert "No incidents." in report.figures["summary"]


def test_the_organisation_report_covers_every_team(month_of_records, outsider):
    report = generate()
    assert report.team is None
    assert report.figures["incidents"]["count"] == 2
    assert report.figures["slos"]["measured"] == 2
    # The organisation's report lists the SLOs that missed, not all of them.
    assert [row["name"] for row in report.figures["slos"]["rows"]] == ["Latency"]


def test_charts_are_drawn_as_png_with_alt_text(month_of_records, payments):
    report = generate(payments)
    images = {image.name: image for image in report.images.all()}
    assert set(images) == {"budget-remaining", "incidents-by-month", "mttr-trend"}
    for image in images.values():
        assert bytes(image.png).startswith(b"\x89PNG\r\n\x1a\n")
        assert image.alt
    assert "Payments API Latency" in images["budget-remaining"].alt
    assert "May 2026 2 (1 SEV2, 1 SEV3)" in images["incidents-by-month"].alt


def test_a_section_that_fails_marks_the_report_failed_and_the_others_still_generate(
    month_of_records, payments, search_team, monkeypatch
):
    def broken(scope):
        if scope.team == payments:
            raise RuntimeError("the toil selector is down")
        return None

    monkeypatch.setattr(
        sections, "SECTIONS", [*sections.SECTIONS[:-1], sections.Section("toil", "Toil", broken)]
    )
    with time_machine.travel(NOW, tick=False):
        for report_id in reports_plan(month=MAY):
            report_generate(report_id=report_id, now=NOW, deliver=False)
    statuses = dict(MonthlyReport.objects.values_list("team__slug", "status"))
    assert statuses == {"payments": "failed", "search": "ready", None: "ready"}
    failed = MonthlyReport.objects.get(team=payments)
    assert "the toil selector is down" in failed.last_error


def test_generating_claims_the_report_so_a_second_run_does_nothing(month_of_records, payments):
    with time_machine.travel(NOW, tick=False):
        [report_id] = reports_plan(month=MAY, team=payments)
        assert report_generate(report_id=report_id, now=NOW, deliver=False) is True
        assert report_generate(report_id=report_id, now=NOW, deliver=False) is False
        assert reports_plan(month=MAY, team=payments) == []


def test_slo_links_are_the_slo_pages(month_of_records, payments):
    report = generate(payments)
    urls = {row["name"]: row["url"] for row in report.figures["slos"]["rows"]}
    assert urls == {
        "Availability": month_of_records["availability"].get_absolute_url(),
        "Latency": month_of_records["latency"].get_absolute_url(),
    }


def test_a_team_report_shows_its_deployments_and_doras_keys_beside_the_previous_month(
    service, payments
):
    def deployed(finished, *, lead_hours=None, status="succeeded"):
        first_commit = None if lead_hours is None else finished - dt.timedelta(hours=lead_hours)
        DeploymentFactory(
            service=service, finished_at=finished, status=status, first_commit_at=first_commit
        )

    deployed(dt.datetime(2026, 4, 20, 12, tzinfo=dt.UTC), lead_hours=48)
    deployed(dt.datetime(2026, 5, 4, 12, tzinfo=dt.UTC), lead_hours=6)
    deployed(dt.datetime(2026, 5, 11, 12, tzinfo=dt.UTC), lead_hours=4)
    deployed(dt.datetime(2026, 5, 20, 10, tzinfo=dt.UTC), status="failed")
    deployed(dt.datetime(2026, 5, 20, 11, tzinfo=dt.UTC), lead_hours=2)  # rework
    deployed(dt.datetime(2026, 5, 27, 12, tzinfo=dt.UTC), lead_hours=8)
    dora_snapshots_recompute(now=NOW)

    report = generate(payments)

    dora = report.figures["dora"]
    assert {item["label"]: item["value"] for item in dora["figures"]} == {
        "Deployments": 5,
        "Deployments per day": 0.13,  # four successful in 31 days
        "Lead time for changes (median)": 5 * 3600,  # of 2, 4, 6 and 8 hours
        "Change failure rate": 0.2,
        "Failed deployment recovery time (median)": 3600,
        "Deployment rework rate": 0.2,
    }
    assert figure(dora, "Deployments")["previous"] == 1
    assert figure(dora, "Lead time for changes (median)")["previous"] == 48 * 3600
    # Low: a failure rate above 15 %; April was medium (one deployment in 30 days).
    assert (dora["band"], dora["previous_band"]) == ("low", "medium")
    assert "5 production deployments; DORA band low." in report.figures["summary"]
    assert "- Deployments: 5 (Apr 2026: 1 ▲)" in report.text
    assert "- Lead time for changes (median): 5 h 00 min (Apr 2026: 2.0 d" in report.text
    assert "- Change failure rate: 20.0 % (Apr 2026: 0.0 %" in report.text
    assert "DORA band: low (Apr 2026: medium)" in report.text
    assert 'href="http://127.0.0.1:8000/changes/dora/?team=payments"' in report.html
    assert "DORA band: <strong>Low</strong>" in report.html
