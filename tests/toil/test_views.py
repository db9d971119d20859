"""The toil pages for each role: the inventory with inline add and edit, an item's page,
logging time, the teams against the cap, a team's page and the team page's panel; with
constant query counts whatever the amount of toil."""

import datetime as dt

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import MembershipFactory, TeamFactory
from tests.toil.conftest import NOW
from tests.toil.factories import ToilEntryFactory, ToilItemFactory
from toil.actions.toil import toil_months_store
from toil.choices.toil import ToilStatus
from toil.models.inventory import TeamToilCapacity, ToilEntry, ToilItem

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MARCH = dt.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def now(frozen_time, rings_off):
    return frozen_time


@pytest.fixture
def deployments(payments):
    return ToilItemFactory(team=payments, task="Manual deployments", automation_effort_hours=50)


def item_data(**changes):
    data = {
        "task": "Rotate API keys",
        "category": "manual_operations",
        "frequency": "2",
        "frequency_unit": "month",
        "minutes_each": "40",
        "automation_potential": "4",
        "manual": "on",
        "repetitive": "on",
        "automatable": "on",
        "status": "manual",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- the inventory -----------------------------------------------------------------------------


def test_everyone_reads_the_inventory_most_worth_automating_first(as_user, deployments, viewer):
    ToilItemFactory(team=deployments.team, task="Cert renewal", frequency=4, minutes_each=60)
    response = as_user("viewer").get(reverse("toil_item_list"))
    assertContains(response, "Manual deployments")
    assertContains(response, "25.0 h")
    assertContains(response, "7,500")
    assertContains(response, "2.0 months")
    body = response.content.decode()
    assert body.index("Manual deployments") < body.index("Cert renewal")
    assertNotContains(response, "Add a toil item")
    assertNotContains(response, "Edit<span")


def test_the_inventory_filters_and_sorts(as_user, deployments, search_team, viewer):
    ToilItemFactory(team=search_team, task="Reindex by hand", frequency=1, minutes_each=600)
    client = as_user("viewer")
    assertNotContains(
        client.get(reverse("toil_item_list"), {"team": "search"}), "Manual deployments"
    )
    assertContains(client.get(reverse("toil_item_list"), {"q": "reindex"}), "1 toil item")
    by_hours = client.get(reverse("toil_item_list"), {"ordering": "-hours"}).content.decode()
    assert by_hours.index("Manual deployments") < by_hours.index("Reindex by hand")
    by_payback = client.get(reverse("toil_item_list"), {"ordering": "payback"}).content.decode()
    # Without an estimated effort there is no payback: last.
    assert by_payback.index("Manual deployments") < by_payback.index("Reindex by hand")
    fragment = client.get(reverse("toil_item_list"), {"status": "automated"}, **HTMX)
    assertContains(fragment, "No toil item matches")
    assertNotContains(fragment, "<html")


def test_items_meeting_few_characteristics_are_flagged(as_user, payments, viewer):
    ToilItemFactory(
        team=payments, tactical=False, no_enduring_value=False, grows_with_service=False
    )
    assertContains(as_user("viewer").get(reverse("toil_item_list")), "may not be toil")


def count_queries(client, url, data=None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, data or {}).status_code == 200
    return len(queries)


def test_the_inventory_makes_the_same_queries_at_any_size(as_user, payments, search_team, viewer):
    client = as_user("viewer")
    url = reverse("toil_item_list")
    filtered = {"ordering": "payback", "team": "payments"}
    ToilItemFactory(team=payments)
    few, few_filtered = count_queries(client, url), count_queries(client, url, filtered)
    for n in range(30):
        ToilItemFactory(team=search_team if n % 2 else payments)
    assert count_queries(client, url) == few
    assert count_queries(client, url, filtered) == few_filtered


def test_an_engineer_adds_an_item_in_place(as_user, payments, owner, service):
    client = as_user("owner")
    form = client.get(reverse("toil_item_add"), **HTMX)
    assertContains(form, 'id="new-item-task"')
    assertContains(form, "Is it toil?")
    assertNotContains(form, "Automated on")

    response = client.post(
        reverse("toil_item_add"), item_data(team=payments.pk, services=[service.pk]), **HTMX
    )

    assertContains(response, "“Rotate API keys” was added")
    assert response["HX-Trigger"] == "toil-items-changed"
    item = ToilItem.objects.get(task="Rotate API keys")
    assert (item.team, list(item.services.all()), item.created_by) == (payments, [service], owner)
    assert item.may_not_be_toil


def test_a_bad_item_is_refused_on_the_form(as_user, payments, owner):
    response = as_user("owner").post(
        reverse("toil_item_add"),
        item_data(team=payments.pk, minutes_each="0", automation_potential="9", frequency="x"),
        **HTMX,
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"minutes_each", "automation_potential", "frequency"}
    assert not ToilItem.objects.exists()


def test_an_engineer_cannot_add_to_another_team(as_user, search_team, owner):
    response = as_user("owner").post(reverse("toil_item_add"), item_data(team=search_team.pk))
    assert "team" in response.context["form"].errors
    assert not ToilItem.objects.exists()


def test_a_viewer_cannot_add_or_edit(as_user, deployments, viewer):
    client = as_user("viewer")
    assert client.get(reverse("toil_item_add")).status_code == 403
    assert client.get(reverse("toil_item_edit", args=[deployments.pk])).status_code == 403
    assert client.post(reverse("toil_item_delete", args=[deployments.pk])).status_code == 403


def test_an_outsider_cannot_edit_another_teams_item(as_user, deployments, outsider):
    response = as_user("outsider").post(
        reverse("toil_item_edit", args=[deployments.pk]), item_data(), **HTMX
    )
    assert response.status_code == 403


def test_an_engineer_edits_an_item_in_its_row(as_user, deployments, owner):
    client = as_user("owner")
    url = reverse("toil_item_edit", args=[deployments.pk])
    form = client.get(url, **HTMX)
    assertContains(form, f'id="toil-item-{deployments.pk}" class="editing"')

    response = client.post(url, item_data(task="Manual deployments", minutes_each="60"), **HTMX)

    assertContains(response, f'id="toil-item-{deployments.pk}" class="just-saved"')
    assertContains(response, "2/month \u00d7 60 min")
    deployments.refresh_from_db()
    assert deployments.minutes_each == 60
    row = client.get(reverse("toil_item_row", args=[deployments.pk]))
    assertContains(row, "Manual deployments")


def test_marking_an_item_automated_stores_the_day_and_shows_the_savings(
    as_user, deployments, owner
):
    response = as_user("owner").post(
        reverse("toil_item_edit", args=[deployments.pk]),
        item_data(task="Manual deployments", status="automated", automated_on="2026-03-01"),
    )
    assert response.status_code == 302
    deployments.refresh_from_db()
    assert deployments.automated_on == MARCH
    page = as_user("owner").get(deployments.get_absolute_url())
    assertContains(page, "saved so far")


def test_an_automation_date_needs_the_automated_status(as_user, deployments, owner):
    response = as_user("owner").post(
        reverse("toil_item_edit", args=[deployments.pk]),
        item_data(task="Manual deployments", automated_on="2026-03-01"),
    )
    assert "automated_on" in response.context["form"].errors


def test_without_javascript_add_and_edit_are_pages_of_their_own(as_user, deployments, owner):
    client = as_user("owner")
    assertContains(client.get(reverse("toil_item_add")), "<h1>Add a toil item</h1>")
    assertContains(client.get(reverse("toil_item_edit", args=[deployments.pk])), "<h1>Edit")
    response = client.post(reverse("toil_item_add"), item_data(team=deployments.team.pk))
    assert response.status_code == 302


def test_an_item_with_logged_time_is_retired_not_deleted(as_user, deployments, owner):
    ToilEntryFactory(item=deployments, user=owner)
    client = as_user("owner")
    response = client.post(reverse("toil_item_delete", args=[deployments.pk]), follow=True)
    assertContains(response, "retire it instead")
    ToilEntry.objects.all().delete()
    client.post(reverse("toil_item_delete", args=[deployments.pk]))
    assert not ToilItem.objects.exists()


def test_an_items_page(as_user, deployments, owner, viewer, django_assert_max_num_queries):
    ToilEntryFactory(item=deployments, user=owner, minutes=45, note="Friday release")
    page = as_user("viewer").get(deployments.get_absolute_url())
    assertContains(page, "Friday release")
    assertContains(page, "6 of the six characteristics")
    assertNotContains(page, "Log time</button>")
    own = as_user("owner").get(deployments.get_absolute_url())
    assertContains(own, "Log time</button>")
    for _ in range(10):
        ToilEntryFactory(item=deployments, user=owner)
    signed_in = as_user("owner")
    with django_assert_max_num_queries(14):
        signed_in.get(deployments.get_absolute_url())


def test_an_unknown_item_is_a_404(as_user, viewer):
    assert as_user("viewer").get(reverse("toil_item_detail", args=[999])).status_code == 404


# --- logged time -------------------------------------------------------------------------------


def test_an_engineer_logs_time_in_place_and_the_lists_refresh(as_user, deployments, owner):
    response = as_user("owner").post(
        reverse("toil_entry_add"),
        {"item": deployments.pk, "date": "2026-03-09", "minutes": "45", "note": "hotfix"},
        **HTMX,
    )
    assertContains(response, "45 minutes logged on “Manual deployments”")
    assert response["HX-Trigger"] == "toil-entries-changed"
    entry = ToilEntry.objects.get()
    assert (entry.user, entry.minutes, entry.date) == (owner, 45, dt.date(2026, 3, 9))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"date": "2026-03-11", "minutes": "30"}, "date"),
        ({"date": "2026-03-09", "minutes": "0"}, "minutes"),
        ({"date": "2026-03-09", "minutes": "-5"}, "minutes"),
        ({"date": "2026-03-09", "minutes": "2000"}, "minutes"),
    ],
)
def test_bad_time_is_refused_on_the_form(as_user, deployments, owner, data, field):
    response = as_user("owner").post(
        reverse("toil_entry_add"), {"item": deployments.pk, **data}, **HTMX
    )
    assert field in response.context["log_form"].errors
    assert not ToilEntry.objects.exists()


