"""The Prometheus method: the check's PromQL, placeholders replaced, as an instant query at
settings.PROMETHEUS_URL; its one value compared with the threshold.

Anything that is not one number is an error with its reason, never a pass: Prometheus
unreachable or answering 5xx, a query it refuses (bad PromQL), an answer that is not a
result, no series (no data is not good data) or several (aggregate them to one)."""

import threading
from datetime import datetime

import requests
from django.conf import settings

from portal.compliance.choices import Outcome
from portal.compliance.evaluation import (
    MissingValue,
    Verdict,
    compare,
    comparison_text,
    outcome_of,
    parse_threshold,
    render,
    service_values,
)

_local = threading.local()


def _session() -> requests.Session:
    # One connection pool per thread: thousands of checks reuse their connections.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


class QueryError(Exception):
    """The query gave no usable value; the message says why."""


def instant_value(query: str, *, at: datetime, base_url: str, timeout: float) -> float:
    """The single value of an instant query evaluated at `at` (a scalar, or a vector of one
    series)."""
    url = base_url.rstrip("/") + "/api/v1/query"
    parameters = {"query": query, "time": at.timestamp()}
    try:
        response = _session().post(url, data=parameters, timeout=timeout)
    except requests.Timeout as error:
        raise QueryError(f"Prometheus at {base_url} did not answer within {timeout:g} s") from error
    except requests.RequestException as error:
        raise QueryError(
            f"Prometheus at {base_url} is unreachable ({error.__class__.__name__})"
        ) from error
    try:
        body = response.json()
    except ValueError as error:
        raise QueryError(
            f"Prometheus answered {response.status_code} with something that is not JSON"
        ) from error
    if response.status_code >= 400 or not isinstance(body, dict) or body.get("status") != "success":
        reason = body.get("error") if isinstance(body, dict) else None
        raise QueryError(
            f"Prometheus refused the query ({response.status_code}): {reason or response.reason}"
        )
    try:
        data = body["data"]
        result_type, result = data["resultType"], data["result"]
        if result_type == "scalar":
            return float(result[1])
        if result_type != "vector":
            raise QueryError(f"the query returned a {result_type}, not one value")
        if not result:
            raise QueryError("the query returned no data for this service")
        if len(result) > 1:
            raise QueryError(
                f"the query returned {len(result)} series; aggregate them to one value "
                "(e.g. with max or sum)"
            )
        return float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise QueryError("Prometheus sent an answer that is not a query result") from error


def evaluate(check, service, *, now) -> Verdict:
    values = service_values(service.slug, service.data_retention_days)
    try:
        query = render(check.query, values)
        threshold = parse_threshold(render(check.threshold, values))
    except MissingValue as missing:
        return Verdict(Outcome.NOT_APPLICABLE, f"Not applicable: {missing}.")
    except ValueError:
        return Verdict(Outcome.ERROR, f"The threshold “{check.threshold}” is not a number.")
    evidence = {"query": query, "threshold": threshold, "comparison": check.comparison}
    try:
        value = instant_value(
            query, at=now, base_url=settings.PROMETHEUS_URL, timeout=float(check.timeout_seconds)
        )
    except QueryError as error:
        return Verdict(Outcome.ERROR, f"{str(error)[:1000]}.", evidence=evidence)
    passed = compare(value, check.comparison, threshold)
    return Verdict(
        outcome_of(passed),
        comparison_text(value, check.comparison, threshold),
        value=None if value != value else value,
        evidence=evidence,
    )
