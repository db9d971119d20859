"""API tokens are kept as digests: shown once when made, listed by prefix, optionally
expiring; tokens of DRF's plain table keep working after the move."""

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from portal.api.tokens import token_create

pytestmark = pytest.mark.django_db

OLD_KEY = "0123456789abcdef0123456789abcdef01234567"  # DRF's format: 40 hex digits


def api_as(token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def visible_text(response) -> str:
    """The page as read, without markup (record ids in links and attributes are no text)."""
    return re.sub(r"<[^>]*>", " ", response.content.decode())


def test_a_token_authenticates_in_one_query(owner, django_assert_num_queries):
    from portal.api.tokens import TokenAuthentication

    _, token = token_create(user=owner)

    with django_assert_num_queries(1):
        user, record = TokenAuthentication().authenticate_credentials(token.encode())

    assert user == owner
    assert record.user_id == owner.pk


@pytest.mark.parametrize(
    "header", ["Token nothex", "Token " + "a" * 39, "Token a\x00b", "Token " + "é" * 40]
)
def test_a_malformed_token_is_refused_without_a_lookup(header, db, django_assert_num_queries):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)

    with django_assert_num_queries(0):
        response = api.get("/api/services/")

    assert response.status_code == 401


def test_the_admin_adds_a_token_and_shows_it_once(sre_lead, owner, client_for):
    client = client_for(sre_lead)

    response = client.post(
        "/admin/portal/apitoken/add/", {"user": owner.pk, "expires_in_days": "7"}, follow=True
    )

    page = response.content.decode()
    shown = re.search(r"shown this once only: ([0-9a-f]{64})", page).group(1)
    record = AuthToken.objects.get(user=owner)
    assert record.expiry is not None
    assert api_as(shown).get("/api/services/").status_code == 200
    listing = visible_text(client.get("/admin/portal/apitoken/"))
    assert f"{record.token_key}…" in listing
    assert shown not in listing
    assert record.digest not in listing
    detail = visible_text(client.get(f"/admin/portal/apitoken/{record.pk}/change/"))
    assert f"{record.token_key}…" in detail
    assert shown not in detail
    assert record.digest not in detail


def test_tokens_of_drfs_plain_table_are_moved_hashed_and_keep_working(owner, service):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, '2025-01-02T03:04:05Z', %s)",
            [OLD_KEY, owner.pk],
        )
    migration = importlib.import_module("portal.migrations.0002_api_tokens_hashed")

    with connection.schema_editor() as editor:
        migration.hash_existing_tokens(apps, editor)

    record = AuthToken.objects.get(user=owner)
    assert record.token_key == OLD_KEY[:15]
    assert OLD_KEY not in record.digest
    assert record.created.year == 2025
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert api_as(OLD_KEY).get("/api/services/").status_code == 200
