"""No input reaches a 500: deep JSON and YAML, NUL characters, oversized bodies and lists,
long texts, empty filters: each gets a 4xx that says what is wrong."""

import json
import time
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from services.models.catalog import (
    DESCRIPTION_MAX_LENGTH,
    MAX_DEPENDENCIES_PER_SERVICE,
    MAX_TAGS_PER_SERVICE,
    Membership,
    Service,
)
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_YAML = "[" * 100_000 + "]" * 100_000
NESTED = "JSON nested deeper than 64 levels."
WEBHOOK_TOKEN = "webhook-secret"
NUL_MESSAGE = "Null characters are not allowed."


def json_operations(schema):
    """(method, path) of every operation that takes a JSON body."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield method, path


def concrete(path, records):
    """The path with its parameters filled in with the ids (or slugs, references) of existing
    records."""
    if "{id}" in path:
        path = path.replace("{id}", str(records[path.split("/")[2]].pk))
    if "{slug}" in path:
        path = path.replace("{slug}", records[path.split("/")[2]].slug)
    if "{reference}" in path:
        path = path.replace("{reference}", records[path.split("/")[2]].reference)
    path = path.replace("{item_id}", str(records["review-item"].pk))
    return path.replace("{entry_id}", str(records["timeline"].pk))


def test_json_nested_100000_levels_is_a_400_on_every_json_endpoint(
    sre_lead, api_client_for, one_of_each, settings
):
    settings.ALERTMANAGER_WEBHOOK_TOKEN = WEBHOOK_TOKEN
    api = api_client_for(sre_lead)
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operations = list(json_operations(schema))
    assert ("post", "/api/alerts/alertmanager/") in operations
    assert len(operations) > 20

    alertmanager = APIClient()
    alertmanager.credentials(HTTP_AUTHORIZATION=f"Bearer {WEBHOOK_TOKEN}")
    answers = {}
    for method, path in operations:
        client = alertmanager if path == "/api/alerts/alertmanager/" else api
        response = getattr(client, method)(
            concrete(path, one_of_each), DEEP_JSON, content_type="application/json"
        )
        answers[(method, path)] = (response.status_code, response.json())

    assert {
        key: answer for key, answer in answers.items() if answer != (400, {"detail": NESTED})
    } == {}


def test_json_nested_64_levels_is_read(sre_lead, api_client_for):
    body = {"name": "Deep", "slug": "deep", "description": "", "x": json.loads("[" * 63 + "]" * 63)}

    response = api_client_for(sre_lead).post("/api/teams/", body, format="json")

    assert response.status_code == 201


def test_malformed_json_is_a_400(sre_lead, api_client_for):
    response = api_client_for(sre_lead).post("/api/teams/", "{", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("/api/services/", "owner_team", {"name": "X", "slug": "x", "owner_team": "pay\0ments"}),
        ("/api/services/", "depends_on[0]", {"name": "X", "slug": "x", "depends_on": ["a\0"]}),
        ("/api/teams/", "manager", {"name": "X", "slug": "x", "manager": "olivia\0"}),
        ("/api/memberships/", "user", {"team": "payments", "user": "\0"}),
        ("/api/slos/", "service", {"service": "payments-api\0"}),
        ("/api/incidents/", "services[0]", {"title": "X", "services": ["payments-api\0"]}),
        ("/api/incidents/", "commander", {"title": "X", "commander": "olivia\0"}),
        ("/api/postmortems/", "incident", {"incident": "INC-2026-0001\0"}),
        ("/api/action-items/", "owner", {"title": "X", "owner": "\0"}),
        ("/api/services/", "non_field_errors", {"na\0me": "X"}),
    ],
)
def test_a_nul_character_in_a_json_body_is_a_400_naming_the_field(
    path, field, body, sre_lead, service, api_client_for
):
    response = api_client_for(sre_lead).post(path, body, format="json")

    assert response.status_code == 400
    assert response.json() == {field: [NUL_MESSAGE]}


def test_a_nul_character_in_a_form_field_is_a_400(sre_lead, api_client_for):
    response = api_client_for(sre_lead).post(
        "/api/teams/", {"name": "X", "slug": "x", "manager": "a\0"}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {"manager": [NUL_MESSAGE]}


@pytest.mark.parametrize(
    "url",
    [
        "/api/services/?team=pay%00ments",
        "/api/slos/openslo/?service=%00",
        "/api/incidents/?service=a%00",
        "/api/action-items/?owner=%00",
    ],
)
def test_a_nul_character_in_an_api_query_is_a_400_naming_the_parameter(url, owner, api_client_for):
    response = api_client_for(owner).get(url)

    assert response.status_code == 400
    parameter = url.split("?")[1].split("=")[0]
    assert response.json() == {parameter: [NUL_MESSAGE]}


@pytest.mark.parametrize("url", ["/services/?q=a%00", "/incidents/?service=%00", "/incidents/%00/"])
def test_a_nul_character_in_a_page_address_is_a_400(url, owner, client_for):
    response = client_for(owner).get(url)

    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()


def test_a_body_over_the_upload_limit_gets_a_json_413(sre_lead, api_client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "X", "slug": "x", "description": "a" * 2000})

    response = api_client_for(sre_lead).post("/api/teams/", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]


def test_too_many_form_fields_get_a_json_413(sre_lead, api_client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"field{number}": "x" for number in range(20)}

    response = api_client_for(sre_lead).post("/api/teams/", fields, format="multipart")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


# Lists and lengths on the catalog


def test_more_tags_than_allowed_are_refused_quickly_and_nothing_is_written(
    owner, payments, api_client_for
):
    body = {"name": "Tagged", "slug": "tagged", "owner_team": "payments"}
    body["tags"] = [f"tag-{number}" for number in range(10_000)]

    started = time.monotonic()
    response = api_client_for(owner).post("/api/services/", body, format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 400
    assert response.json() == {
        "tags": [f"Ensure this field has no more than {MAX_TAGS_PER_SERVICE} elements."]
    }
    assert not Service.objects.filter(slug="tagged").exists()
    assert elapsed < 5  # it took 20 s when every tag was looked up


def test_more_dependencies_than_allowed_are_refused_without_looking_them_up(
    owner, payments, api_client_for
):
    body = {"name": "Hub", "slug": "hub", "owner_team": "payments"}
    body["depends_on"] = [f"service-{number}" for number in range(10_000)]

    with CaptureQueriesContext(connection) as queries:
        response = api_client_for(owner).post("/api/services/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "depends_on": [
            f"Ensure this field has no more than {MAX_DEPENDENCIES_PER_SERVICE} elements."
        ]
    }
    assert len(queries) < 10


def test_dependencies_are_looked_up_in_one_query_and_unknown_ones_named(
    owner, payments, api_client_for
):
    ServiceFactory(slug="auth", owner_team=payments)
    body = {"name": "Hub", "slug": "hub", "owner_team": "payments"}
    body["depends_on"] = ["auth", "nowhere", "elsewhere"]

    response = api_client_for(owner).post("/api/services/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "depends_on": ["No service has the slug “nowhere”.", "No service has the slug “elsewhere”."]
    }


def test_the_dependency_cap_holds_in_the_action_for_every_write_path(owner, payments):
    from django.core.exceptions import ValidationError

    from services.actions.catalog import service_create

    neighbours = [ServiceFactory(owner_team=payments) for _ in range(3)]

    with pytest.raises(ValidationError) as raised:
        service_create(
            name="Hub",
            slug="hub",
            owner_team=payments,
            depends_on=neighbours * (MAX_DEPENDENCIES_PER_SERVICE // 3 + 1),
        )

    assert "depends_on" in raised.value.message_dict


@pytest.mark.parametrize("path", ["/api/services/", "/api/teams/"])
def test_a_description_over_the_maximum_is_refused_by_the_api(
    path, sre_lead, service, api_client_for
):
    body = {"description": "x" * (DESCRIPTION_MAX_LENGTH + 1)}
    record = service if path == "/api/services/" else service.owner_team

    response = api_client_for(sre_lead).patch(f"{path}{record.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "description": [f"Ensure this field has no more than {DESCRIPTION_MAX_LENGTH} characters."]
    }


def test_a_description_over_the_maximum_is_refused_by_the_ui_with_the_same_limit(
    service, owner, client_for
):
    page = client_for(owner).get(f"/services/{service.slug}/edit/")
    assert f'maxlength="{DESCRIPTION_MAX_LENGTH}"' in page.content.decode()

    form = {
        "name": service.name,
        "slug": service.slug,
        "owner_team": service.owner_team_id,
        "tier": service.tier,
        "lifecycle": service.lifecycle,
        "description": "x" * (DESCRIPTION_MAX_LENGTH + 1),
    }
    response = client_for(owner).post(f"/services/{service.slug}/edit/", form)

    assert response.status_code == 200
    assert f"at most {DESCRIPTION_MAX_LENGTH} characters" in response.content.decode()
    service.refresh_from_db()
    assert service.description == "Takes money."


def test_a_membership_created_without_a_role_gets_the_default_role(
    sre_lead, payments, api_client_for
):
    newcomer = UserFactory(username="nina")

    response = api_client_for(sre_lead).post(
        "/api/memberships/", {"team": "payments", "user": "nina"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["role"] == "engineer"
    assert Membership.objects.get(user=newcomer).role == "engineer"


@pytest.mark.parametrize("query", ["tag=", "team=&tier=", "tag=&lifecycle=&q="])
def test_empty_filter_values_mean_no_filter_in_the_api(query, service, owner, api_client_for):
    response = api_client_for(owner).get(f"/api/services/?{query}")

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == ["payments-api"]


# YAML: OpenSLO and Backstage uploads and commands


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (DEEP_YAML, "nested deeper than 64 levels"),
        ("apiVersion: openslo/v1\nkind: SLO\nkind: SLI\n", "duplicate key “kind”"),
        ('apiVersion: openslo/v1\nkind: "S\\0LO"\n', "NUL characters are not allowed"),
        ("a: &a [*a]\n", "refers to itself"),
    ],
)
def test_hostile_yaml_posted_to_the_openslo_import_is_a_400(
    text, problem, sre_lead, api_client_for
):
    response = api_client_for(sre_lead).post(
        "/api/slos/openslo/", text, content_type="application/yaml"
    )

    assert response.status_code == 400
    assert problem in response.json()["detail"]
    assert "request body" in response.json()["detail"]


def test_deep_yaml_uploaded_as_a_backstage_catalog_is_refused_on_the_form(sre_lead, client_for):
    upload = SimpleUploadedFile("catalog-info.yaml", DEEP_YAML.encode(), "application/yaml")

    response = client_for(sre_lead).post("/services/import/", {"files": [upload]})

    assert response.status_code == 200
    page = response.content.decode()
    assert "catalog-info.yaml" in page
    assert "nested deeper than 64 levels" in page


@pytest.mark.parametrize("command", ["import_backstage", "import_openslo"])
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (DEEP_YAML, "nested deeper than 64 levels"),
        ("kind: Component\nkind: Group\n", "duplicate key “kind”"),
    ],
)
def test_the_import_commands_refuse_hostile_yaml_naming_the_file(
    command, text, problem, tmp_path, db
):
    path = tmp_path / "hostile.yaml"
    path.write_text(text)

    with pytest.raises(CommandError) as raised:
        call_command(command, str(path), stdout=StringIO())

    message = str(raised.value)
    assert str(path) in message
    assert problem in message
    assert "Nothing was imported" in message
