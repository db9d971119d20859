"""Settings read from the environment and .env: order, transport security, check --deploy."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from services.models.catalog import Team

REPOSITORY = Path(__file__).resolve().parents[2]
SETTINGS_SHOWN = [
    "VAR_DIR",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
]
# The environment of a production deployment as the README documents it.
PRODUCTION = {
    "SECRET_KEY": "k" + "8Zr!qP2vX9#mL4wT7yB0nC5dF3gH6jK1sA" * 2,
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "SECURE_COOKIES": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "TRUST_X_FORWARDED_PROTO": "true",
}


def clean_environment(**variables) -> dict:
    """The test's environment without any portal setting, plus ``variables``."""
    example = (REPOSITORY / ".env.example").read_text()
    names = {line.lstrip("# ").split("=")[0] for line in example.splitlines() if "=" in line}
    # Also what the test run itself sets (the browser tests allow async-unsafe calls).
    names |= {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    environment = {k: v for k, v in os.environ.items() if k not in names}
    return {**environment, **variables}


def settings_of(tmp_path, *, dotenv: str = "", **variables) -> dict:
    """Some settings as portal/settings.py computes them from this environment and .env,
    read by a copy of the module placed beside its own .env (the checkout's is untouched)."""
    project = tmp_path / "project"
    (project / "portal").mkdir(parents=True)
    (project / "portal" / "__init__.py").write_text("")
    shutil.copy(REPOSITORY / "portal" / "settings.py", project / "portal" / "settings.py")
    (project / ".env").write_text(dotenv)
    show = (
        "import json, portal.settings as s; "
        f"shown = {{n: str(getattr(s, n, None)) for n in {SETTINGS_SHOWN!r}}}; "
        "shown['DATABASE_OPTIONS'] = str(s.DATABASES['default'].get('OPTIONS')); "
        "print(json.dumps(shown))"
    )
    result = subprocess.run(
        [sys.executable, "-c", show],
        cwd=project,
        env=clean_environment(PYTHONPATH=str(project), **variables),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_portal_var_dir_set_in_dotenv_is_honoured(tmp_path):
    var_dir = tmp_path / "elsewhere"

    shown = settings_of(tmp_path, dotenv=f"PORTAL_VAR_DIR={var_dir}\n")

    assert shown["VAR_DIR"] == str(var_dir)


def test_the_environment_wins_over_dotenv(tmp_path):
    shown = settings_of(
        tmp_path,
        dotenv=f"PORTAL_VAR_DIR={tmp_path / 'from-file'}\n",
        PORTAL_VAR_DIR=str(tmp_path / "from-environment"),
    )

    assert shown["VAR_DIR"] == str(tmp_path / "from-environment")


def test_transport_security_is_off_by_default_and_x_forwarded_proto_untrusted(tmp_path):
    shown = settings_of(tmp_path, PORTAL_VAR_DIR=str(tmp_path / "var"))

    assert shown["SECURE_SSL_REDIRECT"] == "False"
    assert shown["SECURE_HSTS_SECONDS"] == "0"
    assert shown["SECURE_PROXY_SSL_HEADER"] == "None"


def test_transport_security_follows_the_environment(tmp_path):
    shown = settings_of(tmp_path, PORTAL_VAR_DIR=str(tmp_path / "var"), **PRODUCTION)

    assert shown["SECURE_SSL_REDIRECT"] == "True"
    assert shown["SECURE_HSTS_SECONDS"] == "31536000"
    assert shown["SESSION_COOKIE_SECURE"] == "True"
    assert shown["SECURE_PROXY_SSL_HEADER"] == "('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.django_db
def test_a_client_claiming_https_is_not_believed_without_a_trusted_proxy(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = None

    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_https_requests_are_served_with_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600

    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=3600"


@pytest.mark.django_db
@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https(probe, client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get(probe).status_code == 200


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPOSITORY,
        env=clean_environment(PORTAL_VAR_DIR=str(tmp_path / "var"), **PRODUCTION),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_prepared_statements_follow_the_environment(tmp_path):
    """On PostgreSQL statements are bound by the server and prepared once repeated, unless
    DATABASE_PREPARED_STATEMENTS turns it off; SQLite has no such option."""
    postgres = "postgres://portal:secret@localhost:5432/portal"
    prepared = {"server_side_binding": True, "prepare_threshold": 5}

    assert settings_of(tmp_path / "on", DATABASE_URL=postgres)["DATABASE_OPTIONS"] == str(prepared)
    off = settings_of(tmp_path / "off", DATABASE_URL=postgres, DATABASE_PREPARED_STATEMENTS="no")
    assert off["DATABASE_OPTIONS"] == "{}"
    assert "server_side_binding" not in settings_of(tmp_path / "sqlite")["DATABASE_OPTIONS"]


@pytest.mark.django_db
def test_a_statement_a_connection_repeats_is_prepared_by_postgresql():
    """The page's statements are planned once per connection: after psycopg's fifth run of
    the same text, PostgreSQL holds it as a prepared statement with its parameters apart."""
    for _ in range(6):
        list(Team.objects.filter(slug="payments").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "services_team"' in text and "$1" in text for text in prepared), prepared
