"""Sorting of the lists: text case-insensitively, ties broken by tier then name, the same way
every time, in the UI and the API alike."""

import pytest
from django.urls import reverse

from services.choices import Tier
from tests.factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db


def names_in(response, names):
    """The given names in the order the page shows them."""
    return sorted(names, key=response.text.index)


def test_services_sort_by_name_whatever_the_case(client_for, viewer):
    names = ["beta", "Alpha", "alpha-two", "Gamma", "delta"]
    for name in names:
        ServiceFactory(name=name)
    response = client_for(viewer).get(reverse("service_list"), {"ordering": "name"})
    assert names_in(response, [f">{name}</a>" for name in names]) == [
        ">Alpha</a>",
        ">alpha-two</a>",
        ">beta</a>",
        ">delta</a>",
        ">Gamma</a>",
    ]


def test_services_of_the_same_lifecycle_are_ordered_by_tier_then_name(api_client_for, viewer):
    team = TeamFactory()
    ServiceFactory(name="zeta", tier=Tier.TIER_1, owner_team=team)
    ServiceFactory(name="Beta", tier=Tier.TIER_2, owner_team=team)
    ServiceFactory(name="alpha", tier=Tier.TIER_2, owner_team=team)
    ServiceFactory(name="Eta", tier=Tier.TIER_1, owner_team=team)
    response = api_client_for(viewer).get("/api/services/", {"ordering": "lifecycle"})
    assert [row["name"] for row in response.json()["results"]] == ["Eta", "zeta", "alpha", "Beta"]


def test_teams_sort_by_name_whatever_the_case_in_both_directions(api_client_for, viewer):
    for name in ["search", "payroll", "identity", "Checkout"]:
        TeamFactory(name=name)
    client = api_client_for(viewer)

    def names(ordering):
        response = client.get("/api/teams/", {"ordering": ordering})
        return [row["name"] for row in response.json()["results"]]

    # With the viewer's own team, Payments.
    expected = ["Checkout", "identity", "Payments", "payroll", "search"]
    assert names("name") == expected
    assert names("-name") == expected[::-1]


@pytest.mark.parametrize(
    "path", ["/api/readiness-checklists/", "/api/scorecards/", "/api/services/", "/services/"]
)
@pytest.mark.parametrize("ordering", [",", ",,", ",name"])
def test_an_ordering_of_empty_names_is_ignored_instead_of_failing(
    client_for, api_client_for, viewer, path, ordering
):
    ServiceFactory(name="beta")
    ServiceFactory(name="Alpha")
    client = api_client_for(viewer) if path.startswith("/api/") else client_for(viewer)
    if "services" not in path:
        ordering = ordering.replace("name", "key")  # what checklists and scorecards sort by
    response = client.get(path, {"ordering": ordering})
    assert response.status_code == 200, response.content[:300]
    if path.endswith("services/") and ordering == ",name" and path.startswith("/api/"):
        names = [row["name"] for row in response.json()["results"]]
        assert names.index("Alpha") < names.index("beta")


@pytest.mark.parametrize("path", ["/api/readiness-checklists/", "/api/scorecards/"])
def test_a_sign_without_a_name_is_refused_with_the_field_named(api_client_for, viewer, path):
    response = api_client_for(viewer).get(path, {"ordering": ",,-"})
    assert response.status_code == 400
    assert "ordering" in response.json()
