"""The Content-Security-Policy holds in Chromium: every page type — lists with htmx,
Chart.js charts, forms, the compliance pages, Swagger UI, the admin — renders and works
with no violation reported by the browser."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from incidents.models.incidents import Incident
from portal.celery import app as celery_app
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceStatus
from portal.demo.load import load_demo_data
from portal.reports.models import MonthlyReport
from services.models.readiness import ReadinessReview
from services.models.slos import SLO
from toil.models.inventory import ToilItem

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""


@pytest.fixture
def organisation(live_server, monkeypatch, django_capture_on_commit_callbacks):
    """The demo organisation, SLO snapshots computed, as `make run` shows it."""
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        load_demo_data(password=PASSWORD)


def page_paths() -> list[str]:
    slo = SLO.objects.select_related("service").filter(status__isnull=False).first()
    incident = Incident.objects.order_by("-started_at").first()
    resolved = Incident.objects.filter(resolved_at__isnull=False).first()
    status = (
        ComplianceStatus.objects.select_related("compliance_check", "service")
        .exclude(outcome="")
        .first()
    )
    finding = ComplianceFinding.objects.first()
    service = status.service
    user = get_user_model().objects.get(username="admin")
    toil_item = ToilItem.objects.order_by("pk").first()
    review = ReadinessReview.objects.select_related("service").order_by("pk").first()
    report = MonthlyReport.objects.filter(team=None).first()
    return [
        "/",
        "/services/",
        f"/services/{service.slug}/",
        f"/services/{service.slug}/edit/",
        f"/services/{slo.service.slug}/slos/{slo.slug}/",
        "/slos/",
        "/teams/",
        f"/teams/{service.owner_team.slug}/",
        f"/teams/{service.owner_team.slug}/slos/",
        "/incidents/",
        f"/incidents/{incident.reference}/",
        "/incidents/metrics/",
        "/postmortems/",
        f"/postmortems/{resolved.reference}/",
        "/action-items/mine/",
        "/compliance/",
        "/compliance/checks/",
        f"/compliance/checks/{status.compliance_check.slug}/",
        f"/compliance/checks/{status.compliance_check.slug}/services/{service.slug}/",
        "/compliance/checks/records-of-processing/services/" + service.slug + "/",
        "/compliance/checks/add/",
        "/compliance/findings/",
        f"/compliance/findings/{finding.pk}/",
        "/toil/",
        f"/toil/items/{toil_item.pk}/",
        "/toil/log/",
        "/toil/by-team/",
        f"/toil/by-team/{toil_item.team.slug}/",
        "/readiness/reviews/",
        f"/services/{review.service.slug}/readiness/",
        review.get_absolute_url(),
        "/scorecards/",
        "/scorecards/campaigns/",
        "/scorecards/exemptions/",
        "/reports/",
        report.get_absolute_url(),
        report.get_absolute_url() + "email/",
        "/me/",
        "/password/",
        "/api/docs/",
        "/api/services/",
        f"/api/compliance-findings/{finding.pk}/",
        "/admin/",
        "/admin/services/service/",
        f"/admin/services/service/{service.pk}/change/",
        f"/admin/services/service/{service.pk}/history/",
        f"/admin/auth/user/{user.pk}/change/",
        "/admin/axes/accessattempt/",
        "/no-such-page/",
    ]


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_no_page_breaks_the_content_security_policy(page, organisation):
    page.add_init_script(RECORD_VIOLATIONS)
    console_errors = []
    page.on(
        "console",
        lambda message: (
            console_errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )

    page.goto("/login/")
    assert violations(page) == []
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))

    found = {}
    for path in page_paths():
        response = page.goto(path)
        # The portal's pages run their own scripts only; a report as emailed, none at all.
        policy = response.headers["content-security-policy"]
        assert re.search(r"(^|; )script-src '(self|none)'(;|$)", policy), (path, policy)
        page.wait_for_load_state("networkidle")
        if violations(page):
            found[path] = violations(page)
    assert found == {}
    assert console_errors == []


def test_htmx_charts_and_swagger_ui_work_under_the_policy(page, organisation):
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto("/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))

    # htmx: typing narrows the compliance matrix in place.
    page.goto("/compliance/")
    results = page.locator("#results")
    page.get_by_role("searchbox", name="Search").press_sequentially("zzz-none", delay=20)
    expect(results).to_contain_text("0 services")
    expect(page).to_have_url(re.compile(r"q=zzz-none"))
    assert violations(page) == []

    # Chart.js draws the SLO's charts.
    slo = SLO.objects.select_related("service").filter(status__isnull=False).first()
    page.goto(f"/services/{slo.service.slug}/slos/{slo.slug}/")
    canvas = page.locator("canvas").first
    expect(canvas).to_be_visible()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not page.evaluate(
        "Boolean(window.Chart && Object.keys(Chart.instances).length)"
    ):
        time.sleep(0.1)
    assert page.evaluate("Object.keys(Chart.instances).length") >= 1
    assert violations(page) == []

    # Swagger UI renders the schema's operations.
    # (The first tag's operations: the page lists every tag expanded, and a long page of them
    # lays out lazily.)
    page.goto("/api/docs/")
    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=20_000)
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/api/")
    assert violations(page) == []
