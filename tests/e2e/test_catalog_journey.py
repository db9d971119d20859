"""A new engineer signs in, finds a service in the catalog, and improves its record."""

import re

import pytest
from playwright.sync_api import expect

from services.choices import Tier
from services.models.catalog import Service
from tests.factories import ServiceFactory

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


@pytest.fixture
def catalog(service, payments):
    ServiceFactory(
        name="Search indexer",
        slug="search-indexer",
        owner_team=payments,
        tier=Tier.TIER_2,
        description="Feeds the search index.",
    )
    ServiceFactory(name="Ledger", slug="ledger", owner_team=payments, tier=Tier.TIER_1)


def test_an_engineer_signs_in_searches_opens_and_edits_a_service(page, catalog, owner):
    page.goto("/services/")
    # Signing in is required, and leads back to the catalog.
    expect(page).to_have_url(re.compile(r"/login/\?next=/services/"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/services/$"))

    results = page.locator("#results")
    expect(results.get_by_role("link", name="Payments API")).to_be_visible()
    expect(results).to_contain_text("3 services")

    # Sorting by tier keeps applying while searching: the filter form carries it along.
    results.get_by_role("link", name="Tier").click()
    expect(page).to_have_url(re.compile(r"ordering=tier"))

    # Typing narrows the results in place (htmx), and the address follows.
    page.get_by_role("searchbox", name="Search").press_sequentially("index", delay=50)
    expect(results).to_contain_text("1 service")
    expect(results.get_by_role("link", name="Payments API")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"q=index"))
    expect(page).to_have_url(re.compile(r"ordering=tier"))

    results.get_by_role("link", name="Search indexer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search indexer")
    expect(page.get_by_text("No SLOs defined yet.")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Tier").select_option(label="Tier 3 (best effort)")
    page.get_by_label("Description").fill("Feeds the search index every minute.")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/services/search-indexer/$"))
    expect(page.get_by_role("status")).to_contain_text("Service “Search indexer” was saved.")
    expect(page.get_by_text("Feeds the search index every minute.")).to_be_visible()
    expect(page.locator(".badges")).to_contain_text("Tier 3")
    assert Service.objects.get(slug="search-indexer").tier == Tier.TIER_3
