"""The toil API mirrors the UI: everyone signed in reads; engineers write their own teams'
items and their own time; SRE leads everything; bad input is a 400 naming the field."""

import datetime as dt

import pytest

from tests.toil.conftest import NOW
from tests.toil.factories import ToilEntryFactory, ToilItemFactory
from toil.actions.toil import toil_months_store
from toil.models.inventory import ToilEntry, ToilItem

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def now(frozen_time, rings_off):
    return frozen_time


@pytest.fixture
def deployments(payments):
    return ToilItemFactory(team=payments, task="Manual deployments", automation_effort_hours=50)


def new_item(**changes):
    return {
        "team": "payments",
        "task": "Rotate API keys",
        "frequency": 3,
        "frequency_unit": "week",
        "minutes_each": 30,
        "automation_potential": 4,
        **changes,
    }


def test_items_read_with_their_derived_figures(api_client_for, deployments, viewer):
    response = api_client_for(viewer).get("/api/toil-items/")
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item["team"] == "payments"
    assert item["monthly_hours"] == 25
    assert item["roi_score"] == 7500
    assert item["payback_months"] == 2
    assert item["characteristics_met"] == 6
    assert item["may_not_be_toil"] is False


def test_an_engineer_creates_an_item_for_their_team(api_client_for, payments, owner, service):
    response = api_client_for(owner).post(
        "/api/toil-items/", new_item(services=["payments-api"]), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["monthly_hours"] == pytest.approx(6.5)
    assert body["services"] == ["payments-api"]
    assert ToilItem.objects.get().created_by == owner


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"minutes_each": 0}, "minutes_each"),
        ({"minutes_each": -3}, "minutes_each"),
        ({"frequency": 0}, "frequency"),
        ({"automation_potential": 6}, "automation_potential"),
        ({"frequency_unit": "day"}, "frequency_unit"),
        ({"services": ["no-such-service"]}, "services"),
        ({"task": ""}, "task"),
    ],
)
def test_bad_items_are_a_400_naming_the_field(api_client_for, payments, owner, changes, field):
    response = api_client_for(owner).post("/api/toil-items/", new_item(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ToilItem.objects.exists()


def test_a_duplicate_task_is_a_400(api_client_for, deployments, owner):
    response = api_client_for(owner).post(
        "/api/toil-items/", new_item(task="manual deployments"), format="json"
    )
    assert response.status_code == 400


def test_an_engineer_cannot_create_for_another_team(api_client_for, search_team, owner):
    response = api_client_for(owner).post(
        "/api/toil-items/", new_item(team="search"), format="json"
    )
    assert response.status_code == 403


def test_a_viewers_writes_are_403(api_client_for, deployments, viewer):
    api = api_client_for(viewer)
    assert api.post("/api/toil-items/", new_item(), format="json").status_code == 403
    assert api.patch(f"/api/toil-items/{deployments.pk}/", {"frequency": 1}).status_code == 403
    assert api.delete(f"/api/toil-items/{deployments.pk}/").status_code == 403
    entry = {"item": deployments.pk, "date": "2026-03-09", "minutes": 30}
    assert api.post("/api/toil-entries/", entry, format="json").status_code == 403


def test_an_outsiders_change_is_403(api_client_for, deployments, outsider):
    response = api_client_for(outsider).patch(
        f"/api/toil-items/{deployments.pk}/", {"frequency": 1}, format="json"
    )
    assert response.status_code == 403


def test_marking_an_item_automated_through_the_api(api_client_for, deployments, owner):
    response = api_client_for(owner).patch(
        f"/api/toil-items/{deployments.pk}/",
        {"status": "automated", "automated_on": "2026-03-02"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["automated_on"] == "2026-03-02"
    assert response.json()["baseline_monthly_hours"] == 25
    future = api_client_for(owner).patch(
        f"/api/toil-items/{deployments.pk}/",
        {"status": "automated", "automated_on": "2026-04-02"},
        format="json",
    )
    assert future.status_code == 400
    assert "automated_on" in future.json()


def test_an_item_stays_with_its_team(api_client_for, deployments, search_team, sre_lead):
    response = api_client_for(sre_lead).patch(
        f"/api/toil-items/{deployments.pk}/", {"team": "search"}, format="json"
    )
    assert response.status_code == 400
    assert "team" in response.json()


def test_an_item_with_logged_time_cannot_be_deleted(api_client_for, deployments, owner):
    ToilEntryFactory(item=deployments, user=owner)
    assert api_client_for(owner).delete(f"/api/toil-items/{deployments.pk}/").status_code == 400


def test_items_filter_and_sort_as_in_the_ui(api_client_for, deployments, search_team, viewer):
    ToilItemFactory(team=search_team, task="Reindex", frequency=1, minutes_each=600)
    api = api_client_for(viewer)
    tasks = [row["task"] for row in api.get("/api/toil-items/?ordering=-hours").json()["results"]]
    assert tasks == ["Manual deployments", "Reindex"]
    only = api.get("/api/toil-items/?team=search").json()["results"]
    assert [row["task"] for row in only] == ["Reindex"]
    assert api.get("/api/toil-items/?team=nope").status_code == 400


# --- logged time -------------------------------------------------------------------------------


def test_an_engineer_logs_time_and_changes_only_their_own(
    api_client_for, deployments, owner, teammate
):
    response = api_client_for(owner).post(
        "/api/toil-entries/",
        {"item": deployments.pk, "date": "2026-03-09", "minutes": 45, "note": "release"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["user"], body["team"], body["task"]) == ("olivia", "payments", deployments.task)
    url = f"/api/toil-entries/{body['id']}/"
    assert api_client_for(teammate).patch(url, {"minutes": 5}, format="json").status_code == 403
    assert api_client_for(owner).patch(url, {"minutes": 5}, format="json").status_code == 200
    assert api_client_for(owner).delete(url).status_code == 204
    assert not ToilEntry.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date": "2026-03-11"}, "date"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": -10}, "minutes"),
        ({"minutes": 1441}, "minutes"),
        ({"item": 999_999}, "item"),
    ],
)
def test_bad_time_is_a_400_naming_the_field(api_client_for, deployments, owner, changes, field):
    entry = {"item": deployments.pk, "date": "2026-03-09", "minutes": 30, **changes}
    response = api_client_for(owner).post("/api/toil-entries/", entry, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_time_against_another_teams_item_is_a_400_naming_the_item(
    api_client_for, search_team, owner
):
    theirs = ToilItemFactory(team=search_team)
    response = api_client_for(owner).post(
        "/api/toil-entries/",
        {"item": theirs.pk, "date": "2026-03-09", "minutes": 30},
        format="json",
    )
    assert response.status_code == 400
    assert "own teams" in response.json()["item"][0]


def test_entries_filter_by_person_and_day(api_client_for, deployments, owner, teammate, viewer):
    ToilEntryFactory(item=deployments, user=owner, date=dt.date(2026, 3, 1))
    ToilEntryFactory(item=deployments, user=teammate, date=dt.date(2026, 3, 5))
    api = api_client_for(viewer)
    mine = api.get("/api/toil-entries/?user=olivia").json()["results"]
    assert [row["user"] for row in mine] == ["olivia"]
    late = api.get("/api/toil-entries/?date_after=2026-03-02").json()["results"]
    assert [row["user"] for row in late] == ["tom"]


# --- the teams' figures ------------------------------------------------------------------------


def test_a_teams_toil_for_a_month(api_client_for, deployments, owner, viewer):
    for day in range(1, 10):
        ToilEntryFactory(item=deployments, user=owner, date=dt.date(2026, 3, day), minutes=600)
    toil_months_store(months=[MARCH], now=NOW)
    payments = deployments.team

    response = api_client_for(viewer).get(f"/api/teams/{payments.pk}/toil/?month=2026-03")

    assert response.status_code == 200
    body = response.json()
    assert body["team"] == "payments"
    assert body["month"] == "2026-03"
    assert body["capacity_hours"] == 140  # one engineer: the viewer is not counted
    assert body["estimated_hours"] == 25
    assert body["measured_hours"] == 90
    assert body["share"] == pytest.approx(90 / 140)
    assert body["over_cap"] is True
    assert body["by_category"]["releases"] == {"estimated": 25, "measured": 90}
    assert set(body["by_category"]) == {
        "interrupts",
        "on_call",
        "releases",
        "manual_operations",
        "requests",
        "other",
    }
    assert body["computed_at"] == "2026-03-10T12:00:00Z"
    assert {"hours_saved", "processes_automated", "automation_coverage"} <= set(body)


def test_a_month_without_stored_figures_is_computed(api_client_for, payments, viewer):
    body = api_client_for(viewer).get(f"/api/teams/{payments.pk}/toil/").json()
    assert (body["month"], body["computed_at"]) == ("2026-03", None)


@pytest.mark.parametrize("month", ["March", "2026-13", "2026-3-1", "\u00e9"])
def test_a_bad_month_is_a_400(api_client_for, payments, viewer, month):
    response = api_client_for(viewer).get(f"/api/teams/{payments.pk}/toil/", {"month": month})
    assert response.status_code == 400
    assert "month" in response.json()


def test_an_unknown_team_is_a_404(api_client_for, viewer):
    assert api_client_for(viewer).get("/api/teams/999999/toil/").status_code == 404


def test_teams_over_the_cap_are_listed(
    api_client_for, deployments, owner, search_team, viewer, django_assert_max_num_queries
):
    for day in range(1, 10):
        ToilEntryFactory(item=deployments, user=owner, date=dt.date(2026, 3, day), minutes=1200)
    toil_months_store(months=[MARCH], now=NOW)
    api = api_client_for(viewer)

    over = api.get("/api/toil-months/?month=2026-03&over_cap=true").json()["results"]

    assert [row["team"] for row in over] == ["payments"]
    assert over[0]["over_cap"] is True
    everyone = api.get("/api/toil-months/?month=2026-03&ordering=team").json()["results"]
    assert [row["team"] for row in everyone] == ["payments", "search"]
    with django_assert_max_num_queries(6):
        api.get("/api/toil-months/?month=2026-03")


def test_the_api_makes_the_same_queries_at_any_size(api_client_for, payments, owner, viewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_client_for(viewer)

    def count(path):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        return len(queries)

    item = ToilItemFactory(team=payments)
    ToilEntryFactory(item=item, user=owner)
    toil_months_store(months=[MARCH], now=NOW)
    paths = ["/api/toil-items/", "/api/toil-entries/", f"/api/teams/{payments.pk}/toil/"]
    few = [count(path) for path in paths]
    for n in range(20):
        more = ToilItemFactory(team=payments)
        ToilEntryFactory(item=more, user=owner, date=dt.date(2026, 3, 1 + n % 9))
    toil_months_store(months=[MARCH], now=NOW)
    assert [count(path) for path in paths] == few


def test_the_schema_documents_the_toil_api(api_client_for, viewer):
    schema = api_client_for(viewer).get("/api/schema/?format=json").json()
    for path in (
        "/api/toil-items/",
        "/api/toil-items/{id}/",
        "/api/toil-entries/",
        "/api/toil-months/",
        "/api/teams/{id}/toil/",
    ):
        assert path in schema["paths"], path
