"""A small client for Prometheus's HTTP API: range queries, with errors that say whether a retry
can help.

Retryable: timeouts, refused connections, 5xx and 429 (Prometheus is down, overloaded or
restarting). Permanent: any other 4xx, which is how Prometheus rejects a query it cannot parse
or run (400 bad_data, 422 execution); retrying those only repeats the same answer.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings


class PrometheusError(Exception):
    """A query that did not return data; `retryable` says whether asking again may help."""

    retryable = False


class PrometheusUnavailable(PrometheusError):
    retryable = True


class PrometheusQueryError(PrometheusError):
    retryable = False


def query_range(
    query: str,
    *,
    start: datetime,
    end: datetime,
    step: timedelta,
    base_url: str | None = None,
    timeout: float | None = None,
) -> dict[datetime, float]:
    """Evaluate `query` at start, start + step, … up to end (both included), and return the value
    at each evaluation time that has one, summed over the series the query returns (a query that
    keeps a label apart still adds up to one count of events). Times without a value are left
    out: no data is not zero."""
    url = (base_url or settings.PROMETHEUS_URL).rstrip("/") + "/api/v1/query_range"
    parameters = {
        "query": query,
        "start": start.timestamp(),
        "end": end.timestamp(),
        "step": step.total_seconds(),
    }
    try:
        response = requests.post(
            url, data=parameters, timeout=timeout or settings.PROMETHEUS_TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise PrometheusUnavailable(f"Prometheus at {url} is unreachable: {error}") from error
    if response.status_code >= 500 or response.status_code == 429:
        raise PrometheusUnavailable(
            f"Prometheus answered {response.status_code}: {_error_text(response)}"
        )
    if response.status_code >= 400:
        raise PrometheusQueryError(
            f"Prometheus refused the query ({response.status_code}): {_error_text(response)}"
        )
    try:
        body = response.json()
        series = body["data"]["result"]
        if body["data"]["resultType"] != "matrix":
            raise PrometheusQueryError(f"expected a range vector, got {body['data']['resultType']}")
        values: dict[datetime, float] = defaultdict(float)
        for one_series in series:
            for timestamp, value in one_series["values"]:
                values[datetime.fromtimestamp(float(timestamp), UTC)] += float(value)
    except (ValueError, KeyError, TypeError) as error:
        raise PrometheusQueryError(
            f"Prometheus sent an answer that is not a result: {error}"
        ) from error
    return dict(values)


def _error_text(response: requests.Response) -> str:
    try:
        return response.json().get("error") or response.reason
    except ValueError:
        return response.text[:200] or response.reason
