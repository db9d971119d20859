"""`manage.py create_api_token USERNAME [--expires DAYS]`: a new token for pipelines, printed
alone on the last line, stored only as a digest."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create_api_token(username, *options):
    out = StringIO()
    call_command("create_api_token", username, *options, stdout=out)
    return out.getvalue().splitlines()


def api_as(token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_the_command_creates_a_token_and_prints_it_alone_on_the_last_line(owner):
    lines = create_api_token("olivia")

    token = lines[-1]
    assert "Created" in lines[0]
    assert "without expiry" in lines[0]
    record = AuthToken.objects.get(user=owner)
    assert record.expiry is None
    assert token.startswith(record.token_key)


def test_the_token_itself_is_not_stored(owner):
    token = create_api_token("olivia")[-1]

    record = AuthToken.objects.get(user=owner)
    assert token not in {record.digest, record.token_key}
    assert len(record.token_key) < len(token)


def test_running_it_again_makes_another_token_and_both_work(owner, service):
    first = create_api_token("olivia")[-1]

    second = create_api_token("olivia")[-1]

    assert second != first
    assert AuthToken.objects.filter(user=owner).count() == 2
    assert api_as(first).get("/api/services/").status_code == 200
    assert api_as(second).get("/api/services/").status_code == 200


def test_the_printed_token_authenticates_api_calls(owner, service):
    response = api_as(create_api_token("olivia")[-1]).get("/api/services/")

    assert response.status_code == 200
    assert response.json()["results"][0]["slug"] == "payments-api"


def test_a_token_made_with_an_expiry_stops_working_after_it(owner, service):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        lines = create_api_token("olivia", "--expires", "30")
        token = lines[-1]
        assert "until" in lines[0]
        assert AuthToken.objects.get(user=owner).expiry == timezone.now() + timedelta(days=30)
        assert api_as(token).get("/api/services/").status_code == 200

        traveller.shift(timedelta(days=30, seconds=1))
        response = api_as(token).get("/api/services/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token has expired."}


def test_an_expiry_below_one_day_is_refused(owner):
    with pytest.raises(CommandError, match="at least 1"):
        create_api_token("olivia", "--expires", "0")

    assert not AuthToken.objects.exists()


def test_an_unknown_username_is_an_error_naming_it(db):
    with pytest.raises(CommandError, match='No user is named "nobody"'):
        create_api_token("nobody")

    assert not AuthToken.objects.exists()


def test_an_inactive_user_gets_no_token(db):
    UserFactory(username="gone", is_active=False)

    with pytest.raises(CommandError, match='"gone" is inactive'):
        create_api_token("gone")

    assert not AuthToken.objects.exists()
