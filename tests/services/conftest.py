"""The suite's Prometheus, holding the SLI data of tests/services/prometheus/checkout.py."""

import os
import shutil
import subprocess
import tempfile
from decimal import Decimal

import pytest

from services.models.slos import SLO
from tests.portal.test_tasks import broker, celery_worker  # noqa: F401 - fixtures shared here
from tests.servers import find_binary, start_prometheus
from tests.services.prometheus import checkout


@pytest.fixture(scope="session")
def prometheus_url():
    """Prometheus on loopback with the checkout job's counters, written as OpenMetrics and
    turned into TSDB blocks by promtool before the server starts."""
    directory = tempfile.mkdtemp(prefix="portal-sli-data-")
    source = os.path.join(directory, "checkout.om")
    with open(source, "w") as openmetrics:
        openmetrics.write(checkout.openmetrics())
    data = os.path.join(directory, "data")
    subprocess.run(
        [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", source, data],
        check=True,
        capture_output=True,
    )
    server, url = start_prometheus(data)
    yield url
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def prometheus(settings, prometheus_url):
    """The portal reads SLIs from the suite's Prometheus."""
    settings.PROMETHEUS_URL = prometheus_url
    return prometheus_url


@pytest.fixture
def checkout_slo(service):
    """98.5 % of checkout requests answered without a 5xx, over a rolling day."""
    return SLO.objects.create(
        service=service,
        name="Checkout availability",
        slug="checkout-availability",
        objective=Decimal("98.5"),
        window_days=1,
        events_query=checkout.EVENTS_QUERY,
        total_query=checkout.TOTAL_QUERY,
    )
