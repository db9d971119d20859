"""The HTTP method: GET the check's URL (``{{service}}`` replaced) on the service itself,
which answers JSON ``{"status": "pass" | "fail", "detail": …}`` — a data-export self-test, for
example. A service that cannot be reached, times out, answers other than 2xx, or answers
something other than that JSON gives an error with the reason, never a pass."""

import json
import threading

import requests

from portal.compliance.choices import Outcome
from portal.compliance.evaluation import MissingValue, Verdict, render, service_values

#: The most of an answer that is read: a verdict is a few lines of JSON.
MAX_ANSWER_BYTES = 64 * 1024
DETAIL_MAX_LENGTH = 1000

_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _read_capped(response: requests.Response) -> bytes:
    body = b""
    for chunk in response.iter_content(chunk_size=8192):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise ValueError(f"the answer is longer than {MAX_ANSWER_BYTES // 1024} KiB")
    return body


def evaluate(check, service, *, now) -> Verdict:
    try:
        url = render(check.http_url, service_values(service.slug, service.data_retention_days))
    except MissingValue as missing:
        return Verdict(Outcome.NOT_APPLICABLE, f"Not applicable: {missing}.")
    evidence = {"url": url}
    timeout = float(check.timeout_seconds)
    try:
        with _session().get(
            url,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json"},
        ) as response:
            evidence["status_code"] = response.status_code
            body = _read_capped(response)
    except requests.Timeout:
        return Verdict(
            Outcome.ERROR, f"{url} did not answer within {timeout:g} s.", evidence=evidence
        )
    except requests.RequestException as error:
        return Verdict(
            Outcome.ERROR, f"{url} is unreachable ({error.__class__.__name__}).", evidence=evidence
        )
    except ValueError as error:
        return Verdict(Outcome.ERROR, f"{url}: {error}.", evidence=evidence)
    if not 200 <= response.status_code < 300:
        return Verdict(
            Outcome.ERROR, f"{url} answered {response.status_code}, not 2xx.", evidence=evidence
        )
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Verdict(
            Outcome.ERROR, f"{url} answered something that is not JSON.", evidence=evidence
        )
    status = answer.get("status") if isinstance(answer, dict) else None
    if status not in (Outcome.PASS, Outcome.FAIL):
        return Verdict(
            Outcome.ERROR,
            f'{url} answered JSON without "status": "pass" or "fail".',
            evidence=evidence,
        )
    detail = answer.get("detail", "")
    if not isinstance(detail, str):
        detail = json.dumps(detail, sort_keys=True)
    evidence["answer"] = {"status": status, "detail": detail[:DETAIL_MAX_LENGTH]}
    verdict = "The self-test passed" if status == Outcome.PASS else "The self-test failed"
    text = f"{verdict}: {detail[:DETAIL_MAX_LENGTH]}" if detail else f"{verdict}."
    return Verdict(status, text, evidence=evidence)
