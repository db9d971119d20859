"""Pages kept for a few seconds per person and served again only while no data changed, with
the version moved by the database's own triggers whatever writes."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from portal.pagecache import data_version
from services.models.catalog import Service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 30
    from django.core.cache import caches

    caches["pages"].clear()
    yield
    caches["pages"].clear()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get(reverse("login"))  # a first page gives the browser its CSRF cookie
    return client


def queries_of(client, path):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return response, len(captured.captured_queries)


def test_the_same_page_again_is_served_without_its_queries(owner, service):
    client = signed_in(owner)
    path = reverse("service_detail", args=[service.slug])
    first, made = queries_of(client, path)
    again, served = queries_of(client, path)
    assert again.content == first.content
    # The session, the user and the version: the page's own queries are not run.
    assert served <= 3 < made
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_any_write_moves_the_version_and_the_page_shows_it(owner, service):
    client = signed_in(owner)
    path = reverse("service_detail", args=[service.slug])
    client.get(path)
    before = data_version()

    # A bulk statement sends no signal; the trigger sees it all the same.
    Service.objects.filter(pk=service.pk).update(name="Ledger API")
    assert data_version() != before
    assert b"Ledger API" in client.get(path).content

    # So does raw SQL, as another process would write.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Service._meta.db_table} SET name = %s WHERE id = %s",
            ["Ledger Gateway", service.pk],
        )
    assert b"Ledger Gateway" in client.get(path).content


def test_each_person_gets_their_own_page(owner, viewer, service):
    path = reverse("service_detail", args=[service.slug])
    owners = signed_in(owner).get(path)
    viewers = signed_in(viewer).get(path)
    assert owners.content != viewers.content  # each page carries its own CSRF token at least
    assert reverse("service_edit", args=[service.slug]).encode() in owners.content
    assert reverse("service_edit", args=[service.slug]).encode() not in viewers.content


def test_a_page_and_its_htmx_fragment_are_kept_apart(owner, service):
    client = signed_in(owner)
    path = reverse("service_list")
    page = client.get(path)
    fragment = client.get(path, headers={"HX-Request": "true", "HX-Target": "results"})
    assert b"<html" in page.content
    assert b"<html" not in fragment.content
    assert b"<html" in client.get(path).content


def test_a_waiting_message_is_shown_once_and_its_page_is_not_kept(sre_lead, service, payments):
    from tests.factories import ServiceFactory

    doomed = ServiceFactory(owner_team=payments, name="Old Ledger")
    client = signed_in(sre_lead)
    path = reverse("service_list")
    client.get(path)
    shown = client.post(reverse("service_delete", args=[doomed.slug]), follow=True)
    assert "Service “Old Ledger” was deleted.".encode() in shown.content
    after, made = queries_of(client, path)
    again, served = queries_of(client, path)
    assert b"was deleted" not in after.content
    assert again.content == after.content and served < made


def test_writes_outside_the_portal_pages_tables_do_not_empty_the_cache(owner, service):
    """Beat's schedule and sessions change on their own; no page shows them."""
    from django.contrib.sessions.backends.db import SessionStore

    client = signed_in(owner)
    before = data_version()
    session = SessionStore()
    session["seen"] = True
    session.save()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_celery_beat_periodictask SET total_run_count = 1")
    from portal.tasks import heartbeat

    heartbeat()  # beat's every minute
    assert data_version() == before
    assert client.get(reverse("service_list")).status_code == 200


def test_turned_off_every_request_makes_its_page(settings, owner, service):
    settings.PAGE_CACHE_SECONDS = 0
    client = signed_in(owner)
    path = reverse("service_detail", args=[service.slug])
    _, made = queries_of(client, path)
    _, again = queries_of(client, path)
    assert again == made


def test_downloads_are_made_afresh_each_time(owner, service):
    client = signed_in(owner)
    path = "/me/export.json"  # the person's data, as an attachment
    first, made = queries_of(client, path)
    assert first.has_header("Content-Disposition")
    _, again = queries_of(client, path)
    assert again == made


def test_a_request_carrying_a_token_is_answered_afresh_and_not_kept(owner, viewer, service):
    """The API answers a token's owner, who need not be the session's person (the API page's
    "Authorize" sends both): such a request neither reads nor fills the session's copy."""
    from portal.api.tokens import token_create

    client = signed_in(owner)
    _, token = token_create(user=viewer)
    path = "/api/services/"
    client.get(path)  # kept for the session
    _, made = queries_of(client, path)
    assert made <= 3
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    _, with_token = queries_of(client, path)
    assert with_token > 3
