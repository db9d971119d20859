"""Shared fixtures: real PostgreSQL and Redis servers for the session, and the cast of users.

The users, around one service owned by the payments team:
- owner: engineer in payments, the team's manager;
- teammate: another engineer in payments;
- outsider: engineer in another team (search);
- viewer: a read-only member of payments;
- sre_lead: in the SRE lead group, no team.
"""

from dataclasses import dataclass
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from portal.api.tokens import token_create
from portal.celery import app as celery_app
from portal.roles import grant_sre_lead
from services.choices import MembershipRole
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.servers import start_postgres, start_redis, start_smtp_sink

FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def postgres_url():
    server, url = start_postgres()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def redis_url():
    server, url = start_redis()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres_url):
    """Point Django's default database at the session's PostgreSQL before the test database
    is created, dropping any connection object made from the embedded default."""
    import environ
    from django.db import connections

    database = settings.DATABASES["default"]
    database.update(environ.Env.db_url_config(postgres_url))
    # The options settings give a PostgreSQL connection (prepared statements), not SQLite's.
    database.update({"OPTIONS": dict(settings.PREPARED_STATEMENTS), "CONN_MAX_AGE": 0})
    database["TEST"]["NAME"] = "portal_test"
    connections.close_all()
    if hasattr(connections._connections, "default"):
        del connections["default"]


@pytest.fixture(scope="session", autouse=True)
def celery_broker(redis_url):
    """Tasks go to the session's real Redis."""
    settings.CELERY_BROKER_URL = redis_url
    celery_app.conf.broker_url = redis_url
    celery_app.conf.broker_transport_options = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
    yield redis_url


@pytest.fixture(scope="session", autouse=True)
def static_files_without_collectstatic():
    """Pages render {% static %} without a collectstatic manifest, which only production
    builds: the suite uses plain static storage (files still come from the finders)."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture(scope="session", autouse=True)
def prepared_queries_checked():
    """Every prepared statement is compared with its queryset built afresh (portal.prepared)."""
    with override_settings(PREPARED_QUERIES_CHECK=True):
        yield


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on loopback that the portal's email goes to: sink.delivered holds
    what arrived, sink.refusals makes it refuse recipients ({address: "550 No such user"})."""
    sink = start_smtp_sink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER = False, ""
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Every user fixture hashes a password; the production hasher is slow on purpose
    (most of a second each), which only costs time here."""
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    """Tests travel in time and read pages right after writing: pages are made afresh unless
    a test of the page cache turns it on (tests/portal/test_page_cache.py)."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def fresh_cache():
    """The default cache holds the API's rate-limit counters: each test starts at zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def readiness_defaults(request):
    """The default readiness checklist and maturity scorecard come from a data migration, and a
    transactional test (a live server, a real worker) flushes every table when it ends: for a
    test that uses the database, load them again when they are missing."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(names & {"transactional_db", "live_server"}) or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not (marker or transactional or "db" in names):
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from services.actions.standards import load_defaults

    load_defaults()


@pytest.fixture
def payments(db):
    return TeamFactory(name="Payments", slug="payments", email="payments@example.test")


@pytest.fixture
def search_team(db):
    return TeamFactory(name="Search", slug="search", email="search@example.test")


@pytest.fixture
def owner(payments):
    user = UserFactory(username="olivia", first_name="Olivia", last_name="Owner")
    MembershipFactory(user=user, team=payments, role=MembershipRole.ENGINEER)
    payments.manager = user
    payments.save()
    return user


@pytest.fixture
def teammate(payments):
    user = UserFactory(username="tom", first_name="Tom", last_name="Teammate")
    MembershipFactory(user=user, team=payments, role=MembershipRole.ENGINEER)
    return user


@pytest.fixture
def outsider(search_team):
    user = UserFactory(username="oscar", first_name="Oscar", last_name="Outsider")
    MembershipFactory(user=user, team=search_team, role=MembershipRole.ENGINEER)
    return user


@pytest.fixture
def viewer(payments):
    user = UserFactory(username="vera", first_name="Vera", last_name="Viewer")
    MembershipFactory(user=user, team=payments, role=MembershipRole.VIEWER)
    return user


@pytest.fixture
def sre_lead(db):
    user = UserFactory(username="sasha", first_name="Sasha", last_name="Lead")
    grant_sre_lead(user)
    return user


@pytest.fixture
def service(payments, owner):
    return ServiceFactory(
        name="Payments API", slug="payments-api", owner_team=payments, description="Takes money."
    )


@pytest.fixture
def client_for(client):
    """Log a user into the Django test client: client_for(owner).get(...)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_client_for():
    """An API client authenticated with the user's token, as pipelines and bots call it."""

    def authenticate(user):
        api_client = APIClient()
        _, token = token_create(user=user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api_client

    return authenticate


@dataclass(frozen=True)
class LoadedDemo:
    var_dir: Path
    #: When the loading began: what the demo dates as "now".
    began_at: datetime


@pytest.fixture(scope="class")
def loaded_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data loaded once for the tests of a class that only read it. Loading it takes
    seconds; a test per fact would pay them each. The load stays in a transaction that each
    test's own (a savepoint) rolls back to, and that is rolled back after the class's last
    test: the next test finds the database as it was before the class. Only for tests that
    are not transactional (they would flush the database under the open transaction)."""
    from services.actions.standards import load_defaults

    var_dir = tmp_path_factory.mktemp("demo-var")
    # What the function-scoped autouse fixtures give a test that loads the demo itself.
    settings_override = override_settings(
        VAR_DIR=var_dir,
        PASSWORD_HASHERS=FAST_PASSWORD_HASHERS,
        PAGE_CACHE_SECONDS=0,
    )
    settings_override.enable()
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
        load_defaults()
        began_at = timezone.now()
        call_command("load_demo_data", url="http://127.0.0.1:8000/", stdout=StringIO())
    try:
        yield LoadedDemo(var_dir=var_dir, began_at=began_at)
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
        settings_override.disable()
