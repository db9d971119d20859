"""PostgreSQL stopped under a running portal, then started again: pages and the API answer
503 with Retry-After while it is away (never 500), /readyz says so without raw error text,
and everything works again once it is back.

The portal runs as in production (gunicorn, DEBUG off) against a PostgreSQL of this module's
own, which the tests stop and start; only the static files come from the source folders.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.servers import Server, free_port, start_postgres, wait_for_port

REPOSITORY = Path(__file__).resolve().parents[2]
PASSWORD = "Unguessable-portal-pass-7"
SETTINGS_MODULE = """
from portal.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
"""
MAKE_USER = f"""
from django.contrib.auth import get_user_model
from portal.api.tokens import token_create
user = get_user_model().objects.create_superuser("lead", "lead@example.test", "{PASSWORD}")
print(token_create(user=user)[1])
"""


class Portal:
    def __init__(self, postgres: Server, url: str, token: str, process: subprocess.Popen):
        self.postgres, self.url, self.token, self.process = postgres, url, token, process

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Token {self.token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def stop_postgres(self) -> None:
        """A fast shutdown, as an operator or a failover does: sessions are cut."""
        pid_file = Path(self.postgres.directory) / "data" / "postmaster.pid"
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        self.postgres.process.wait(timeout=30)

    def start_postgres(self) -> None:
        """Start it again on the same data directory and port."""
        self.postgres.process = subprocess.Popen(
            self.postgres.process.args, stdout=self.postgres._log, stderr=subprocess.STDOUT
        )
        wait_for_port(self.postgres.port, self.postgres.process, "PostgreSQL")


def run(command: list[str], environment: dict) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    directory = tmp_path_factory.mktemp("database-down")
    (directory / "database_down_settings.py").write_text(SETTINGS_MODULE)
    postgres, database_url = start_postgres()
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "database_down_settings",
        "PYTHONPATH": os.pathsep.join([str(directory), str(REPOSITORY)]),
        "PORTAL_VAR_DIR": str(directory / "var"),
        "SECRET_KEY": "a-secret-for-this-test-only-" + "x" * 30,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_BROKER_URL": "filesystem://",
        "DATABASE_CONN_MAX_AGE": "60",
        "LOG_FORMAT": "text",
    }
    server = None
    try:
        run(["migrate", "--no-input"], environment)
        token = run(["shell", "-c", MAKE_USER], environment).strip().splitlines()[-1]
        log = open(directory / "gunicorn.log", "w")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "2",
            ],
            cwd=REPOSITORY,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, server, "gunicorn")
        yield Portal(postgres, f"http://127.0.0.1:{port}", token, server)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        postgres.stop()


def signed_in(portal: Portal) -> requests.Session:
    browser = requests.Session()
    login_page = browser.get(f"{portal.url}/login/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    response = browser.post(
        f"{portal.url}/login/",
        data={"username": "lead", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{portal.url}/login/"},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    return browser


def eventually(check, *, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_the_portal_answers_503_while_postgresql_is_down_and_recovers_after(portal):
    browser = signed_in(portal)
    assert browser.get(f"{portal.url}/services/", timeout=30).status_code == 200
    assert portal.api("GET", "/api/services/").status_code == 200

    portal.stop_postgres()
    try:
        api_read = portal.api("GET", "/api/services/")
        api_write = portal.api("POST", "/api/teams/", json={"name": "New", "slug": "new"})
        page = browser.get(f"{portal.url}/services/", timeout=30)
        home = browser.get(f"{portal.url}/", timeout=30)
        ready = requests.get(f"{portal.url}/readyz", timeout=30)
    finally:
        portal.start_postgres()

    for response in (api_read, api_write):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert response.json() == {"detail": "The database is unavailable; try again shortly."}
    for response in (page, home):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert "temporarily unavailable" in response.text
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == {
        "ok": False,
        "error": "the database is unreachable",
    }
    assert "127.0.0.1" not in ready.text
    assert "connection" not in ready.text.lower()

    assert eventually(lambda: portal.api("GET", "/api/services/").status_code == 200)
    assert browser.get(f"{portal.url}/services/", timeout=30).status_code == 200
    assert requests.get(f"{portal.url}/readyz", timeout=30).status_code == 200
    created = portal.api("POST", "/api/teams/", json={"name": "New", "slug": "new"})
    assert created.status_code == 201
