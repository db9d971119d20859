"""An engineer brings the team's toil spreadsheet into the portal, logs time against it, sees
the team's share of capacity and its chart move, then marks an item automated and sees the
hours it saves. The monthly figures are recomputed by a real Celery worker; the browser is
the system Chromium."""

import json
import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from portal.celery import app as celery_app
from toil.actions import toil as toil_actions

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone

SPREADSHEET = """Task,Frequency,Time (min),Monthly Toil,Automation Priority
Manual deployments,50/month,30,25 hours,High
Certificate renewal,4/month,60,4 hours,High
"""


@pytest.fixture
def worker(live_server, monkeypatch):
    """A Celery worker in a thread of this process, taking tasks from the suite's Redis; the
    recompute runs as soon as it is rung rather than after the usual short delay."""
    monkeypatch.setattr(toil_actions, "RECOMPUTE_DELAY_SECONDS", 0)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def sign_in(page, username, path):
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def wait_for_share(page, path, share: str, timeout=30):
    """Reload the team's toil page until the worker's figures show ``share``."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(path)
        if page.locator("#toil-share").inner_text() == share:
            return
        if time.monotonic() > deadline:
            expect(page.locator("#toil-share")).to_have_text(share)
        page.wait_for_timeout(500)


def test_an_engineer_imports_toil_logs_time_and_automates_an_item(
    page, live_server, service, owner, worker, tmp_path
):
    sign_in(page, "olivia", "/toil/import/")
    spreadsheet = tmp_path / "toil.csv"
    spreadsheet.write_text(SPREADSHEET)

    # Import the spreadsheet: the inventory lists its rows at their monthly hours.
    page.get_by_label("Spreadsheet (CSV)").set_input_files(spreadsheet)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status").first).to_contain_text("2 new items, 0 updated")
    deployments = page.get_by_role("row", name=re.compile("Manual deployments"))
    expect(deployments).to_contain_text("25.0 h")
    expect(deployments).to_contain_text("7,500")

    # Log ten hours against it from its page (htmx): the form says so in place.
    page.get_by_role("link", name="Manual deployments", exact=True).click()
    page.get_by_label("Minutes spent").fill("600")
    page.get_by_label("Note").fill("Release week")
    page.get_by_role("button", name="Log time").click()
    expect(page.locator("#entry-form")).to_contain_text("600 minutes logged")
    expect(page.locator("#item-entries")).to_contain_text("Release week")

    # The team's share: 10 h of one engineer's 140 h; the chart's last month has it too.
    team_page = "/toil/by-team/payments/"
    wait_for_share(page, team_page, "7.1 %")
    chart = json.loads(page.locator("#toil-share-data").text_content())
    assert chart["share"][-1] == 7.1
    assert chart["cap"] == 50
    expect(page.locator("#toil-share-chart")).to_be_visible()

    # Mark it automated: the day is stored and the hours it saves appear.
    page.get_by_role("link", name="Manual deployments", exact=True).first.click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Status").select_option(label="Automated")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("was saved")
    saved = page.locator("#hours-saved")
    expect(saved).to_have_text(re.compile(r"^\d+\.\d h$"))
    assert float(saved.inner_text().split()[0]) > 0

    deadline = time.monotonic() + 30
    while True:
        page.goto(team_page)
        figure = page.locator("#toil-hours-saved").inner_text()
        if figure != "0.0 h" or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    assert float(figure.split()[0]) > 0
    expect(page.get_by_role("region", name="Automated")).to_contain_text("Manual deployments")
