"""The compliance tests' real servers: a Prometheus holding a series per service (built with
promtool), an HTTP server answering services' self-tests, and checks and services to run
them on."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.compliance.choices import AppliesTo, CheckMethod, Comparison, Frequency, Severity
from portal.compliance.models.checks import ComplianceCheck
from tests.compliance import prometheus_data
from tests.factories import ServiceFactory
from tests.portal.test_tasks import broker  # noqa: F401 - shared fixture
from tests.servers import find_binary, free_port, start_prometheus


@pytest.fixture(scope="session")
def compliance_prometheus():
    """(URL, end of its data): Prometheus on loopback with the compliance series."""
    end = prometheus_data.end_of_data()
    directory = tempfile.mkdtemp(prefix="portal-compliance-data-")
    source = os.path.join(directory, "compliance.om")
    with open(source, "w") as openmetrics:
        openmetrics.write(prometheus_data.openmetrics(end))
    data = os.path.join(directory, "data")
    subprocess.run(
        [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", source, data],
        check=True,
        capture_output=True,
    )
    server, url = start_prometheus(data)
    yield url, end
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def prometheus_server(settings, compliance_prometheus):
    settings.PROMETHEUS_URL = compliance_prometheus[0]
    return compliance_prometheus


@pytest.fixture
def data_end(compliance_prometheus):
    return compliance_prometheus[1]


class SelfTestServer:
    """Answers GET /<service>/data-export as `answers[service]` says: a (status, body)
    pair, or "slow" (answers after two seconds)."""

    def __init__(self):
        self.answers: dict[str, object] = {}
        self.requests: list[str] = []
        self.port = free_port()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                service = self.path.strip("/").split("/")[0]
                answer = server.answers.get(service, (404, "no such service"))
                if answer == "slow":
                    time.sleep(2)
                    answer = (200, {"status": "pass"})
                status, body = answer
                payload = body if isinstance(body, str) else json.dumps(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url_template(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{{{service}}}}/data-export"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def self_test_server():
    server = SelfTestServer()
    yield server
    server.stop()


@pytest.fixture
def payments_api(payments, owner):
    return ServiceFactory(
        name="Payments API",
        slug="payments-api",
        owner_team=payments,
        handles_personal_data=True,
        data_retention_days=30,
    )


@pytest.fixture
def ledger(payments):
    return ServiceFactory(
        name="Ledger",
        slug="ledger",
        owner_team=payments,
        handles_personal_data=True,
        data_retention_days=30,
    )


def retention_check(**overrides) -> ComplianceCheck:
    """The seed's data-retention check (the migration made it)."""
    check = ComplianceCheck.objects.get(slug="data-retention")
    for name, value in overrides.items():
        setattr(check, name, value)
    check.save()
    return check


def make_check(**fields) -> ComplianceCheck:
    defaults = {
        "name": "Custom check",
        "slug": "custom-check",
        "frequency": Frequency.DAILY,
        "severity": Severity.HIGH,
        "applies_to": AppliesTo.PERSONAL_DATA,
        "method": CheckMethod.PROMETHEUS,
        "query": 'max(personal_data_oldest_record_age_days{service="{{service}}"})',
        "comparison": Comparison.LTE,
        "threshold": "{{retention_days}}",
    }
    check = ComplianceCheck(**{**defaults, **fields})
    check.full_clean()
    check.save()
    return check


@pytest.fixture
def only_custom_checks(db):
    """The seed checks out of the way (disabled), so a test's own checks are the only ones."""
    ComplianceCheck.objects.update(enabled=False)
