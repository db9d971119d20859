"""Priya, an engineer and the manager of Payments, opens the portal during a live SEV2 on her
team: her home page puts it first, then her team's paging SLO (from which she could declare
an incident) and the overdue follow-ups, each a click from its list."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.actions.incidents import incident_declare
from incidents.choices import Severity
from services.choices import MembershipRole
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.incidents.factories import ActionItemFactory, IncidentFactory, PostMortemFactory
from tests.services.slo_data import make_slo, make_status

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


@pytest.fixture
def payments_during_a_sev2(transactional_db):
    priya = UserFactory(username="priya", first_name="Priya", last_name="Patel")
    payments = TeamFactory(name="Payments", slug="payments", manager=priya)
    MembershipFactory(user=priya, team=payments, role=MembershipRole.ENGINEER)
    search = TeamFactory(name="Search", slug="search")
    api = ServiceFactory(name="Payments API", slug="payments-api", owner_team=payments)
    IncidentFactory(
        services=[ServiceFactory(name="Search API", owner_team=search)],
        severity=Severity.SEV3,
        title="Search suggestions are slow",
    )
    IncidentFactory(services=[api], severity=Severity.SEV4, title="Receipt emails are late")
    sev2 = incident_declare(
        title="Card payments fail at checkout",
        severity=Severity.SEV2,
        services=[api],
        declared_by=UserFactory(username="oncall"),
    )
    make_status(make_slo(api, 1, name="Checkout availability"), alert="page", remaining=-0.2)
    old = IncidentFactory(services=[api], title="Ledger drift")
    ActionItemFactory(
        postmortem=PostMortemFactory(incident=old, author=priya),
        owner=UserFactory(username="sam", first_name="Sam", last_name="Singh"),
        title="Reconcile the ledger nightly",
        due_date=timezone.localdate() - dt.timedelta(days=4),
    )
    return sev2


def test_priyas_home_during_a_sev2_on_her_team_shows_it_first(page, payments_during_a_sev2):
    sev2 = payments_during_a_sev2
    page.goto("/")
    page.get_by_label("Username").fill("priya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Priya")
    blocks = page.locator(".attention-block")
    first = blocks.first
    expect(first.get_by_role("heading", level=3)).to_contain_text("Open incidents")
    expect(first.locator("li").first).to_contain_text(
        f"{sev2.reference} Card payments fail at checkout"
    )
    expect(first.locator("li").first).to_contain_text("Payments (your team)")
    expect(first).to_contain_text("Receipt emails are late")
    expect(first).not_to_contain_text("Search suggestions are slow")
    # The SEV2 is above the fold, not somewhere down the page.
    box = first.locator("li").first.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"]

    slos = page.get_by_role("region", name="SLOs paging, burning or stale")
    expect(slos).to_contain_text("Checkout availability")
    expect(slos).to_contain_text("Paging")
    follow_ups = page.get_by_role("region", name="Overdue action items")
    expect(follow_ups).to_contain_text("Reconcile the ledger nightly")
    expect(follow_ups).to_contain_text("Sam Singh")

    # The team's overdue items, one click away on the list across teams.
    follow_ups.get_by_role("link", name="Open the list").click()
    expect(page).to_have_url(re.compile(r"/action-items/\?overdue=true&team=payments$"))
    expect(page.get_by_role("link", name="Reconcile the ledger nightly")).to_be_visible()

    # From the paging SLO, she could declare an incident with it filled in.
    page.go_back()
    slos.get_by_role("link", name="Checkout availability").click()
    page.get_by_role("link", name="Declare an incident").click()
    expect(page.get_by_label("Title")).to_have_value(
        "Payments API: Checkout availability burns its error budget"
    )

    # Back home, the incident is a click away.
    page.goto("/")
    page.get_by_role("link", name=re.compile("Card payments fail at checkout")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Card payments fail at checkout")
