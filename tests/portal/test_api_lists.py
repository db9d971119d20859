"""The API's lists read lighter querysets than a single record does (their to-many relations
prefetched into plain lists, without what only permission checks need), and skip the filter
form when no filter is asked for: each row must still be the record as its own address shows
it, and an unfiltered list what the filters would have given."""

import datetime as dt

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from incidents.actions.incidents import incident_change_status, incident_declare
from incidents.actions.postmortems import postmortem_start, postmortem_update
from incidents.api.incidents import IncidentSerializer, IncidentViewSet
from incidents.api.postmortems import ActionItemViewSet, PostMortemViewSet
from incidents.choices import Severity
from incidents.filters.incidents import IncidentFilterSet
from portal.api.filters import FilterBackend, reads_any
from services.api.catalog import ServiceViewSet, TeamViewSet
from services.api.slos import SLOViewSet
from services.choices import MembershipRole
from tests.factories import MembershipFactory, ServiceFactory, TagFactory, UserFactory
from tests.incidents.factories import ActionItemFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def records(service, search_team, owner, teammate):
    """Two services depending on each other's neighbours, an incident on both with a
    post-mortem that has a reviewer and a contributor, and an action item."""
    search = ServiceFactory(
        name="Search index", slug="search-index", owner_team=search_team, tags=[TagFactory()]
    )
    ServiceFactory(name="Auth", slug="auth", owner_team=search_team).depends_on.set([search])
    service.depends_on.set([search])
    service.tags.set([TagFactory(name="pci", slug="pci"), TagFactory(name="api", slug="api")])
    incident = incident_declare(
        title="Checkout fails",
        severity=Severity.SEV2,
        services=[service, search],
        declared_by=teammate,
        commander=teammate,
        started_at=NOW - dt.timedelta(hours=2),
    )
    incident = incident_change_status(incident=incident, status="resolved", by=teammate)
    postmortem = postmortem_start(incident=incident, by=teammate)
    reviewer = UserFactory(username="rita")
    MembershipFactory(user=reviewer, team=search_team, role=MembershipRole.ENGINEER)
    postmortem = postmortem_update(
        postmortem=postmortem, by=owner, reviewers=[reviewer], summary="Disk full."
    )
    ActionItemFactory(postmortem=postmortem, owner=owner)
    return {"service": service, "incident": incident, "postmortem": postmortem}


@pytest.mark.parametrize(
    "path, key",
    [
        ("/api/services/", "slug"),
        ("/api/postmortems/", "id"),
        ("/api/action-items/", "id"),
        ("/api/incidents/", "reference"),
    ],
)
def test_each_row_of_a_list_is_the_record_as_its_own_address_shows_it(
    records, owner, api_client_for, path, key
):
    api = api_client_for(owner)

    rows = api.get(path).json()["results"]

    assert rows
    for row in rows:
        record = api.get(f"{path}{row[key]}/").json()
        # An incident's own address shows more than the list (subscribers, alerts...).
        assert row == {name: record[name] for name in row}
        assert list(row) == [name for name in record if name in row]
    if path == "/api/incidents/":
        assert list(rows[0]) == IncidentSerializer.Meta.fields


def test_a_listed_service_shows_its_relations_in_order(records, owner, api_client_for):
    rows = api_client_for(owner).get("/api/services/").json()["results"]

    listed = {row["slug"]: row for row in rows}
    assert listed["payments-api"]["tags"] == ["api", "pci"]
    assert listed["payments-api"]["depends_on"] == ["search-index"]
    assert listed["search-index"]["dependents"] == ["auth", "payments-api"]
    assert listed["search-index"]["depends_on"] == []
    assert listed["auth"]["tags"] == []


def test_a_listed_postmortem_shows_its_people_and_incident(records, owner, api_client_for):
    row = api_client_for(owner).get("/api/postmortems/").json()["results"][0]

    assert row["incident"] == records["incident"].reference
    assert row["incident_title"] == "Checkout fails"
    assert row["severity"] == Severity.SEV2
    assert row["author"] == "tom"
    assert row["reviewers"] == ["rita"]
    assert row["contributors"] == ["olivia", "tom"]
    assert row["summary"] == "Disk full."


def test_a_listed_incident_shows_its_services_by_name_and_its_people(
    records, owner, api_client_for
):
    row = api_client_for(owner).get("/api/incidents/").json()["results"][0]

    # By the services' names: "Payments API" before "Search index".
    assert row["services"] == ["payments-api", "search-index"]
    assert row["commander"] == "tom"
    assert row["declared_by"] == "tom"
    assert row["team"] == "payments"


def test_a_listed_action_item_names_its_incident_and_owner(records, owner, api_client_for):
    row = api_client_for(owner).get("/api/action-items/").json()["results"][0]

    assert row["incident"] == records["incident"].reference
    assert row["owner"] == "olivia"
    assert row["postmortem"] == records["postmortem"].pk


@pytest.mark.parametrize(
    "viewset",
    [
        ServiceViewSet,
        TeamViewSet,
        SLOViewSet,
        IncidentViewSet,
        PostMortemViewSet,
        ActionItemViewSet,
    ],
)
def test_a_list_without_filter_parameters_is_what_its_filters_give_for_none(viewset, owner):
    request = Request(RequestFactory().get("/", {"page": "2", "page_size": "10", "x": "1"}))
    request.user = owner
    view = viewset(request=request, action="list", format_kwarg=None, kwargs={})
    queryset = view.get_queryset()
    filterset = view.filterset_class(data={}, queryset=queryset, request=request)

    assert filterset.is_valid()
    assert FilterBackend().filter_queryset(request, queryset, view) is queryset
    assert str(filterset.qs.query) == str(queryset.query)


def test_a_filter_parameter_or_a_range_filters_suffix_is_read():
    def query(**params):
        return RequestFactory().get("/", params).GET

    assert not reads_any(IncidentFilterSet, query(page="2", page_size="50"))
    assert reads_any(IncidentFilterSet, query(ordering="-started"))
    for name in IncidentFilterSet.base_filters:
        assert reads_any(IncidentFilterSet, query(**{name: "x"}))
        assert reads_any(IncidentFilterSet, query(**{f"{name}_after": "x"}))
