"""Sign-in protection with django-axes: 10 failed sign-ins of one username from one address
lock that pair out (not 9), on the sign-in page and the admin's alike, with no hint whether
the username exists; SRE leads unlock in the admin; /metrics counts failures and lockouts."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "the right passphrase"
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def dana(db):
    user = UserFactory(username="dana")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, username, password, *, address="127.0.0.1", path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def main_of(response) -> str:
    """The page's content, without the CSRF token that differs on every answer."""
    body = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def fail(client, username, times, **kwargs):
    """Fail `times` times; the first nine get the form again with its error, and the tenth
    the lockout page."""
    for attempt in range(1, times + 1):
        response = sign_in(client, username, "wrong", **kwargs)
        assert response.status_code == (429 if attempt >= 10 else 200)


@time_machine.travel(NOW, tick=False)
def test_nine_failures_do_not_lock_the_person_out(client, dana):
    fail(client, "dana", 9)

    response = sign_in(client, "dana", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


@time_machine.travel(NOW, tick=False)
def test_ten_failures_lock_that_username_and_address_out_with_a_clear_message(client, dana):
    fail(client, "dana", 10)

    response = sign_in(client, "dana", PASSWORD)

    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-ins" in body
    assert "paused for 5 minutes" in body
    assert "_auth_user_id" not in client.session
    # The same username from another address, and another username here, still sign in.
    assert sign_in(client, "dana", PASSWORD, address="10.0.0.7").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_an_unknown_username_is_locked_out_the_same_way(client, dana):
    fail(client, "nobody-here", 10)
    fail(client, "dana", 10, address="10.0.0.9")

    unknown = sign_in(client, "nobody-here", "anything")
    known = sign_in(client, "dana", PASSWORD, address="10.0.0.9")

    assert unknown.status_code == known.status_code == 429
    assert main_of(unknown) == main_of(known)


def test_the_lockout_ends_when_the_pause_has_passed_since_the_last_try(client, dana):
    with time_machine.travel(NOW, tick=False):
        fail(client, "dana", 10)
    with time_machine.travel(NOW + timedelta(minutes=4), tick=False):
        assert sign_in(client, "dana", PASSWORD).status_code == 429
    with time_machine.travel(NOW + timedelta(minutes=9, seconds=1), tick=False):
        assert sign_in(client, "dana", PASSWORD).status_code == 302


@time_machine.travel(NOW, tick=False)
def test_the_admin_sign_in_is_counted_and_locked_too(client, dana):
    fail_path = "/admin/login/?next=/admin/"
    for attempt in range(1, 11):
        response = sign_in(client, "dana", "wrong", path=fail_path)
        assert response.status_code == (429 if attempt == 10 else 200)

    assert sign_in(client, "dana", PASSWORD, path=fail_path).status_code == 429
    assert sign_in(client, "dana", PASSWORD).status_code == 429


@time_machine.travel(NOW, tick=False)
def test_an_sre_lead_sees_the_attempts_and_unlocks_the_pair_in_the_admin(
    client, dana, sre_lead, client_for
):
    fail(client, "dana", 10)
    attempt = AccessAttempt.objects.get(username="dana")
    admin = client_for(sre_lead)

    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "dana" in listing.content.decode()
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "unlock", "_selected_action": [attempt.pk]},
        follow=True,
    )
    assert "1 pair(s) unlocked" in response.content.decode()
    admin.logout()

    assert sign_in(client, "dana", PASSWORD).status_code == 302


@time_machine.travel(NOW, tick=False)
def test_metrics_count_failed_sign_ins_and_lockouts(client, dana, settings):
    settings.METRICS_TOKEN = "scrape"

    def counted(name):
        body = client.get("/metrics", headers={"Authorization": "Bearer scrape"}).content
        for line in body.decode().splitlines():
            if line.startswith(f'{name}{{form="login"}}'):
                return float(line.split()[-1])
        return 0.0

    failures, lockouts = (
        counted("portal_signin_failures_total"),
        counted("portal_signin_lockouts_total"),
    )
    fail(client, "dana", 10)
    sign_in(client, "dana", PASSWORD)

    assert counted("portal_signin_failures_total") - failures == 11
    assert counted("portal_signin_lockouts_total") - lockouts == 2
