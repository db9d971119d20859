"""API rate limits: beyond the documented rate a caller gets 429 with Retry-After."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "2/minute"},
    }


def test_the_default_rates_are_those_the_readme_documents(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "user": "1200/minute",
        "anon": "600/minute",
    }


def test_a_user_beyond_the_rate_gets_429_with_retry_after(low_rates, owner, api_client_for):
    api = api_client_for(owner)
    statuses = [api.get("/api/services/").status_code for _ in range(4)]

    response = api.get("/api/services/")

    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"]


def test_each_user_has_a_rate_of_their_own(low_rates, owner, teammate, api_client_for):
    for _ in range(3):
        api_client_for(owner).get("/api/services/")

    assert api_client_for(owner).get("/api/services/").status_code == 429
    assert api_client_for(teammate).get("/api/services/").status_code == 200


def test_callers_without_a_user_are_limited_per_address(low_rates, client, settings):
    settings.ALERTMANAGER_WEBHOOK_TOKEN = "secret"

    def deliver(address):
        return client.post(
            "/api/alerts/alertmanager/",
            "{}",
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer secret",
            REMOTE_ADDR=address,
        ).status_code

    assert [deliver("10.0.0.1") for _ in range(3)] == [400, 400, 429]
    assert deliver("10.0.0.2") == 400


def test_an_unreachable_cache_lets_requests_through(low_rates, owner, api_client_for, monkeypatch):
    from django.core.cache.backends.redis import RedisCache
    from rest_framework.throttling import SimpleRateThrottle

    from tests.servers import free_port

    unreachable = RedisCache(f"redis://127.0.0.1:{free_port()}/0", {})
    monkeypatch.setattr(SimpleRateThrottle, "cache", unreachable)
    api = api_client_for(owner)

    statuses = [api.get("/api/services/").status_code for _ in range(5)]

    assert statuses == [200] * 5
