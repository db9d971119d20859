"""Several-choice fields only add or remove the choice clicked: an engineer adds a third
dependency to a service that has two, through the filter box, and all three are kept."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ServiceFactory

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


@pytest.fixture
def service_with_two_dependencies(service, payments):
    ledger = ServiceFactory(name="Ledger", slug="ledger", owner_team=payments)
    fraud = ServiceFactory(name="Fraud scoring", slug="fraud-scoring", owner_team=payments)
    for number in range(12):
        ServiceFactory(name=f"Batch job {number:02}", slug=f"batch-{number}", owner_team=payments)
    ServiceFactory(name="Search indexer", slug="search-indexer", owner_team=payments)
    service.depends_on.set([ledger, fraud])
    return service


def sign_in(page, username):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_adding_a_dependency_keeps_the_two_a_service_had(
    page, service_with_two_dependencies, owner
):
    service = service_with_two_dependencies
    sign_in(page, owner.username)
    page.goto(f"/services/{service.slug}/edit/")

    dependencies = page.get_by_role("group", name="Depends on")
    chosen = dependencies.locator("[data-chosen]")
    # The current choices are in sight before anything is done, however long the list.
    expect(chosen.get_by_role("button")).to_have_text(["Fraud scoring", "Ledger"])

    dependencies.get_by_role("searchbox").fill("index")
    expect(dependencies.get_by_role("checkbox", name="Batch job 00", exact=True)).to_be_hidden()
    # Chosen ones stay visible whatever the filter.
    expect(dependencies.get_by_role("checkbox", name="Ledger", exact=True)).to_be_visible()
    dependencies.get_by_role("checkbox", name="Search indexer", exact=True).check()
    expect(chosen.get_by_role("button")).to_have_text(["Fraud scoring", "Ledger", "Search indexer"])

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payments API")
    assert sorted(service.depends_on.values_list("slug", flat=True)) == [
        "fraud-scoring",
        "ledger",
        "search-indexer",
    ]


def test_a_chip_removes_only_its_own_choice_and_enter_picks_the_only_match(
    page, service_with_two_dependencies, owner
):
    service = service_with_two_dependencies
    sign_in(page, owner.username)
    page.goto(f"/services/{service.slug}/edit/")
    dependencies = page.get_by_role("group", name="Depends on")

    dependencies.get_by_role("button", name="Remove Ledger").click()
    expect(dependencies.get_by_role("checkbox", name="Ledger", exact=True)).not_to_be_checked()
    filter_box = dependencies.get_by_role("searchbox")
    filter_box.fill("batch job 07")
    filter_box.press("Enter")  # picks the one match rather than submitting the form
    expect(dependencies.get_by_role("checkbox", name="Batch job 07", exact=True)).to_be_checked()
    expect(filter_box).to_have_value("")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payments API")
    assert sorted(service.depends_on.values_list("slug", flat=True)) == [
        "batch-7",
        "fraud-scoring",
    ]
