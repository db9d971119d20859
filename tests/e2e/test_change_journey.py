"""A standard change from its request to the DORA page: an engineer writes and submits it, two
change approvers approve it in their browsers (emailed through a real Celery worker and SMTP
server), the pipeline asks the deploy gate (allowed), reports the deployment, and the DORA page
counts it once the worker has recomputed; and a service whose error budget is spent is denied
with its reason, on the API and on the service page."""

import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from playwright.sync_api import expect

from portal.api.tokens import token_create
from portal.celery import app as celery_app
from tests.factories import ServiceFactory, UserFactory
from tests.toil.change_factories import budget_in_tier, make_change_approver, readiness_approved
from toil.actions import deployments as deployment_actions
from toil.models.changes import ChangeRequest
from toil.models.deployments import DoraSnapshot

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


@pytest.fixture
def worker(live_server):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def sign_in(page, username, path):
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def approve_in_a_browser(browser, live_server, username, change):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, username, "/changes/")
    awaiting = page.get_by_role("region", name="Awaiting your approval")
    awaiting.get_by_role("link", name=re.compile(change.title)).click()
    page.get_by_role("radio", name="Approve").check()
    page.get_by_role("button", name="Record my decision").click()
    expect(page.get_by_role("status")).to_contain_text("Your decision is recorded: approve")
    context.close()


def test_a_standard_change_goes_from_request_to_the_dora_page(
    page, browser, live_server, service, payments, owner, smtp_sink, worker, monkeypatch
):
    # Recompute at once rather than after the usual coalescing pause.
    monkeypatch.setattr(deployment_actions, "DORA_COALESCE_SECONDS", 0)
    for name in ("ada", "bob"):
        make_change_approver(UserFactory(username=name, email=f"{name}@example.test"))
    refunds = ServiceFactory(name="Refunds", slug="refunds", owner_team=payments)
    budget_in_tier(refunds, "frozen")
    # Both have passed their readiness reviews: the budget alone stops Refunds.
    readiness_approved(service, refunds)
    _, token = token_create(user=owner)
    api = {"Authorization": f"Token {token}"}

    # The engineer writes the change for the next two hours and submits it.
    sign_in(page, "olivia", "/changes/")
    page.get_by_role("link", name="New change request").click()
    page.get_by_label("Title").fill("Upgrade the card processor client")
    page.get_by_role("radio", name=re.compile(r"Standard")).check()
    page.get_by_role("checkbox", name=re.compile(r"Payments API")).check()
    now = timezone.now().replace(second=0, microsecond=0)
    page.get_by_label("Planned start").fill(
        f"{now - timezone.timedelta(minutes=10):%Y-%m-%dT%H:%M}"
    )
    page.get_by_label("Planned end").fill(f"{now + timezone.timedelta(hours=2):%Y-%m-%dT%H:%M}")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Rollback plan").fill("Pin the previous client version.")
    page.get_by_label("Was it tested in staging?").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Upgrade the card processor client"
    )
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("status")).to_contain_text("The change is submitted.")
    change = ChangeRequest.objects.get()

    # The approvers are emailed through the worker, and each approves in their browser.
    assert wait_for(lambda: len(smtp_sink.delivered) == 1)
    assert smtp_sink.delivered[0].recipients == ["ada@example.test", "bob@example.test"]
    approve_in_a_browser(browser, live_server, "ada", change)
    approve_in_a_browser(browser, live_server, "bob", change)
    page.reload()
    expect(page.locator(".badges")).to_contain_text("Approved")
    expect(page.locator("#gate-preview")).to_contain_text("allow")

    # The pipeline asks the gate: allowed.
    answer = page.request.post(
        f"{live_server.url}/api/deploy-gate/",
        data={
            "services": ["payments-api"],
            "category": "standard",
            "change": change.pk,
            "version": "4.2.0",
        },
        headers=api,
    )
    assert answer.status == 200
    assert answer.json()["decision"] == "allow", answer.json()

    # It reports the deployment; the worker recomputes the DORA figures, and the page counts it.
    reported = page.request.post(
        f"{live_server.url}/api/deployments/",
        data={
            "service": "payments-api",
            "version": "4.2.0",
            "started_at": (now - timezone.timedelta(minutes=5)).isoformat(),
            "finished_at": now.isoformat(),
            "status": "succeeded",
            "change": change.pk,
            "first_commit_at": (now - timezone.timedelta(hours=20)).isoformat(),
        },
        headers=api,
    )
    assert reported.status == 201, reported.json()
    assert wait_for(lambda: DoraSnapshot.objects.filter(key="organisation", deployments=1).exists())
    page.goto("/changes/dora/")
    expect(page.locator(".dora-deployments")).to_have_text("1")
    expect(page.get_by_text("Computed just now")).to_have_count(0)
    # The charts draw the bound lines of the bands the page sends.
    lines = page.evaluate(
        """() => ["dora-times", "dora-rates"].map((id) => window.Chart.getChart(id).data.datasets
            .filter((set) => set.borderDash).map((set) => [set.label, set.data[0]]))"""
    )
    assert lines == [
        [["Elite lead time: under a day", 24], ["Elite recovery: under an hour", 1]],
        [["Elite: 5 % or less", 5], ["Medium: up to 15 %", 15]],
    ]
    page.get_by_label("Service").select_option(label="Payments API")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".dora-deployments")).to_have_text("1")
    expect(page.get_by_role("table").first).to_contain_text("20 h")

    # A service whose budget is spent is denied, with its reason, on the API and its page.
    denied = page.request.post(
        f"{live_server.url}/api/deploy-gate/",
        data={"services": ["refunds"], "category": "low-risk"},
        headers=api,
    )
    body = denied.json()
    assert (denied.status, body["decision"]) == (200, "deny")
    assert [reason["code"] for reason in body["reasons"]] == ["budget_freeze"]
    page.goto("/services/refunds/")
    panel = page.locator("#changes-panel")
    expect(panel).to_contain_text("Deny")
    expect(panel).to_contain_text("frozen budget tier, which freezes changes")
