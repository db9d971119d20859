"""What `make run` does, read from make's dry run (nothing is executed): the portal's address
from PORT, email into files a newcomer can read, only the running dependencies, and Ctrl-C
ending without an error from make."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*arguments: str) -> str:
    # -B: every step, as on a fresh clone, whatever the state of this checkout's .venv.
    result = subprocess.run(
        ["make", "-n", "-B", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    return result.stdout


def test_make_run_gives_the_demo_and_its_emails_the_address_it_serves_on():
    steps = dry_run("run", "PORT=8123")

    assert "load_demo_data --url http://127.0.0.1:8123/" in steps
    assert "honcho start --procfile Procfile.dev --port 8123" in steps
    assert "EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend" in steps


def test_make_run_installs_what_running_needs_and_not_the_test_tools():
    steps = dry_run("run")

    assert "pip install --quiet -e .\n" in steps
    assert ".[test]" not in steps
    assert "pip install --quiet -e '.[test]'" in dry_run("lint")


def test_ctrl_c_ending_make_run_is_no_error():
    steps = dry_run("run")

    # honcho answers Ctrl-C with 130, which make would report as "Error 130".
    assert "status=$?" in steps
    assert "if [ $status -eq 130 ]; then" in steps
    assert "exec " not in steps
