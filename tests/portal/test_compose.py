"""The deployment files: docker-compose.yml, the Dockerfile and .env.example.

No Docker engine runs the tests, so these check the structure: the services and how they
wait for each other, health checks, that commands name modules that exist, and that every
variable is documented and no secret is written into the files.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PORTAL_SERVICES = ["migrate", "web", "worker", "beat"]
LONG_RUNNING = ["web", "worker", "beat"]
# Read by the programs in the image rather than by the portal's code.
READ_BY_GUNICORN = {"WEB_CONCURRENCY"}
ENV_READ = re.compile(
    r"""(?:env|Env\(\))\.[a-z]+\(\s*"([A-Z][A-Z0-9_]*)"   # django-environ
    |os\.environ(?:\.get)?[(\[]\s*"([A-Z][A-Z0-9_]*)"   # os.environ.get(...) / [...]
    |os\.getenv\(\s*"([A-Z][A-Z0-9_]*)"
    """,
    re.VERBOSE,
)
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def env_example() -> str:
    return (ROOT / ".env.example").read_text()


def variables_the_portal_reads() -> set[str]:
    names = set()
    for app in ("portal", "services", "incidents", "toil"):
        for path in (ROOT / app).rglob("*.py"):
            for match in ENV_READ.finditer(path.read_text()):
                names.add(next(group for group in match.groups() if group))
    return names


def documented(env_example: str) -> set[str]:
    return set(DOCUMENTED.findall(env_example))


def command_text(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_the_variable_scan_finds_the_settings_it_should():
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "METRICS_TOKEN"} <= (
        variables_the_portal_reads()
    )


def test_every_variable_the_portal_reads_is_in_the_env_example(env_example):
    missing = variables_the_portal_reads() - documented(env_example)
    assert not missing, f"add these to .env.example: {sorted(missing)}"


def test_every_variable_in_the_env_example_has_a_comment_above_it(env_example):
    lines = env_example.splitlines()
    for number, line in enumerate(lines):
        if DOCUMENTED.match(line):
            above = lines[number - 1]
            assert above.startswith("#"), f"{line!r} has no comment"


def test_the_env_example_holds_no_secret_values(env_example):
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "METRICS_TOKEN", "EMAIL_HOST_PASSWORD"):
        assert re.search(rf"^# {name}=$", env_example, re.MULTILINE), name


def test_every_variable_the_compose_file_uses_is_documented(env_example):
    used = set(INTERPOLATION.findall((ROOT / "docker-compose.yml").read_text()))
    assert used, "the compose file takes its settings from the environment"
    missing = used - documented(env_example)
    assert not missing, f"add these to .env.example: {sorted(missing)}"


def test_the_portal_containers_get_only_variables_something_reads(compose, env_example):
    known = variables_the_portal_reads() | READ_BY_GUNICORN
    for name in PORTAL_SERVICES:
        environment = set(compose["services"][name]["environment"])
        assert environment <= known, f"{name}: unknown {sorted(environment - known)}"
        assert environment <= documented(env_example)


def test_the_production_shape_has_its_services(compose):
    assert {"postgres", "redis", *PORTAL_SERVICES} <= set(compose["services"])
    # The try-out extras stay out of a plain `docker compose up`.
    for extra in ("prometheus", "mailpit"):
        assert compose["services"][extra]["profiles"] == ["try-out"]


def test_postgres_keeps_its_data_in_a_volume_and_reports_readiness(compose):
    postgres = compose["services"]["postgres"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "postgres-data" in compose["volumes"]
    assert "pg_isready" in postgres["healthcheck"]["test"]


def test_redis_reports_readiness(compose):
    assert compose["services"]["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]


def test_migrations_run_once_when_postgres_is_ready(compose):
    migrate = compose["services"]["migrate"]
    assert "manage.py migrate" in command_text(migrate)
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_portal_processes_wait_for_healthy_servers_and_migrations(compose, name):
    assert compose["services"][name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


@pytest.mark.parametrize("name", PORTAL_SERVICES)
def test_portal_processes_use_postgres_and_redis_with_the_required_settings(compose, name):
    environment = compose["services"][name]["environment"]
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "ALLOWED_HOSTS"} <= set(environment)
    assert environment["DATABASE_URL"].startswith("postgres://portal:${POSTGRES_PASSWORD")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/portal")
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert environment["LOG_FORMAT"] == "json"
    assert "DEBUG" not in environment


def test_no_secret_is_written_into_the_compose_file(compose):
    def secrets(mapping):
        for key, value in mapping.items():
            if re.search(r"SECRET|PASSWORD|TOKEN", key):
                yield key, str(value)

    for name, service in compose["services"].items():
        for key, value in secrets(service.get("environment") or {}):
            assert re.fullmatch(r"\$\{[A-Z_]+(:[-?][^}]*)?\}", value), f"{name}: {key}={value}"
            assert not re.fullmatch(r"\$\{[A-Z_]+:-.+\}", value), f"{name}: default for {key}"
    # The required secrets stop compose with a message when missing.
    web = compose["services"]["web"]["environment"]
    assert web["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in web["DATABASE_URL"]


def test_web_runs_gunicorn_with_multiprocess_metrics_and_is_checked_on_readyz(compose):
    web = compose["services"]["web"]
    command = command_text(web)
    assert "exec gunicorn portal.wsgi --bind 0.0.0.0:8000" in command
    assert 'rm -rf "$$PROMETHEUS_MULTIPROC_DIR"' in command
    assert web["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert "http://127.0.0.1:8000/readyz" in " ".join(web["healthcheck"]["test"])
    assert "127.0.0.1" in web["environment"]["ALLOWED_HOSTS"].split(",")


def test_worker_and_beat_run_the_portal_celery_app(compose):
    assert command_text(compose["services"]["worker"]).startswith("celery --app=portal worker")
    assert command_text(compose["services"]["beat"]).startswith("celery --app=portal beat")
    assert "inspect ping" in " ".join(compose["services"]["worker"]["healthcheck"]["test"])


def test_the_commands_name_modules_that_exist():
    assert importlib.util.find_spec("portal.wsgi") is not None
    from portal.celery import app
    from portal.wsgi import application

    assert app.main == "portal"
    assert callable(application)
    assert (ROOT / "manage.py").exists()


def test_prometheus_scrapes_the_metrics_with_the_bearer_token(compose):
    config = yaml.safe_load(compose["configs"]["prometheus"]["content"])
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"] == {"type": "Bearer", "credentials": "${METRICS_TOKEN:-}"}
    assert job["static_configs"][0]["targets"] == ["web:8000"]
    assert "web" in compose["services"]["web"]["environment"]["ALLOWED_HOSTS"].split(",")


def test_the_image_is_python_311_slim_and_runs_as_a_user_without_privileges():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert "RUN pip install ." in dockerfile
    assert "collectstatic" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'CMD ["gunicorn", "portal.wsgi"' in dockerfile


def test_the_image_leaves_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "var"} <= set(ignored)


def test_without_configuration_debug_is_off():
    """Production defaults are safe: only `make run` (and an explicit DEBUG) turns it on."""
    environment = {name: value for name, value in os.environ.items() if name != "DEBUG"}
    environment["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout.strip() == "False"


def test_the_readme_documents_every_variable(env_example):
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in documented(env_example) if f"`{name}`" not in readme}
    assert not missing, f"add these to README.md's configuration: {sorted(missing)}"


def test_the_readme_starts_with_the_two_commands():
    opening = (ROOT / "README.md").read_text().split("\n## ")[0]
    for command in ("make run", "make test", "make lint"):
        assert f"\n{command} " in opening