def test_time_against_another_teams_item_is_refused(as_user, search_team, owner):
    theirs = ToilItemFactory(team=search_team)
    response = as_user("owner").post(
        reverse("toil_entry_add"), {"item": theirs.pk, "date": "2026-03-09", "minutes": "30"}
    )
    assert "item" in response.context["log_form"].errors
    assert not ToilEntry.objects.exists()


def test_my_toil_lists_my_own_entries(as_user, deployments, owner, teammate):
    ToilEntryFactory(item=deployments, user=owner, note="mine")
    ToilEntryFactory(item=deployments, user=teammate, note="theirs")
    page = as_user("owner").get(reverse("toil_entry_mine"))
    assertContains(page, "mine")
    assertNotContains(page, "theirs")
    assertContains(page, "1 entry<")


def test_my_toil_makes_the_same_queries_at_any_size(as_user, deployments, owner):
    client = as_user("owner")
    ToilEntryFactory(item=deployments, user=owner)
    few = count_queries(client, reverse("toil_entry_mine"))
    for day in range(1, 10):
        ToilEntryFactory(item=deployments, user=owner, date=dt.date(2026, 3, day))
    assert count_queries(client, reverse("toil_entry_mine")) == few


def test_only_the_person_who_logged_it_deletes_an_entry(as_user, deployments, owner, teammate):
    entry = ToilEntryFactory(item=deployments, user=owner)
    url = reverse("toil_entry_delete", args=[entry.pk])
    assert as_user("teammate").post(url).status_code == 403
    response = as_user("owner").post(url, **HTMX)
    assert response["HX-Trigger"] == "toil-entries-changed"
    assert not ToilEntry.objects.exists()


