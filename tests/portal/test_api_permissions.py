"""Permission before validation: whoever may not write gets a 403 whatever they send, before
the body is read, so refusals leak no validation detail and trigger no lookup."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/services/", {"name": "", "owner_team": "no-such-team"}),
        ("/api/services/", {"owner_team": "pay\0ments"}),
        ("/api/services/", "{not json"),
        ("/api/slos/", {"service": "no-such-service", "objective": "lots"}),
        ("/api/teams/", {"name": "x" * 1000, "manager": "nobody"}),
        ("/api/memberships/", {"team": "payments", "user": "nobody"}),
        ("/api/budget-policies/", {"tiers": "none"}),
        ("/api/incidents/", {"severity": "SEV9", "services": ["no-such-service"]}),
    ],
)
def test_a_viewers_write_is_a_403_whatever_it_sends(path, body, viewer, api_client_for):
    api = api_client_for(viewer)
    with CaptureQueriesContext(connection) as queries:
        if isinstance(body, str):
            response = api.post(path, body, content_type="application/json")
        else:
            response = api.post(path, body, format="json")

    assert response.status_code == 403
    assert set(response.json()) == {"detail"}
    looked_up = [
        q["sql"] for q in queries if '"services_team"' in q["sql"] or "no-such" in q["sql"]
    ]
    assert looked_up == []


def test_a_viewers_change_to_a_service_is_a_403_before_validation(service, viewer, api_client_for):
    response = api_client_for(viewer).patch(
        f"/api/services/{service.pk}/", {"owner_team": "no-such-team", "tier": 9}, format="json"
    )

    assert response.status_code == 403


def test_an_engineer_still_gets_validation_messages_for_their_own_writes(
    owner, payments, api_client_for
):
    response = api_client_for(owner).post(
        "/api/services/", {"name": "X", "owner_team": "no-such-team"}, format="json"
    )

    assert response.status_code == 400
    assert "owner_team" in response.json()


def test_an_engineer_creating_for_another_team_is_refused_with_a_403(
    owner, search_team, api_client_for
):
    response = api_client_for(owner).post(
        "/api/services/", {"name": "X", "slug": "x", "owner_team": "search"}, format="json"
    )

    assert response.status_code == 403
