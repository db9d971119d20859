"""The API's error answers: Django ValidationErrors as 400s with field messages, an
unreachable database as 503 with Retry-After, unknown addresses as JSON 404s."""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.test import RequestFactory

from portal.api.errors import exception_handler
from portal.errors import server_error
from services.api.catalog import TeamViewSet

pytestmark = pytest.mark.django_db


def test_a_models_validation_error_from_an_action_is_a_400_naming_the_field(
    sre_lead, service, api_client_for
):
    response = api_client_for(sre_lead).patch(
        f"/api/services/{service.pk}/", {"handles_personal_data": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "data_retention_days": ["Required when the service handles personal data."]
    }


def test_an_actions_refusal_not_about_a_field_is_a_400_with_non_field_errors(
    sre_lead, service, api_client_for
):
    response = api_client_for(sre_lead).delete(f"/api/teams/{service.owner_team.pk}/")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert "still owns services" in response.json()["non_field_errors"][0]


def test_a_validation_error_without_a_field_is_a_400_with_non_field_errors():
    response = exception_handler(DjangoValidationError("Broken rule."), {})

    assert (response.status_code, response.data) == (400, {"non_field_errors": ["Broken rule."]})


def test_an_unreachable_database_in_an_api_view_is_a_503_with_retry_after():
    response = exception_handler(OperationalError("connection refused"), {"view": TeamViewSet()})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "connection refused" not in str(response.data)


def test_other_exceptions_are_left_to_django():
    assert exception_handler(KeyError("x"), {}) is None


@pytest.mark.parametrize(
    ("path", "content_type"), [("/api/x/", "application/json"), ("/x/", "text/html")]
)
def test_an_unreachable_database_outside_a_view_is_a_503_page_or_json(path, content_type):
    request = RequestFactory().get(path)
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith(content_type)
    assert b"connection refused" not in response.content


def test_an_api_address_matching_nothing_is_a_json_404(owner, api_client_for, client_for):
    response = api_client_for(owner).get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert client_for(owner).get("/no-such-page/")["Content-Type"].startswith("text/html")
