"""The API addresses records by what people use: services and teams by slug, incidents by
reference, the ``url`` of each record pointing there; the ids that addressed them before still
work, so that existing scripts keep running."""

import pytest

from tests.factories import ServiceFactory
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_a_service_is_read_by_slug_and_its_url_points_there(api_client_for, viewer, service):
    response = api_client_for(viewer).get("/api/services/payments-api/")
    assert response.status_code == 200
    assert response.json()["url"] == "http://testserver/api/services/payments-api/"


def test_a_team_is_read_by_slug_and_its_url_points_there(api_client_for, viewer, payments):
    response = api_client_for(viewer).get("/api/teams/payments/")
    assert response.status_code == 200
    assert response.json()["url"] == "http://testserver/api/teams/payments/"


def test_an_incident_is_read_by_reference_and_its_url_points_there(api_client_for, viewer, service):
    incident = IncidentFactory(services=[service])
    response = api_client_for(viewer).get(f"/api/incidents/{incident.reference}/")
    assert response.status_code == 200
    assert response.json()["url"] == f"http://testserver/api/incidents/{incident.reference}/"
    listed = api_client_for(viewer).get("/api/incidents/").json()["results"]
    assert listed[0]["url"] == f"http://testserver/api/incidents/{incident.reference}/"


@pytest.mark.parametrize("kind", ["services", "teams", "incidents"])
def test_the_ids_that_addressed_records_before_still_work(api_client_for, viewer, service, kind):
    record = {
        "services": service,
        "teams": service.owner_team,
        "incidents": IncidentFactory(services=[service]),
    }[kind]
    response = api_client_for(viewer).get(f"/api/{kind}/{record.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == record.pk


def test_an_engineer_changes_a_service_addressed_by_its_id_as_before(
    api_client_for, owner, service
):
    response = api_client_for(owner).patch(
        f"/api/services/{service.pk}/", {"description": "Takes money, fast."}, format="json"
    )
    assert response.status_code == 200
    service.refresh_from_db()
    assert service.description == "Takes money, fast."


def test_an_incident_action_takes_its_reference(api_client_for, owner, service):
    incident = IncidentFactory(services=[service], commander=owner)
    response = api_client_for(owner).post(
        f"/api/incidents/{incident.reference}/notes/", {"text": "Rolled back."}, format="json"
    )
    assert response.status_code == 201
    assert incident.timeline_entries.filter(text="Rolled back.").exists()


def test_a_slug_made_of_digits_names_its_own_service_not_the_service_of_that_id(
    api_client_for, viewer, service
):
    numbered = ServiceFactory(slug=str(service.pk), name="Numbered")
    response = api_client_for(viewer).get(f"/api/services/{service.pk}/")
    assert response.json()["id"] == numbered.pk


@pytest.mark.parametrize(
    "address", ["nope", "INC-1999-0001", "99999999", "9" * 40, "%C2%B2", "payments-api%20"]
)
def test_an_unknown_address_is_a_404_with_a_message(api_client_for, viewer, service, address):
    for kind in ("services", "teams", "incidents"):
        response = api_client_for(viewer).get(f"/api/{kind}/{address}/")
        assert response.status_code == 404, (kind, address)
        assert "is known as" in response.json()["detail"]


def test_an_outsider_still_may_not_change_a_service_addressed_by_slug(
    api_client_for, outsider, service
):
    response = api_client_for(outsider).patch(
        "/api/services/payments-api/", {"description": "Mine now."}, format="json"
    )
    assert response.status_code == 403
