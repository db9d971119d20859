"""`manage.py create_api_token USERNAME`: a token for pipelines, printed alone on the last line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create_api_token(username):
    out = StringIO()
    call_command("create_api_token", username, stdout=out)
    return out.getvalue().splitlines()


def test_the_command_creates_a_token_and_prints_it_alone_on_the_last_line(owner):
    lines = create_api_token("olivia")

    assert lines[-1] == Token.objects.get(user=owner).key
    assert "Created" in lines[0]


def test_running_it_again_prints_the_same_token(owner):
    first = create_api_token("olivia")[-1]

    again = create_api_token("olivia")

    assert again[-1] == first
    assert "already has" in again[0]
    assert Token.objects.filter(user=owner).count() == 1


def test_the_printed_token_authenticates_api_calls(owner, service):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token('olivia')[-1]}")

    response = api.get("/api/services/")

    assert response.status_code == 200
    assert response.json()["results"][0]["slug"] == "payments-api"


def test_an_unknown_username_is_an_error_naming_it(db):
    with pytest.raises(CommandError, match='No user is named "nobody"'):
        create_api_token("nobody")

    assert not Token.objects.exists()


def test_an_inactive_user_gets_no_token(db):
    UserFactory(username="gone", is_active=False)

    with pytest.raises(CommandError, match='"gone" is inactive'):
        create_api_token("gone")

    assert not Token.objects.exists()