# --- teams against the cap ---------------------------------------------------------------------


@pytest.fixture
def over_cap(payments, owner, deployments):
    for day in range(1, 10):
        ToilEntryFactory(item=deployments, user=owner, date=dt.date(2026, 3, day), minutes=600)
    toil_months_store(months=[MARCH], now=NOW)
    return payments


def test_the_organisations_page_flags_teams_over_the_cap(as_user, search_team, over_cap, viewer):
    page = as_user("viewer").get(reverse("toil_team_list"))
    assertContains(page, "Toil by team, March 2026")
    assertContains(page, "over the cap")
    body = page.content.decode()
    assert body.index("Payments") < body.index("Search")
    within = as_user("viewer").get(reverse("toil_team_list"), {"over_cap": "false"}, **HTMX)
    assertNotContains(within, ">Payments<")
    assertContains(within, ">Search<")


def test_the_organisations_page_makes_the_same_queries_at_any_size(as_user, over_cap, viewer):
    from toil.actions.toil import toil_months_refresh

    client = as_user("viewer")
    url = reverse("toil_team_list")
    toil_months_refresh(now=NOW)
    few = count_queries(client, url)
    for _ in range(8):
        MembershipFactory(team=TeamFactory())
    toil_months_refresh(now=NOW)
    assert count_queries(client, url) == few


