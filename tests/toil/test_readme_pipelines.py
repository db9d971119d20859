"""The README's GitHub Actions step and GitLab CI job for the deploy gate, run as written
(bash and sh, curl and jq) against a live portal: they pass when the gate allows, fail printing
the reasons when it denies, and fail saying why when the question is refused."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from portal.api.tokens import token_create
from tests.factories import ServiceFactory
from tests.toil.change_factories import budget_in_tier, readiness_approved

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")), reason="curl and jq run the pipelines"
)


def yaml_blocks() -> list:
    section = README.read_text().split("### The deploy gate", 1)[1].split("\n### ", 1)[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]


def github_step():
    [step] = next(block for block in yaml_blocks() if isinstance(block, list))
    return step


def gitlab_job():
    return next(block for block in yaml_blocks() if isinstance(block, dict))["deploy-gate"]


def run_github(env: dict) -> subprocess.CompletedProcess:
    step = github_step()
    assert set(step["env"]) == {
        "PORTAL_URL",
        "PORTAL_TOKEN",
        "SERVICES",
        "CATEGORY",
        "CHANGE",
        "VERSION",
    }
    # GitHub runs `run` with bash -e.
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=30
    )


def run_gitlab(env: dict) -> subprocess.CompletedProcess:
    job = gitlab_job()
    assert set(job["variables"]) == {"SERVICES", "CATEGORY", "CHANGE", "VERSION"}
    script = "\n".join(job["script"])
    return subprocess.run(
        ["sh", "-e", "-c", script], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.fixture
def portal(live_server, owner, payments):
    readiness_approved(ServiceFactory(name="Billing API", slug="billing-api", owner_team=payments))
    refunds = ServiceFactory(name="Refunds", slug="refunds", owner_team=payments)
    budget_in_tier(refunds, "frozen")
    _, token = token_create(user=owner)
    return {
        "PATH": "/usr/bin:/bin",
        "PORTAL_URL": live_server.url,
        "PORTAL_TOKEN": token,
        "CATEGORY": "low-risk",
        "CHANGE": "",
        "VERSION": "1.4.2",
    }


@pytest.mark.parametrize("run", [run_github, run_gitlab], ids=["github", "gitlab"])
def test_the_pipeline_goes_on_when_the_gate_allows(portal, run):
    done = run(portal | {"SERVICES": "billing-api"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Deploy gate: allow" in done.stdout


@pytest.mark.parametrize("run", [run_github, run_gitlab], ids=["github", "gitlab"])
def test_the_pipeline_fails_on_a_denial_and_prints_the_reasons(portal, run):
    done = run(portal | {"SERVICES": "billing-api,refunds"})
    assert done.returncode != 0
    assert "Deploy gate: deny" in done.stdout
    assert "deny: Refunds: the SLO “Availability 0” is in the frozen budget tier" in done.stdout
    assert "/services/refunds/slos/availability-0/" in done.stdout


@pytest.mark.parametrize("run", [run_github, run_gitlab], ids=["github", "gitlab"])
def test_the_pipeline_fails_when_the_question_is_refused(portal, run):
    done = run(portal | {"SERVICES": "no-such-service", "CHANGE": "7"})
    assert done.returncode != 0
    assert "The gate refused the question" in done.stdout
    assert "no-such-service" in done.stdout
