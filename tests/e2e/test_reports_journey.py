"""An engineer reads last month's organisation report in the archive, subscribes to it, and
unsubscribes with the link its copy carries. The browser is the system Chromium."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.choices import Severity
from portal.reports.actions import report_generate, reports_plan
from portal.reports.models import ReportSubscription
from portal.reports.months import last_full_month
from tests.incidents.factories import resolved_incident

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


@pytest.fixture
def last_months_reports(service, outsider, live_server, settings):
    # Links in reports and emails point at the portal's public address: this server.
    settings.PORTAL_BASE_URL = live_server.url
    month = last_full_month(timezone.now())
    resolved_incident(service, started=month.start + dt.timedelta(days=3), minutes=45)
    resolved_incident(
        service, started=month.start + dt.timedelta(days=9), minutes=20, severity=Severity.SEV3
    )
    now = timezone.now()
    for report_id in reports_plan(month=month):
        report_generate(report_id=report_id, now=now, deliver=False)
    return month


def sign_in(page, username, path):
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_engineer_reads_last_months_report_subscribes_and_unsubscribes(
    page, live_server, last_months_reports, outsider
):
    month = last_months_reports
    sign_in(page, "oscar", "/reports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly reliability reports")

    # Narrow the archive to the organisation's reports, then open last month's.
    page.get_by_label("Scope").select_option(label="Organisation")
    expect(page.locator("#results")).to_contain_text("1 report")
    page.locator("#results").get_by_role("link", name=month.label).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Organisation: {month.label}")

    # The report as it was emailed, in a frame: the summary, the figures and the charts.
    email = page.frame_locator("iframe.report-frame")
    expect(email.get_by_role("heading", name="Executive summary")).to_be_visible()
    expect(email.get_by_text("2 incidents (no SEV1, 1 SEV2)")).to_be_visible()
    chart = email.get_by_role("img", name=re.compile(r"^Incidents per month by severity"))
    expect(chart).to_be_visible()
    assert chart.evaluate("image => image.naturalWidth") > 0

    # Subscribe from the report's page.
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("You will get the organisation's report each month.")).to_be_visible()
    expect(page.get_by_text("You are subscribed to this report.")).to_be_visible()
    assert ReportSubscription.objects.filter(user=outsider, team=None).exists()

    # A subscriber's copy carries the unsubscribe link; it works from the email's frame.
    email.get_by_role("link", name="Unsubscribe from this report").click()
    expect(
        page.get_by_text("Stop receiving the monthly report of the organisation?")
    ).to_be_visible()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text("You are unsubscribed")
    assert not ReportSubscription.objects.filter(user=outsider).exists()

    page.goto("/reports/")
    subscriptions = page.get_by_role("region", name="Your subscriptions")
    expect(subscriptions).to_contain_text("You subscribe to no report.")
    expect(subscriptions.get_by_label("Report")).to_have_value("org")
