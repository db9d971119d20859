import json
import logging
import logging.config
import os
import subprocess
import sys

from django.conf import settings

LOG_SOME_LINES = """
import logging
import django
django.setup()
log = logging.getLogger("portal.example")
log.info("service %s imported", "payments-api")
log.warning("two lines\\nin one message", extra={"service": "payments-api"})
try:
    1 / 0
except ZeroDivisionError:
    log.exception("the sync failed")
logging.getLogger("django.request").error("Internal Server Error: /services/")
"""


def run_with(**env) -> list[str]:
    # Only what the test passes decides the format, not the environment it runs in.
    environment = {
        name: value for name, value in os.environ.items() if name not in {"LOG_FORMAT", "DEBUG"}
    }
    environment.update(DJANGO_SETTINGS_MODULE="portal.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", LOG_SOME_LINES],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr.splitlines()


def test_the_json_formatter_from_the_settings_writes_level_logger_and_message():
    formatter = logging.config.DictConfigurator({}).configure_formatter(
        dict(settings.LOGGING["formatters"]["json"])
    )
    record = logging.LogRecord(
        "portal.example", logging.WARNING, __file__, 1, "hi %s", ("x",), None
    )
    line = json.loads(formatter.format(record))
    assert line["level"] == "WARNING"
    assert line["logger"] == "portal.example"
    assert line["message"] == "hi x"
    assert line["time"]


def test_with_log_format_json_every_line_is_one_json_object():
    lines = run_with(LOG_FORMAT="json", DEBUG="false")
    records = [json.loads(line) for line in lines]
    assert [(record["level"], record["logger"]) for record in records] == [
        ("INFO", "portal.example"),
        ("WARNING", "portal.example"),
        ("ERROR", "portal.example"),
        ("ERROR", "django.request"),
    ]
    assert records[0]["message"] == "service payments-api imported"
    assert records[1]["message"] == "two lines\nin one message"
    assert records[1]["service"] == "payments-api"
    assert "ZeroDivisionError" in records[2]["exc_info"]


def test_production_defaults_to_json_and_debug_to_text():
    assert json.loads(run_with(DEBUG="false")[0])["level"] == "INFO"
    text = run_with(DEBUG="true")[0]
    assert text.split()[2:] == ["INFO", "portal.example:", "service", "payments-api", "imported"]
