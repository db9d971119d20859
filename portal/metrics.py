"""Prometheus metrics: request counts and latencies, plus collectors the apps register.

Under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR (an empty directory
shared by the workers) so that every worker's counts are added up at scrape time.
"""

import hmac
import os
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "portal_http_requests_total",
    "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Collectors that read the database at scrape time (catalog gauges and the like).
_scrape_collectors = []


def register_collector(collector) -> None:
    """Add a collector whose collect() runs on each scrape; apps call this from ready()."""
    if collector not in _scrape_collectors:
        _scrape_collectors.append(collector)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The route's name, not the path: paths carry slugs and ids without bound.
        view = (match.view_name or match._func_path) if match else "<unresolved>"
        LATENCY.labels(view, request.method).observe(time.perf_counter() - started)
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        return response


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_DefaultCollectors())
    for collector in _scrape_collectors:
        registry.register(collector)
    return registry


class _DefaultCollectors:
    """The process-wide registry (request metrics, process and platform collectors)."""

    def collect(self):
        yield from REGISTRY.collect()


def _authorised(request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), settings.METRICS_TOKEN.encode()
    )


@login_not_required
@require_GET
def metrics_view(request):
    """Prometheus text format, for a scraper holding METRICS_TOKEN; absent while it is unset."""
    if not settings.METRICS_TOKEN:
        raise Http404("Metrics are disabled: set METRICS_TOKEN.")
    if not _authorised(request):
        response = HttpResponse("A valid bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
