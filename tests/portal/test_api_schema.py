"""The OpenAPI schema and its Swagger UI: for signed-in users, generated cleanly, served locally."""

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from services.models.catalog import (
    DESCRIPTION_MAX_LENGTH,
    MAX_DEPENDENCIES_PER_SERVICE,
    MAX_TAGS_PER_SERVICE,
)

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/"
DOCS = "/api/docs/"


def test_the_schema_is_valid_openapi_covering_the_catalog(owner, api_client_for):
    response = api_client_for(owner).get(SCHEMA, {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert {"/api/services/", "/api/services/{slug}/", "/api/teams/", "/api/memberships/"} <= set(
        schema["paths"]
    )
    service = schema["components"]["schemas"]["Service"]["properties"]
    assert service["depends_on"]["type"] == "array"
    assert service["depends_on"]["items"]["type"] == "string"
    assert service["depends_on"]["maxItems"] == MAX_DEPENDENCIES_PER_SERVICE
    assert service["tags"]["items"]["type"] == "string"
    assert service["tags"]["maxItems"] == MAX_TAGS_PER_SERVICE
    assert service["description"]["maxLength"] == DESCRIPTION_MAX_LENGTH


def test_the_catalog_endpoints_generate_without_schema_warnings(owner, api_client_for):
    GENERATOR_STATS.reset()

    api_client_for(owner).get(SCHEMA)

    catalog_warnings = [
        message
        for message in GENERATOR_STATS._warn_cache
        if "services/" in message or re.search(r"(Team|Membership|Tag|Service)ViewSet", message)
    ]
    assert catalog_warnings == []


def test_the_swagger_ui_loads_its_assets_from_the_local_static_files(owner, client_for):
    client = client_for(owner)

    response = client.get(DOCS)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', page)
    assert any("drf_spectacular_sidecar/swagger-ui-dist/" in asset for asset in assets)
    assert not re.search(r"https?://(?!testserver)", page)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_anonymous_users_get_no_schema():
    response = APIClient().get(SCHEMA)

    assert response.status_code == 401
    assert b"openapi" not in response.content


def test_anonymous_users_are_sent_to_sign_in_from_the_docs():
    response = APIClient().get(DOCS)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={DOCS}"
    assert b"openapi" not in response.content


def test_the_whole_schema_generates_without_warnings(owner, api_client_for):
    GENERATOR_STATS.reset()

    api_client_for(owner).get(SCHEMA)

    assert list(GENERATOR_STATS._warn_cache) == []
    assert list(GENERATOR_STATS._error_cache) == []


def test_every_operation_documents_its_error_answers(owner, api_client_for):
    schema = api_client_for(owner).get(SCHEMA, {"format": "json"}).json()

    missing = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            expected = {"400", "429", "503"}
            if operation.get("security") != [{}] and {} not in operation.get("security", []):
                expected |= {"401", "403"}
            if "{" in path:
                expected.add("404")
            if "requestBody" in operation:
                expected.add("413")
            absent = expected - set(operation["responses"])
            if absent:
                missing[f"{method} {path}"] = sorted(absent)
    assert missing == {}
    not_found = schema["paths"]["/api/services/{slug}/"]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }


def test_read_only_fields_over_nullable_model_fields_are_nullable(owner, api_client_for):
    schemas = api_client_for(owner).get(SCHEMA, {"format": "json"}).json()["components"]["schemas"]

    incident = schemas["IncidentDetail"]["properties"]
    assert incident["commander"]["nullable"] is True
    assert incident["scribe"]["nullable"] is True
    assert "nullable" not in schemas["TeamMember"]["properties"]["username"]
