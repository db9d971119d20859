"""The catalog's REST API: CRUD, validation, permissions, authentication and query counts."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.test import APIClient

from portal.api.errors import exception_handler
from portal.pagination import PortalPagination
from services.choices import Lifecycle, MembershipRole, Tier
from services.models.catalog import Membership, Service, Team
from tests.factories import (
    MembershipFactory,
    ServiceFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SERVICES = "/api/services/"
TEAMS = "/api/teams/"
MEMBERSHIPS = "/api/memberships/"
TAGS = "/api/tags/"


def service_url(service):
    return f"{SERVICES}{service.slug}/"


def team_url(team):
    return f"{TEAMS}{team.slug}/"


def membership_url(membership):
    return f"{MEMBERSHIPS}{membership.pk}/"


def service_payload(**overrides):
    """A complete, valid service for the payments team."""
    payload = {
        "name": "Ledger",
        "slug": "ledger",
        "description": "Books every movement of money.",
        "owner_team": "payments",
        "tier": Tier.TIER_1,
        "lifecycle": Lifecycle.EXPERIMENTAL,
        "kind": "service",
        "system": "billing",
        "repository_url": "https://git.example.test/payments/ledger",
        "runbook_url": "https://wiki.example.test/ledger/runbook",
        "dashboard_url": "https://grafana.example.test/d/ledger",
        "oncall_url": "https://oncall.example.test/payments",
        "pagerduty_service_id": "PLEDGER",
        "handles_personal_data": True,
        "data_retention_days": 365,
        "depends_on": [],
        "tags": ["billing", "Java"],
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def users(owner, teammate, outsider, viewer, sre_lead):
    return {
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "viewer": viewer,
        "sre_lead": sre_lead,
    }


@pytest.fixture
def catalog(service, search_team):
    """The payments service, one search service it depends on, and a tag on each."""
    search_index = ServiceFactory(
        name="Search index", slug="search-index", owner_team=search_team, tags=[TagFactory()]
    )
    service.depends_on.set([search_index])
    service.tags.set([TagFactory(name="pci", slug="pci")])
    return service


# Reading


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "viewer", "sre_lead"])
def test_every_signed_in_user_reads_services_teams_memberships_and_tags(
    who, users, catalog, api_client_for
):
    api = api_client_for(users[who])

    assert [s["slug"] for s in api.get(SERVICES).json()["results"]] == [
        "payments-api",
        "search-index",
    ]
    assert api.get(service_url(catalog)).json()["slug"] == "payments-api"
    assert {t["slug"] for t in api.get(TEAMS).json()["results"]} == {"payments", "search"}
    assert api.get(MEMBERSHIPS).json()["count"] == Membership.objects.count()
    assert "pci" in {t["slug"] for t in api.get(TAGS).json()["results"]}


def test_a_service_shows_its_fields_dependencies_both_ways_and_tag_names(catalog, api_client_for):
    api = api_client_for(catalog.owner_team.manager)

    body = api.get(service_url(catalog)).json()
    dependency = api.get(f"{SERVICES}?q=search-index").json()["results"][0]

    assert body["id"] == catalog.pk
    assert body["url"] == f"http://testserver{service_url(catalog)}"
    assert body["owner_team"] == "payments"
    assert body["description"] == "Takes money."
    assert body["tier"] == Tier.TIER_2
    assert body["lifecycle"] == Lifecycle.PRODUCTION
    assert body["depends_on"] == ["search-index"]
    assert body["dependents"] == []
    assert body["tags"] == ["pci"]
    assert dependency["dependents"] == ["payments-api"]
    assert set(body) >= {"created_at", "updated_at", "data_retention_days", "oncall_url"}


def test_a_listed_service_has_every_field_of_its_own_address_in_its_order(
    catalog, api_client_for, owner
):
    api = api_client_for(owner)

    rows = api.get("/api/services/").json()["results"]

    assert rows
    for row in rows:
        assert row == api.get(f"/api/services/{row['slug']}/").json()
        assert list(row) == list(api.get(f"/api/services/{row['slug']}/").json())


def test_an_unknown_service_id_is_a_404(service, api_client_for, owner):
    assert api_client_for(owner).get(f"{SERVICES}999999/").status_code == 404


def test_lists_are_paginated(owner, payments, api_client_for):
    page_size = PortalPagination.page_size
    ServiceFactory.create_batch(page_size + 1, owner_team=payments)

    first_page = api_client_for(owner).get(SERVICES).json()
    second_page = api_client_for(owner).get(first_page["next"]).json()

    assert first_page["count"] == page_size + 1
    assert len(first_page["results"]) == page_size
    assert len(second_page["results"]) == 1


def test_a_client_may_ask_for_bigger_pages_up_to_the_maximum(owner, payments, api_client_for):
    ServiceFactory.create_batch(30, owner_team=payments)
    client = api_client_for(owner)

    assert len(client.get(SERVICES, {"page_size": 30}).json()["results"]) == 30
    assert client.get(SERVICES, {"page_size": 1000}).json()["count"] == 30
    assert PortalPagination.max_page_size == 200


# Services: creating, changing, deleting


def test_an_engineer_creates_a_service_for_their_own_team(owner, catalog, api_client_for):
    response = api_client_for(owner).post(SERVICES, service_payload(depends_on=["payments-api"]))

    assert response.status_code == 201, response.content
    ledger = Service.objects.get(slug="ledger")
    assert ledger.owner_team.slug == "payments"
    assert ledger.data_retention_days == 365
    assert list(ledger.depends_on.values_list("slug", flat=True)) == ["payments-api"]
    assert sorted(ledger.tags.values_list("slug", flat=True)) == ["billing", "java"]
    assert set(response.json()["tags"]) == {"billing", "Java"}
    assert response.json()["depends_on"] == ["payments-api"]


@pytest.mark.parametrize("who", ["outsider", "viewer"])
def test_users_without_edit_rights_on_the_team_cannot_create_its_services(
    who, users, api_client_for
):
    response = api_client_for(users[who]).post(SERVICES, service_payload())

    assert response.status_code == 403
    assert not Service.objects.filter(slug="ledger").exists()


def test_an_sre_lead_creates_services_for_any_team(sre_lead, search_team, api_client_for):
    response = api_client_for(sre_lead).post(SERVICES, service_payload(owner_team="search"))

    assert response.status_code == 201
    assert Service.objects.get(slug="ledger").owner_team == search_team


@pytest.mark.parametrize("who", ["owner", "teammate", "sre_lead"])
def test_team_engineers_and_sre_leads_change_a_service(who, users, service, api_client_for):
    response = api_client_for(users[who]).patch(
        service_url(service), {"tier": Tier.TIER_1, "tags": ["pci"]}
    )

    assert response.status_code == 200, response.content
    service.refresh_from_db()
    assert service.tier == Tier.TIER_1
    assert list(service.tags.values_list("name", flat=True)) == ["pci"]


@pytest.mark.parametrize("who", ["outsider", "viewer"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_users_without_edit_rights_cannot_change_or_delete_a_service(
    who, method, users, service, api_client_for
):
    response = getattr(api_client_for(users[who]), method)(
        service_url(service), service_payload(name="Renamed", slug=service.slug)
    )

    assert response.status_code == 403
    service.refresh_from_db()
    assert service.name == "Payments API"


def test_put_replaces_every_field_and_relation(catalog, owner, api_client_for):
    response = api_client_for(owner).put(
        service_url(catalog),
        service_payload(name="Payments API v2", slug="payments-api", tags=["rewrite"]),
        format="json",
    )

    assert response.status_code == 200, response.content
    catalog.refresh_from_db()
    assert catalog.name == "Payments API v2"
    assert catalog.tier == Tier.TIER_1
    assert not catalog.depends_on.exists()
    assert list(catalog.tags.values_list("name", flat=True)) == ["rewrite"]


def test_patch_leaves_relations_it_does_not_mention_alone(catalog, owner, api_client_for):
    response = api_client_for(owner).patch(
        service_url(catalog), {"description": "Takes more money."}
    )

    assert response.status_code == 200
    assert response.json()["depends_on"] == ["search-index"]
    assert response.json()["tags"] == ["pci"]


def test_an_engineer_cannot_move_a_service_to_a_team_they_do_not_edit(
    service, owner, search_team, api_client_for
):
    response = api_client_for(owner).patch(service_url(service), {"owner_team": "search"})

    assert response.status_code == 403
    service.refresh_from_db()
    assert service.owner_team.slug == "payments"


def test_an_engineer_of_both_teams_moves_a_service_between_them(
    service, owner, search_team, api_client_for
):
    MembershipFactory(user=owner, team=search_team, role=MembershipRole.ENGINEER)

    response = api_client_for(owner).patch(service_url(service), {"owner_team": "search"})

    assert response.status_code == 200
    service.refresh_from_db()
    assert service.owner_team == search_team


def test_an_engineer_cannot_take_over_another_teams_service(
    outsider, search_team, payments, api_client_for
):
    other = ServiceFactory(owner_team=payments)

    response = api_client_for(outsider).patch(service_url(other), {"owner_team": "search"})

    assert response.status_code == 403
    other.refresh_from_db()
    assert other.owner_team == payments


@pytest.mark.parametrize("who", ["teammate", "sre_lead"])
def test_team_engineers_and_sre_leads_delete_a_service(who, users, catalog, api_client_for):
    response = api_client_for(users[who]).delete(service_url(catalog))

    assert response.status_code == 204
    assert not Service.objects.filter(pk=catalog.pk).exists()
    assert Service.objects.filter(slug="search-index").exists()


# Services: validation


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tier": 9}, "tier"),
        ({"lifecycle": "retired"}, "lifecycle"),
        ({"owner_team": None}, "owner_team"),
        ({"owner_team": "no-such-team"}, "owner_team"),
        ({"data_retention_days": None}, "data_retention_days"),
        ({"depends_on": ["no-such-service"]}, "depends_on"),
        ({"slug": "payments-api"}, "slug"),
        ({"slug": "not a slug"}, "slug"),
        ({"repository_url": "not a url"}, "repository_url"),
    ],
)
def test_an_invalid_service_is_refused_with_the_field_named(
    overrides, field, service, sre_lead, api_client_for
):
    response = api_client_for(sre_lead).post(SERVICES, service_payload(**overrides))

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Service.objects.filter(name="Ledger").exists()


def test_a_service_without_an_owner_team_is_refused(sre_lead, api_client_for):
    payload = service_payload()
    del payload["owner_team"]

    response = api_client_for(sre_lead).post(SERVICES, payload)

    assert response.status_code == 400
    assert response.json() == {"owner_team": ["This field is required."]}


def test_a_service_cannot_depend_on_itself(catalog, owner, api_client_for):
    response = api_client_for(owner).patch(service_url(catalog), {"depends_on": ["payments-api"]})

    assert response.status_code == 400
    assert response.json() == {"depends_on": ["A service cannot depend on itself."]}
    assert list(catalog.depends_on.values_list("slug", flat=True)) == ["search-index"]


def test_turning_on_personal_data_needs_retention_days_and_changes_nothing(
    service, owner, api_client_for
):
    response = api_client_for(owner).patch(
        service_url(service), {"handles_personal_data": True, "tier": Tier.TIER_1}
    )

    assert response.status_code == 400
    assert response.json() == {
        "data_retention_days": ["Required when the service handles personal data."]
    }
    service.refresh_from_db()
    assert (service.handles_personal_data, service.tier) == (False, Tier.TIER_2)


def test_model_errors_not_tied_to_a_field_come_back_as_non_field_errors():
    error = DjangoValidationError({NON_FIELD_ERRORS: ["Broken rule."], "slug": ["Taken."]})

    response = exception_handler(error, {})

    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Broken rule."], "slug": ["Taken."]}


# Teams


def test_a_team_shows_its_manager_and_members(service, owner, teammate, viewer, api_client_for):
    body = api_client_for(viewer).get(team_url(service.owner_team)).json()

    assert body["manager"] == "olivia"
    assert body["members"] == [
        {"username": "olivia", "role": "engineer"},
        {"username": "tom", "role": "engineer"},
        {"username": "vera", "role": "viewer"},
    ]


def test_an_sre_lead_creates_changes_and_deletes_a_team(sre_lead, owner, api_client_for):
    api = api_client_for(sre_lead)

    created = api.post(
        TEAMS,
        {"name": "Identity", "slug": "identity", "manager": "olivia", "members": [{"x": 1}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["members"] == []
    team = Team.objects.get(slug="identity")
    assert team.manager == owner

    changed = api.patch(team_url(team), {"chat_channel": "#identity", "manager": None})
    assert changed.status_code == 200
    team.refresh_from_db()
    assert (team.chat_channel, team.manager) == ("#identity", None)

    assert api.delete(team_url(team)).status_code == 204
    assert not Team.objects.filter(slug="identity").exists()


def test_a_team_that_still_owns_services_is_not_deleted(service, sre_lead, api_client_for):
    response = api_client_for(sre_lead).delete(team_url(service.owner_team))

    assert response.status_code == 400
    assert "still owns services" in response.json()["non_field_errors"][0]
    assert Team.objects.filter(pk=service.owner_team_id).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Payments", "slug": "payments-2"}, "name"),
        ({"name": "Payments 2", "slug": "payments"}, "slug"),
        ({"name": "Payments 2", "slug": "payments-2", "manager": "nobody"}, "manager"),
        ({"name": "Payments 2", "slug": "payments-2", "email": "not-an-email"}, "email"),
    ],
)
def test_an_invalid_team_is_refused_with_the_field_named(
    payload, field, payments, sre_lead, api_client_for
):
    response = api_client_for(sre_lead).post(TEAMS, payload)

    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "viewer"])
def test_only_sre_leads_create_change_or_delete_teams(who, users, payments, api_client_for):
    api = api_client_for(users[who])

    assert api.post(TEAMS, {"name": "Identity", "slug": "identity"}).status_code == 403
    assert api.patch(team_url(payments), {"name": "Renamed"}).status_code == 403
    assert api.delete(team_url(payments)).status_code == 403
    assert list(Team.objects.values_list("name", flat=True)) == ["Payments", "Search"]


# Memberships


def test_an_sre_lead_adds_a_member_by_username_changes_the_role_and_removes_them(
    sre_lead, payments, api_client_for
):
    UserFactory(username="nina")
    api = api_client_for(sre_lead)

    created = api.post(MEMBERSHIPS, {"team": "payments", "user": "nina", "role": "viewer"})
    assert created.status_code == 201, created.content
    assert created.json()["user"] == "nina"
    membership = Membership.objects.get(user__username="nina")
    assert (membership.team, membership.role) == (payments, MembershipRole.VIEWER)

    changed = api.patch(membership_url(membership), {"role": "engineer"})
    assert changed.status_code == 200
    membership.refresh_from_db()
    assert membership.role == MembershipRole.ENGINEER

    assert api.delete(membership_url(membership)).status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"team": "payments", "user": "nobody", "role": "engineer"}, "user"),
        ({"team": "nowhere", "user": "tom", "role": "engineer"}, "team"),
        ({"team": "payments", "user": "tom", "role": "admin"}, "role"),
        ({"team": "payments", "user": "tom", "role": "viewer"}, "non_field_errors"),
    ],
)
def test_an_invalid_membership_is_refused_with_the_field_named(
    payload, field, teammate, sre_lead, api_client_for
):
    response = api_client_for(sre_lead).post(MEMBERSHIPS, payload)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Membership.objects.get(user=teammate).role == MembershipRole.ENGINEER


def test_a_membership_cannot_be_moved_to_another_team(
    teammate, search_team, sre_lead, api_client_for
):
    membership = Membership.objects.get(user=teammate)

    response = api_client_for(sre_lead).patch(membership_url(membership), {"team": "search"})

    assert response.status_code == 400
    assert list(response.json()) == ["team"]
    membership.refresh_from_db()
    assert membership.team.slug == "payments"


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "viewer"])
def test_only_sre_leads_change_memberships(who, users, api_client_for):
    api = api_client_for(users[who])
    membership = Membership.objects.get(user=users["teammate"])

    new_membership = {"team": "search", "user": users[who].username, "role": "engineer"}

    assert api.post(MEMBERSHIPS, new_membership).status_code == 403
    assert api.patch(membership_url(membership), {"role": "viewer"}).status_code == 403
    assert api.delete(membership_url(membership)).status_code == 403
    membership.refresh_from_db()
    assert membership.role == MembershipRole.ENGINEER


# Tags


def test_tags_are_listed_with_their_service_counts(catalog, api_client_for, viewer):
    body = api_client_for(viewer).get(TAGS).json()

    pci = next(tag for tag in body["results"] if tag["slug"] == "pci")
    assert pci == {"id": pci["id"], "name": "pci", "slug": "pci", "service_count": 1}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_tags_are_read_only_even_for_sre_leads(method, catalog, sre_lead, api_client_for):
    tag = catalog.tags.get()
    url = TAGS if method == "post" else f"{TAGS}{tag.pk}/"

    response = getattr(api_client_for(sre_lead), method)(url, {"name": "x"})

    assert response.status_code == 405


# Authentication


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("endpoint", ["services", "teams", "memberships", "tags"])
@pytest.mark.parametrize("on_record", [False, True], ids=["list", "detail"])
def test_anonymous_requests_are_refused_everywhere(method, endpoint, on_record, catalog, owner):
    record = {
        "services": catalog,
        "teams": catalog.owner_team,
        "memberships": Membership.objects.get(user=owner),
        "tags": catalog.tags.get(),
    }[endpoint]
    url = f"/api/{endpoint}/{record.pk}/" if on_record else f"/api/{endpoint}/"

    response = getattr(APIClient(), method)(url, {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert type(record).objects.filter(pk=record.pk).exists()


def test_a_wrong_token_is_refused(service):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api.get(SERVICES).status_code == 401


def test_a_signed_in_browser_session_reads_and_writes_the_api(owner, service):
    api = APIClient()
    api.force_login(owner)

    assert api.get(SERVICES).json()["count"] == 1
    assert api.patch(service_url(service), {"tier": 1}).status_code == 200


def test_api_changes_are_recorded_in_the_service_history_with_the_tokens_user(
    service, teammate, api_client_for
):
    api_client_for(teammate).patch(service_url(service), {"lifecycle": Lifecycle.DEPRECATED})

    change = service.history.first()
    assert (change.lifecycle, change.history_user) == (Lifecycle.DEPRECATED, teammate)


def test_a_session_write_without_the_csrf_token_is_refused(owner, service):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(owner)

    response = api.patch(service_url(service), {"tier": 1})

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


# Query counts: the same bound for a handful of records and for many


def build_catalog(size):
    """`size` services over three teams, each with two tags and two dependencies."""
    teams = TeamFactory.create_batch(3)
    tags = [TagFactory(name=f"area{i}") for i in range(4)]
    services = [
        ServiceFactory(owner_team=teams[i % 3], tags=[tags[i % 4], tags[(i + 1) % 4]])
        for i in range(size)
    ]
    for i, service in enumerate(services):
        service.depends_on.set([services[(i + 1) % size], services[(i + 2) % size]])
    for i, team in enumerate(teams):
        MembershipFactory.create_batch(i + 2, team=team)


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(
    ("url", "bound"),
    [
        # token, count, page, then per relation shown one prefetch query; the services' list
        # reads its relations' names in the page's query
        (SERVICES, 3),
        (TEAMS, 4),
        (MEMBERSHIPS, 3),
        (TAGS, 3),
        (f"{SERVICES}?tag=area0&ordering=-dependents", 4),
    ],
)
def test_list_endpoints_run_a_fixed_number_of_queries(
    size, url, bound, sre_lead, api_client_for, django_assert_max_num_queries
):
    build_catalog(size)
    api = api_client_for(sre_lead)

    with django_assert_max_num_queries(bound):
        response = api.get(url)

    assert response.status_code == 200
    assert response.json()["count"] > 0
