"""An engineer runs an incident from declaring it to its post-mortem: declare, take command,
tell the stakeholders, resolve, write the post-mortem, have an SRE lead publish it, and
track the follow-up work. Status updates go through a real Celery worker to a real SMTP
server; the browser is the system Chromium."""

import datetime as dt
import re

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from playwright.sync_api import expect

from incidents.choices import IncidentStatus, PostMortemStatus
from incidents.models.incidents import Incident
from portal.celery import app as celery_app

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


@pytest.fixture
def worker(live_server):
    """A Celery worker in a thread of this process, taking tasks from the suite's Redis."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def sign_in(page, username, path):
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_engineer_runs_an_incident_from_declaration_to_postmortem(
    page, browser, live_server, service, teammate, sre_lead, smtp_sink, worker
):
    sign_in(page, "tom", "/incidents/")
    expect(page.get_by_text("No incidents recorded yet.")).to_be_visible()

    # Declare: a few fields, fast.
    page.get_by_role("link", name="Declare incident").click()
    page.get_by_label("Title").fill("Checkout payments fail")
    page.get_by_role("combobox", name="Severity").select_option("SEV2")
    page.get_by_label("Affected services").select_option(label="Payments API")
    page.get_by_role("button", name="Declare incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-\d{4}-0001/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout payments fail")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Declared SEV2 by Tom Teammate.")

    # Take command in place (htmx): the roles and the timeline change without a reload.
    page.get_by_label("Role", exact=True).select_option(label="Incident commander")
    page.get_by_label("Person", exact=True).select_option(label="Tom Teammate")
    page.get_by_role("button", name="Assign").click()
    expect(timeline).to_contain_text("Tom Teammate is now incident commander")
    expect(page.get_by_role("region", name="Roles")).to_contain_text("Tom Teammate")

    # Tell the stakeholders: kind → draft from the incident → fill the prompts → preview → send.
    page.get_by_role("link", name="Write a status update").click()
    page.get_by_label("Initial").check()
    page.get_by_role("button", name="Draft it").click()
    body = page.get_by_label("Body")
    expect(body).to_have_value(re.compile(r"Incident commander: Tom Teammate"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Fill in or remove the prompts")).to_be_visible()
    draft = body.input_value()
    body.fill(
        re.sub(
            r"\[\[.+?\]\]",
            "Card payments fail since a deploy at 09:10; we are rolling it back",
            draft,
            flags=re.DOTALL,
        )
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".email-text")).to_contain_text("we are rolling it back")
    page.get_by_role("button", name=re.compile(r"Send to 2 recipients")).click()
    expect(page.get_by_role("status")).to_contain_text("on its way to 2 recipients")

    # The worker sends it; the live timeline picks that up by itself within its 10 s poll.
    expect(timeline).to_contain_text("Initial status update", timeout=25_000)
    [delivered] = smtp_sink.delivered
    assert delivered.recipients == ["payments@example.test", "tom@example.test"]
    assert "we are rolling it back" in delivered.body("text/plain")

    # Resolve in place.
    page.get_by_label("New status").select_option(label="Resolved")
    page.get_by_role("button", name="Change status").click()
    expect(timeline).to_contain_text("Status: Investigating → Resolved")
    expect(page.locator("#incident .badges")).to_contain_text("Resolved")

    # Write the post-mortem, started from the incident's record, and ask for a review.
    page.get_by_role("link", name="Write the post-mortem").click()
    page.get_by_role("button", name="Start the post-mortem").click()
    page.get_by_label("Root cause").fill("A configuration change removed the **card** route.")
    page.get_by_label("Reviewers").select_option(label="Sasha Lead")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The post-mortem was saved.")
    page.get_by_role("button", name="Submit for review").click()

    # The SRE lead reviews and publishes it.
    lead_context = browser.new_context(base_url=live_server.url)
    lead_context.set_default_timeout(10_000)
    lead = lead_context.new_page()
    incident = Incident.objects.get()
    sign_in(lead, "sasha", f"/incidents/{incident.reference}/postmortem/")
    expect(lead.locator("strong", has_text="card")).to_be_visible()
    lead.get_by_role("button", name="Publish").click()
    expect(lead.get_by_role("status")).to_be_visible()
    lead_context.close()

    # Back with the engineer: an action item on the published post-mortem.
    page.reload()
    page.get_by_role("link", name="Add an action item").click()
    items = page.locator("#action-items")
    items.get_by_label("Title").fill("Check the card route in the deploy pipeline")
    items.get_by_label("Owner").select_option(label="Tom Teammate")
    # Due dates are within three years (incidents.limits): a month from now.
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    items.get_by_label("Due date").fill(due)
    items.get_by_label("Kind").select_option(label="Prevent")
    items.get_by_role("button", name="Save the action item").click()
    expect(
        items.get_by_role("cell", name="Check the card route in the deploy pipeline", exact=True)
    ).to_be_visible()

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.commander == teammate
    assert incident.postmortem.status == PostMortemStatus.PUBLISHED
    assert incident.postmortem.action_items.get().owner == teammate


def test_the_status_control_of_a_resolved_incident_moves_on_and_reopens_only_with_a_reason(
    page, live_server, service, teammate
):
    from incidents.actions.incidents import incident_change_status, incident_declare

    incident = incident_declare(
        title="Search is slow", severity="SEV3", services=[service], declared_by=teammate
    )
    incident_change_status(incident=incident, status=IncidentStatus.RESOLVED, by=teammate)
    sign_in(page, "tom", incident.get_absolute_url())

    # Forward only: closing is what "New status" offers; nothing reverses by accident.
    new_status = page.get_by_label("New status")
    expect(new_status.locator("option")).to_have_text(["Closed"])

    page.get_by_text("Reopen the incident…").click()
    reopen = page.locator("details.reopen")
    reopen.get_by_role("button", name="Reopen").click()
    # The browser itself asks for the confirmation and the reason before anything is sent.
    assert (
        page.locator("details.reopen input:invalid, details.reopen textarea:invalid").count() == 2
    )
    reopen.get_by_label("Reason").fill("Slow again since 14:10.")
    reopen.get_by_label("Yes, reopen the resolved incident").check()
    reopen.get_by_role("button", name="Reopen").click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Reopened: Resolved → Investigating (Tom Teammate).")
    expect(timeline).to_contain_text("Reason: Slow again since 14:10.")
    expect(page.locator("#incident .badges")).to_contain_text("Investigating")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING
