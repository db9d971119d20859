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
    assert {"/api/services/", "/api/services/{id}/", "/api/teams/", "/api/memberships/"} <= set(
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


@pytest.mark.parametrize("url", [SCHEMA, DOCS])
def test_anonymous_users_get_neither_schema_nor_docs(url):
    response = APIClient().get(url)

    assert response.status_code == 401
    assert b"openapi" not in response.content
