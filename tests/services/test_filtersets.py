"""The catalog FilterSets, on their own and through the API lists that use them."""

import pytest

from services.choices import Lifecycle, Tier
from services.filters import ServiceFilterSet, TeamFilterSet
from services.selectors import catalog as catalog_selectors
from tests.factories import MembershipFactory, ServiceFactory, TagFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(payments, search_team):
    """Four services that differ in every filtered attribute."""
    pci, java = TagFactory(name="pci"), TagFactory(name="java")
    checkout = ServiceFactory(
        name="Checkout",
        slug="checkout",
        owner_team=payments,
        tier=Tier.TIER_1,
        lifecycle=Lifecycle.PRODUCTION,
        handles_personal_data=True,
        data_retention_days=30,
        tags=[pci, java],
    )
    refunds = ServiceFactory(
        name="Refunds",
        slug="refunds",
        owner_team=payments,
        tier=Tier.TIER_2,
        lifecycle=Lifecycle.EXPERIMENTAL,
        description="Gives money back.",
        tags=[pci],
    )
    indexer = ServiceFactory(
        name="Indexer",
        slug="indexer",
        owner_team=search_team,
        tier=Tier.TIER_3,
        lifecycle=Lifecycle.DEPRECATED,
        system="discovery",
        tags=[java],
    )
    query = ServiceFactory(
        name="Query",
        slug="query-api",
        owner_team=search_team,
        tier=Tier.TIER_1,
        lifecycle=Lifecycle.PRODUCTION,
    )
    # Dependents: query has two, indexer one, the others none.
    checkout.depends_on.set([query])
    refunds.depends_on.set([query, indexer])
    return {s.slug: s for s in (checkout, refunds, indexer, query)}


def filtered_services(data):
    filterset = ServiceFilterSet(data=data, queryset=catalog_selectors.service_list())
    assert filterset.is_valid(), filterset.errors
    return [service.slug for service in filterset.qs]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"q": "check"}, ["checkout"]),
        ({"q": "QUERY-A"}, ["query-api"]),
        ({"q": "money back"}, ["refunds"]),
        ({"q": "discovery"}, ["indexer"]),
        ({"q": "   "}, ["checkout", "indexer", "query-api", "refunds"]),
        ({"team": ["search"]}, ["indexer", "query-api"]),
        ({"team": ["search", "payments"]}, ["checkout", "indexer", "query-api", "refunds"]),
        ({"tier": ["1"]}, ["checkout", "query-api"]),
        ({"tier": ["2", "3"]}, ["indexer", "refunds"]),
        ({"lifecycle": ["deprecated"]}, ["indexer"]),
        ({"tag": ["java"]}, ["checkout", "indexer"]),
        ({"handles_personal_data": "true"}, ["checkout"]),
        ({"team": ["payments"], "tier": ["1"], "tag": ["pci"]}, ["checkout"]),
    ],
)
def test_the_service_filterset_narrows_the_catalog(data, expected, services):
    assert sorted(filtered_services(data)) == expected


def test_a_service_matching_several_chosen_tags_is_listed_once(services):
    assert sorted(filtered_services({"tag": ["pci", "java"]})) == [
        "checkout",
        "indexer",
        "refunds",
    ]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["checkout", "indexer", "query-api", "refunds"]),
        ("-name", ["refunds", "query-api", "indexer", "checkout"]),
        ("team,name", ["checkout", "refunds", "indexer", "query-api"]),
        ("-dependents,name", ["query-api", "indexer", "checkout", "refunds"]),
        ("tier,-name", ["query-api", "checkout", "refunds", "indexer"]),
    ],
)
def test_the_service_filterset_sorts_by_the_named_columns(ordering, expected, services):
    assert filtered_services({"ordering": ordering}) == expected


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"team": ["nowhere"]}, "team"),
        ({"tag": ["nothing"]}, "tag"),
        ({"tier": ["7"]}, "tier"),
        ({"lifecycle": ["retired"]}, "lifecycle"),
        ({"ordering": "secret"}, "ordering"),
    ],
)
def test_unknown_filter_values_make_the_filterset_invalid(data, field, services):
    filterset = ServiceFilterSet(data=data, queryset=catalog_selectors.service_list())

    assert not filterset.is_valid()
    assert list(filterset.errors) == [field]


@pytest.fixture
def teams():
    big = TeamFactory(name="Platform", slug="platform", description="Kubernetes and CI.")
    small = TeamFactory(name="Data", slug="data-eng")
    ServiceFactory.create_batch(3, owner_team=big)
    ServiceFactory(owner_team=small)
    MembershipFactory.create_batch(1, team=big)
    MembershipFactory.create_batch(4, team=small)
    return big, small


def filtered_teams(data):
    filterset = TeamFilterSet(data=data, queryset=catalog_selectors.team_list())
    assert filterset.is_valid(), filterset.errors
    return [team.slug for team in filterset.qs]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"q": "plat"}, ["platform"]),
        ({"q": "data-eng"}, ["data-eng"]),
        ({"q": "kubernetes"}, ["platform"]),
        ({"ordering": "name"}, ["data-eng", "platform"]),
        ({"ordering": "-services"}, ["platform", "data-eng"]),
        ({"ordering": "-members"}, ["data-eng", "platform"]),
    ],
)
def test_the_team_filterset_searches_and_sorts(data, expected, teams):
    assert filtered_teams(data) == expected


# Through the API: the same FilterSets drive the list endpoints.


def api_slugs(api, url):
    response = api.get(url)
    assert response.status_code == 200, response.content
    return [record["slug"] for record in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=refund", ["refunds"]),
        ("team=search", ["indexer", "query-api"]),
        ("tier=1&tier=3", ["checkout", "indexer", "query-api"]),
        ("lifecycle=production&team=payments", ["checkout"]),
        ("tag=pci&tag=java", ["checkout", "indexer", "refunds"]),
        ("ordering=-dependents,name", ["query-api", "indexer", "checkout", "refunds"]),
        ("ordering=-tier,name", ["indexer", "refunds", "checkout", "query-api"]),
    ],
)
def test_the_services_endpoint_filters_and_sorts(query, expected, services, owner, api_client_for):
    assert api_slugs(api_client_for(owner), f"/api/services/?{query}") == expected


def test_the_services_endpoint_answers_an_unknown_filter_value_with_a_400(
    services, owner, api_client_for
):
    response = api_client_for(owner).get("/api/services/?team=nowhere")

    assert response.status_code == 400
    assert list(response.json()) == ["team"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=kubernetes", ["platform"]),
        ("ordering=-services,name", ["platform", "data-eng", "payments"]),
    ],
)
def test_the_teams_endpoint_searches_and_sorts(query, expected, teams, owner, api_client_for):
    assert api_slugs(api_client_for(owner), f"/api/teams/?{query}") == expected
