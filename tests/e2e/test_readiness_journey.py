"""A team takes its service through a production-readiness review and into production: request
the review, attest two criteria in place, submit it; the reviewer accepts them, waives what the
portal found missing and approves; the service moves to production, a real Celery worker scores
it, and its level shows on the scorecard pages. The browser is the system Chromium."""

import re
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from playwright.sync_api import expect

from portal.celery import app as celery_app
from services.actions.standards import checklist_load
from services.backstage.sources import Source
from services.choices import Lifecycle, Tier
from services.models.catalog import Service
from services.models.readiness import ReadinessReview
from tests.factories import ServiceFactory
from tests.services.readiness_data import complete_service

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone

LAUNCH_CHECKLIST = """\
checklist: production-readiness
title: Launch checklist
readiness_criteria:
  operations:
    title: Operations
    criteria:
      - key: rollback-tested
        title: A rollback has been tested
      - key: backups
        title: Backups are restored every month
      - key: slo-defined
        title: The service has an SLO
        check: slo_defined
"""


@pytest.fixture
def worker(live_server):
    """A Celery worker in a thread of this process, taking tasks from the suite's Redis."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture
def ledger(payments, owner):
    checklist_load(sources=[Source("launch.yaml", LAUNCH_CHECKLIST)])
    service = ServiceFactory(
        name="Ledger", slug="ledger", owner_team=payments, tier=Tier.TIER_2,
        lifecycle=Lifecycle.EXPERIMENTAL,
    )  # fmt: skip
    complete_service(service, dependency=ServiceFactory(owner_team=payments, name="Database"))
    return service


def sign_in(page, username, path):
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def attest(page, title, evidence):
    criterion = page.locator("li.criterion", has_text=title)
    criterion.get_by_role("link", name=re.compile("^Answer")).click()
    criterion.get_by_label("Answer").select_option("met")
    criterion.get_by_label("Evidence link").fill(evidence)
    criterion.get_by_role("button", name="Save the answer").click()
    expect(
        page.locator("li.criterion", has_text=title).get_by_role("link", name="Evidence")
    ).to_be_visible()


def test_a_service_passes_its_readiness_review_and_enters_production(
    page, browser, live_server, ledger, owner, sre_lead, worker
):
    # The team requests the review from the service's page.
    sign_in(page, "olivia", "/services/ledger/")
    expect(page.locator("#readiness-panel")).to_contain_text("No readiness review yet.")
    page.get_by_role("button", name="Request a readiness review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness review: Ledger")
    expect(page.locator("li.criterion", has_text="The service has an SLO")).to_contain_text(
        "No SLO is defined."
    )

    # Two criteria attested in place (htmx), then the review goes to a reviewer from outside.
    attest(page, "A rollback has been tested", "https://wiki.example.test/ledger/rollback")
    attest(page, "Backups are restored every month", "https://wiki.example.test/ledger/restore")
    # Answered, not yet accepted: the progress (updated in place) counts none of them done.
    expect(page.locator("#review-progress")).to_contain_text("0 of 3 criteria done")
    page.get_by_label("Reviewer").first.select_option(label="Sasha Lead")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("The review was submitted")

    # The reviewer accepts both answers, waives the missing SLO for a month, and approves.
    reviewer = browser.new_context(base_url=live_server.url).new_page()
    sign_in(reviewer, "sasha", page.url)
    for title in ("A rollback has been tested", "Backups are restored every month"):
        criterion = reviewer.locator("li.criterion", has_text=title)
        criterion.get_by_role("link", name=re.compile("^Judge")).click()
        criterion.get_by_label("Accept").check()
        criterion.get_by_role("button", name="Save the verdict").click()
        expect(reviewer.locator("li.criterion", has_text=title)).to_contain_text("Accepted")
    slo = reviewer.locator("li.criterion", has_text="The service has an SLO")
    slo.get_by_role("link", name=re.compile("^Waive")).click()
    slo.get_by_label("Reason").fill("The availability SLO lands with the first traffic.")
    slo.get_by_label("Owner").select_option(label="Olivia Owner")
    slo.get_by_label("Expires on").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    slo.get_by_role("button", name="Waive").click()
    expect(reviewer.locator("li.criterion", has_text="The service has an SLO")).to_contain_text(
        "Waived until"
    )
    expect(reviewer.locator("#review-progress")).to_contain_text("3 of 3 criteria done, 1 waived")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".badges")).to_contain_text("Approved with waivers")
    assert ReadinessReview.objects.get().status == "approved_with_waivers"

    # The gate is open: the team moves the service into production.
    page.goto("/services/ledger/edit/")
    page.get_by_label("Lifecycle").select_option(label="Production")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Service “Ledger” was saved.")
    expect(page.locator("#readiness-panel")).to_contain_text("Ready with waivers")
    assert Service.objects.get(slug="ledger").lifecycle == Lifecycle.PRODUCTION

    # The worker scores it (the save rang for it); its level shows on the scorecard pages.
    page.goto("/scorecards/")
    for _ in range(30):
        if page.locator("table.heatmap").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    page.locator("table.heatmap").get_by_role("link", name="Payments").click()
    row = page.get_by_role("row", name=re.compile("^Ledger"))
    expect(row).to_contain_text("Bronze")
    expect(row).to_contain_text("Ready with waivers")