def test_a_month_can_be_asked_for(as_user, over_cap, viewer):
    page = as_user("viewer").get(reverse("toil_team_list"), {"month": "2026-02"})
    assertContains(page, "February 2026")
    bad = as_user("viewer").get(reverse("toil_team_list"), {"month": "March"})
    assertContains(bad, "March 2026")


def test_a_teams_toil_page(as_user, over_cap, viewer, deployments):
    from toil.actions.toil import toil_item_update

    url = reverse("toil_team_detail", args=["payments"])
    client = as_user("viewer")
    toil_item_update(item=ToilItemFactory(team=over_cap), status=ToilStatus.AUTOMATED)
    page = client.get(url)
    assertContains(page, "Payments: toil in March 2026")
    assertContains(page, "Over the cap")
    assertContains(page, "toil-share-data")
    assertNotContains(page, "Save the capacity")
    year = [dt.date(2026, month, 1) for month in (1, 2)]
    year += [dt.date(2025, month, 1) for month in range(4, 13)]
    toil_months_store(months=year, now=NOW)
    few = count_queries(client, url)
    for n in range(12):
        ToilItemFactory(team=over_cap, status=ToilStatus.MANUAL if n % 3 else ToilStatus.PLANNED)
    toil_item = ToilItemFactory(team=over_cap, task="Done by a bot")
    toil_item_update(item=toil_item, status=ToilStatus.AUTOMATED)
    toil_months_store(months=[MARCH], now=NOW)
    assert count_queries(client, url) == few


def test_a_teams_engineer_sets_its_capacity(as_user, over_cap, owner):
    client = as_user("owner")
    assertContains(client.get(reverse("toil_team_detail", args=["payments"])), "Save the capacity")
    client.post(reverse("toil_team_capacity", args=["payments"]), {"hours_per_engineer": "120"})
    assert TeamToilCapacity.objects.get(team=over_cap).hours_per_engineer == 120
    response = client.post(
        reverse("toil_team_capacity", args=["payments"]), {"hours_per_engineer": "0"}, follow=True
    )
    assertContains(response, "greater than or equal to 1")
    client.post(reverse("toil_team_capacity", args=["payments"]), {"hours_per_engineer": ""})
    assert not TeamToilCapacity.objects.exists()


def test_others_cannot_set_a_teams_capacity(as_user, payments, outsider, viewer):
    url = reverse("toil_team_capacity", args=["payments"])
    assert as_user("outsider").post(url, {"hours_per_engineer": "10"}).status_code == 403
    assert as_user("viewer").post(url, {"hours_per_engineer": "10"}).status_code == 403


def test_the_team_page_shows_its_toil_panel(as_user, over_cap, viewer):
    page = as_user("viewer").get(reverse("team_detail", args=["payments"]))
    assertContains(page, 'id="toil-panel"')
    assertContains(page, "Over the cap")


def test_an_unknown_team_is_a_404(as_user, viewer):
    assert as_user("viewer").get(reverse("toil_team_detail", args=["nope"])).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, deployments):
    for url in (
        reverse("toil_item_list"),
        reverse("toil_team_list"),
        reverse("toil_entry_mine"),
        reverse("toil_export"),
        deployments.get_absolute_url(),
    ):
        assert client.get(url).status_code == 302


def test_an_sre_lead_edits_any_teams_toil(as_user, deployments, sre_lead):
    client = as_user("sre_lead")
    response = client.post(
        reverse("toil_item_edit", args=[deployments.pk]),
        item_data(task="Manual deployments", status=ToilStatus.PLANNED),
    )
    assert response.status_code == 302
    response = client.post(
        reverse("toil_entry_add"), {"item": deployments.pk, "date": "2026-03-09", "minutes": "5"}
    )
    assert response.status_code == 302


def test_the_team_page_panel_waits_for_the_worker_in_one_query(
    as_user, payments, viewer, django_assert_max_num_queries
):
    page = as_user("viewer").get(reverse("team_detail", args=["payments"]))
    assertContains(page, "Not computed for this month yet")
