"""The path `make run` takes, on the embedded SQLite database it uses: migrate, load the demo,
recompute what the worker would, and every main page and API list answers 200.

The rest of the suite runs on PostgreSQL, where the SLI data is summed by SQL of its own; this
is what keeps the SQLite fallbacks (the rollups and groups summed in Python, the snapshot
writes) working. It runs in a subprocess, since this process is set up for PostgreSQL.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run by `manage.py shell`: what the worker does after the demo loads (the dirty SLOs' snapshots
# and the incident metrics), then each page as the demo's SRE lead; prints what it found.
SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from incidents.actions.metrics import incident_metrics_snapshots_recompute
from incidents.models.incidents import Incident
from portal.roles import is_sre_lead
from portal.urls import router
from services.actions.statuses import slo_statuses_recompute_dirty
from services.models.catalog import Service, Team
from services.models.slos import SLO, DirtySLO, SLOStatus

now = timezone.now()
recomputed = slo_statuses_recompute_dirty(now=now)
incident_metrics_snapshots_recompute(now=now)
lead = next(user for user in get_user_model().objects.all() if is_sre_lead(user))
client = Client()
client.force_login(lead)
slo = SLO.objects.select_related("service").order_by("pk").first()
team = Team.objects.order_by("pk").first()
incident = Incident.objects.order_by("pk").first()
reviewed = Incident.objects.filter(postmortem__isnull=False).order_by("pk").first()
pages = [
    "/",
    "/services/",
    f"/services/{Service.objects.order_by('pk').first().slug}/",
    "/slos/",
    slo.get_absolute_url(),
    "/teams/",
    f"/teams/{team.slug}/",
    f"/teams/{team.slug}/slos/",
    "/incidents/",
    f"/incidents/{incident.reference}/",
    *([f"/incidents/{reviewed.reference}/postmortem/"] if reviewed else []),
    "/incidents/metrics/",
    "/postmortems/",
    "/action-items/mine/",
    "/admin/",
    f"/api/slos/{slo.pk}/status/",
    *(f"/api/{prefix}/" for prefix, _, _ in router.registry),
]
print(json.dumps({
    "recomputed": recomputed,
    "slos": SLO.objects.count(),
    "statuses": SLOStatus.objects.exclude(attainment=None).count(),
    "failed": list(SLOStatus.objects.exclude(compute_error="").values_list("compute_error")),
    "dirty": DirtySLO.objects.count(),
    "pages": {page: client.get(page).status_code for page in pages},
}))
"""


def manage(*arguments: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture
def sqlite_environment(tmp_path) -> dict:
    """`make run`'s environment: no DATABASE_URL or broker of the suite's, a var dir of its own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "CELERY_", "DJANGO_"))
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PORTAL_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "true",  # as `make run` sets it
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "ERROR",
    }
    return env


def test_make_run_s_sqlite_path_migrates_loads_the_demo_recomputes_and_serves_every_page(
    sqlite_environment,
):
    manage("migrate", "--no-input", env=sqlite_environment)
    manage("load_demo_data", env=sqlite_environment)

    output = manage("shell", "--no-imports", "--command", SCRIPT, env=sqlite_environment)

    found = json.loads(output.stdout.strip().splitlines()[-1])
    assert found["slos"] > 0
    assert found["recomputed"] == found["slos"]
    assert found["statuses"] == found["slos"]
    assert found["failed"] == []
    assert found["dirty"] == 0
    assert {page: status for page, status in found["pages"].items() if status != 200} == {}
    assert len(found["pages"]) > 20
