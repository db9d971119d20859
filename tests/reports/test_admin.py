"""The admin for SRE leads: reports, their copies, subscriptions, the reminder log and
profiles; the logs are read-only."""

import pytest

from portal.reports.models import MonthlyReport, ReportDelivery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/admin/reports/monthlyreport/",
        "/admin/reports/reportdelivery/",
        "/admin/reports/reportsubscription/",
        "/admin/reminders/digest/",
        "/admin/reminders/reminderhistory/",
        "/admin/profile/profile/",
    ],
)
def test_sre_leads_see_the_logs_in_the_admin(client_for, sre_lead, path):
    assert client_for(sre_lead).get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/reports/monthlyreport/add/",
        "/admin/reports/reportdelivery/add/",
        "/admin/reminders/digest/add/",
        "/admin/reminders/reminderhistory/add/",
    ],
)
def test_the_logs_are_read_only(client_for, sre_lead, path):
    assert client_for(sre_lead).get(path).status_code == 403


def test_engineers_do_not_reach_the_admin(client_for, owner):
    assert client_for(owner).get("/admin/reports/monthlyreport/").status_code == 302


def test_a_report_page_lists_the_copies_that_failed_and_why(client_for, sre_lead, owner, payments):
    report = MonthlyReport.objects.create(
        team=payments, month="2026-05-01", status="ready", html="<html></html>"
    )
    ReportDelivery.objects.create(
        report=report,
        user=owner,
        address="olivia@example.test",
        reason="member",
        status="failed",
        attempts=8,
        last_error="Gave up after 8 tries: the mail server hung up.",
    )
    page = client_for(sre_lead).get("/reports/payments/2026-05/").content.decode()
    assert "olivia@example.test" in page
    assert "Gave up after 8 tries: the mail server hung up." in page
    assert "Recipients (1)" in page and "Member of the team" in page
