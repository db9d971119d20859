"""The portal's own 403, 404 and 500 pages (with the navigation, a sentence of what happened
and a way on), JSON errors under /api/, the API docs sending a signed-out browser to sign in,
and the favicon."""

import json

import pytest
from django.test import RequestFactory

from portal.errors import server_error

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_the_portals_404_with_the_navigation_and_a_way_on(owner, client_for):
    response = client_for(owner).get("/services/no-such-service/")

    assert response.status_code == 404
    page = response.content.decode()
    assert 'aria-label="Main"' in page
    assert "There is no page at <code>/services/no-such-service/</code>" in page
    assert 'href="/services/"' in page


def test_a_refusal_is_the_portals_403_saying_who_may_do_it(viewer, service, client_for):
    response = client_for(viewer).get(f"/services/{service.slug}/edit/")

    assert response.status_code == 403
    page = response.content.decode()
    assert 'aria-label="Main"' in page
    assert "Only the owning team&#x27;s engineers and SRE leads edit a service." in page
    assert "ask your team's manager or an SRE lead" in page


def test_api_errors_stay_json(viewer, service, api_client_for):
    client = api_client_for(viewer)

    refused = client.patch(f"/api/services/{service.pk}/", {"name": "X"}, format="json")
    missing = client.get("/api/services/999999/")

    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/json"
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"


def test_a_server_error_is_the_portals_500_page_with_the_navigation(owner):
    request = RequestFactory().get("/services/")
    request.user = owner
    try:
        raise KeyError("the bug")
    except KeyError:
        response = server_error(request)

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'aria-label="Main"' in page
    assert "the bug" not in page


def test_a_server_error_under_the_api_is_json():
    request = RequestFactory().get("/api/services/")
    try:
        raise KeyError("the bug")
    except KeyError:
        response = server_error(request)

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": "Internal server error."}


def test_a_signed_out_browser_opening_the_api_docs_is_sent_to_sign_in(client, owner, client_for):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/api/docs/"
    assert client_for(owner).get("/api/docs/").status_code == 200


def test_the_api_docs_set_up_script_still_refuses_a_signed_out_client(client):
    response = client.get("/api/docs/?script=")

    assert response.status_code == 401


def test_the_favicon_is_served_to_anyone(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("/static/favicon.svg")
    page = client.get("/login/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in page
