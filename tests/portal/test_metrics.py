import os
import subprocess
import sys

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from services.choices import Lifecycle, Tier
from tests.factories import ServiceFactory, TeamFactory

TOKEN = "scrape-secret"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict:
    """The scraped samples as {(name, frozenset(labels)): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


@pytest.mark.django_db
def test_metrics_are_not_served_while_no_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
def test_metrics_without_a_token_are_refused(client, metrics_token):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", ["Bearer wrong", "Token scrape-secret", f"Bearer {TOKEN}x", "scrape-secret"]
)
def test_metrics_with_a_wrong_token_are_refused(client, metrics_token, header):
    assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 401


@pytest.mark.django_db
def test_signing_in_does_not_open_the_metrics(client, metrics_token, sre_lead):
    client.force_login(sre_lead)
    assert client.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_requests_are_counted_by_view_method_and_status(client, metrics_token):
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.post("/healthz")
    after = scrape(client)

    def increase(**labels):
        name = "portal_http_requests_total"
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert increase(view="healthz", method="GET", status="200") == 2
    assert increase(view="healthz", method="POST", status="405") == 1


@pytest.mark.django_db
def test_request_latency_is_a_histogram_by_view(client, metrics_token):
    before = scrape(client)
    client.get("/healthz")
    after = scrape(client)
    name = "portal_http_request_duration_seconds_count"
    labels = {"view": "healthz", "method": "GET"}
    assert sample(after, name, **labels) - sample(before, name, **labels) == 1
    assert sample(after, "portal_http_request_duration_seconds_bucket", le="+Inf", **labels) >= 1


@pytest.mark.django_db
def test_unknown_paths_share_one_label_instead_of_one_per_path(client, metrics_token):
    client.get("/no-such-page-1")
    client.get("/no-such-page-2")
    views = {
        dict(labels)["view"]
        for (name, labels) in scrape(client)
        if name == "portal_http_requests_total"
    }
    assert not any("no-such-page" in view for view in views)
    assert "<unresolved>" in views


@pytest.mark.django_db
def test_catalog_gauges_count_services_by_tier_and_lifecycle_and_the_teams(client, metrics_token):
    payments, search = TeamFactory(), TeamFactory()
    ServiceFactory.create_batch(
        3, owner_team=payments, tier=Tier.TIER_1, lifecycle=Lifecycle.PRODUCTION
    )
    ServiceFactory(owner_team=search, tier=Tier.TIER_1, lifecycle=Lifecycle.DEPRECATED)
    ServiceFactory(owner_team=search, tier=Tier.TIER_3, lifecycle=Lifecycle.EXPERIMENTAL)

    samples = scrape(client)

    services = {
        dict(labels)["tier"] + "/" + dict(labels)["lifecycle"]: value
        for (name, labels), value in samples.items()
        if name == "portal_catalog_services"
    }
    assert services == {"1/production": 3, "1/deprecated": 1, "3/experimental": 1}
    assert sample(samples, "portal_catalog_teams") == 2


@pytest.mark.django_db
def test_catalog_gauges_follow_the_database_between_scrapes(client, metrics_token):
    assert sample(scrape(client), "portal_catalog_teams") == 0
    ServiceFactory(tier=Tier.TIER_2, lifecycle=Lifecycle.PRODUCTION)
    samples = scrape(client)
    assert sample(samples, "portal_catalog_teams") == 1
    assert sample(samples, "portal_catalog_services", tier="2", lifecycle="production") == 1


REQUEST_HEALTHZ = """
import django
django.setup()
from django.test import Client
assert Client().get("/healthz").status_code == 200
"""

SCRAPE = """
import django
django.setup()
from django.test import Client
response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer {token}")
print(response.content.decode())
"""


@pytest.mark.django_db
def test_with_a_multiprocess_directory_the_scrape_adds_up_every_process(tmp_path, postgres_url):
    """Gunicorn's workers are separate processes: each writes its counts to the shared
    directory and whichever worker answers the scrape reports the sum."""
    database = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DATABASE_URL": postgres_url.rsplit("/", 1)[0] + f"/{database}",
        "METRICS_TOKEN": TOKEN,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "ALLOWED_HOSTS": "testserver",
    }
    for _ in range(2):
        subprocess.run([sys.executable, "-c", REQUEST_HEALTHZ], env=env, check=True)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE.format(token=TOKEN)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    labels = {"view": "healthz", "method": "GET", "status": "200"}
    assert sample(samples, "portal_http_requests_total", **labels) == 2
    assert "portal_catalog_teams" in scraped
