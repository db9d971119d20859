"""Each method of checking, passing, failing and erring, against real servers: a Prometheus
with a series per service (promtool-built blocks) and an HTTP server answering self-tests."""

import pytest

from portal.compliance.choices import CheckMethod, Comparison, Outcome
from portal.compliance.methods import http, prometheus
from portal.compliance.models.checks import ComplianceCheck
from tests.factories import ServiceFactory
from tests.servers import free_port

pytestmark = pytest.mark.django_db

RETENTION = 'max(personal_data_oldest_record_age_days{service="{{service}}"})'
CONSENT = 'sum(increase(actions_without_consent_total{service="{{service}}"}[7d]))'


def prometheus_check(query=RETENTION, comparison=Comparison.LTE, threshold="{{retention_days}}"):
    return ComplianceCheck(
        name="c",
        slug="c",
        frequency="daily",
        method=CheckMethod.PROMETHEUS,
        query=query,
        comparison=comparison,
        threshold=threshold,
        timeout_seconds=5,
    )


def http_check(url, timeout=5):
    return ComplianceCheck(
        name="h",
        slug="h",
        frequency="monthly",
        method=CheckMethod.HTTP,
        http_url=url,
        timeout_seconds=timeout,
    )


# --- Prometheus --------------------------------------------------------------------------------


def test_a_service_keeping_records_no_longer_than_its_retention_passes(
    prometheus_server, data_end, payments_api
):
    verdict = prometheus.evaluate(prometheus_check(), payments_api, now=data_end)

    assert verdict.outcome == Outcome.PASS
    assert verdict.value == 20
    assert verdict.detail == "20 (must be ≤ 30)"
    assert verdict.evidence["query"] == (
        'max(personal_data_oldest_record_age_days{service="payments-api"})'
    )
    assert verdict.evidence["threshold"] == 30


def test_a_service_keeping_records_longer_than_its_retention_fails(
    prometheus_server, data_end, ledger
):
    verdict = prometheus.evaluate(prometheus_check(), ledger, now=data_end)

    assert verdict.outcome == Outcome.FAIL
    assert verdict.value == 45
    assert "45 (must be ≤ 30)" in verdict.detail


def test_consent_passes_without_actions_lacking_consent_and_fails_with_them(
    prometheus_server, data_end, payments_api, ledger
):
    check = prometheus_check(CONSENT, Comparison.EQ, "0")

    assert prometheus.evaluate(check, payments_api, now=data_end).outcome == Outcome.PASS
    failing = prometheus.evaluate(check, ledger, now=data_end)
    assert failing.outcome == Outcome.FAIL
    assert failing.value > 300


def test_no_series_for_the_service_is_an_error_not_a_pass(prometheus_server, data_end, payments):
    silent = ServiceFactory(
        slug="silent", owner_team=payments, handles_personal_data=True, data_retention_days=30
    )

    verdict = prometheus.evaluate(prometheus_check(), silent, now=data_end)

    assert verdict.outcome == Outcome.ERROR
    assert "no data" in verdict.detail


def test_several_series_are_an_error_asking_for_an_aggregation(
    prometheus_server, data_end, payments
):
    twins = ServiceFactory(
        slug="twins", owner_team=payments, handles_personal_data=True, data_retention_days=30
    )
    check = prometheus_check('personal_data_oldest_record_age_days{service="{{service}}"}')

    verdict = prometheus.evaluate(check, twins, now=data_end)

    assert verdict.outcome == Outcome.ERROR
    assert "2 series" in verdict.detail


def test_bad_promql_is_an_error_with_prometheus_s_reason(prometheus_server, data_end, payments_api):
    verdict = prometheus.evaluate(
        prometheus_check('max(oldest{service="{{service}}"}'), payments_api, now=data_end
    )

    assert verdict.outcome == Outcome.ERROR
    assert "refused the query (400)" in verdict.detail
    assert "parse error" in verdict.detail


def test_an_unreachable_prometheus_is_an_error(settings, data_end, payments_api):
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{free_port()}"

    verdict = prometheus.evaluate(prometheus_check(), payments_api, now=data_end)

    assert verdict.outcome == Outcome.ERROR
    assert "unreachable" in verdict.detail


def test_a_service_without_retention_days_is_not_applicable_to_a_retention_threshold(
    prometheus_server, data_end, payments
):
    untagged = ServiceFactory(slug="no-retention", owner_team=payments)

    verdict = prometheus.evaluate(prometheus_check(), untagged, now=data_end)

    assert verdict.outcome == Outcome.NOT_APPLICABLE
    assert "retention days" in verdict.detail


# --- HTTP self-tests ---------------------------------------------------------------------------


def test_a_self_test_answering_pass_passes_with_its_detail(self_test_server, payments_api):
    self_test_server.answers["payments-api"] = (200, {"status": "pass", "detail": "3 exports ok"})

    verdict = http.evaluate(http_check(self_test_server.url_template), payments_api, now=None)

    assert verdict.outcome == Outcome.PASS
    assert verdict.detail == "The self-test passed: 3 exports ok"
    assert self_test_server.requests == ["/payments-api/data-export"]
    assert verdict.evidence["answer"] == {"status": "pass", "detail": "3 exports ok"}


def test_a_self_test_answering_fail_fails(self_test_server, payments_api):
    self_test_server.answers["payments-api"] = (200, {"status": "fail", "detail": "timeout"})

    verdict = http.evaluate(http_check(self_test_server.url_template), payments_api, now=None)

    assert verdict.outcome == Outcome.FAIL
    assert "timeout" in verdict.detail


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, "<html>hello</html>"), "not JSON"),
        ((200, {"ok": True}), '"status": "pass" or "fail"'),
        ((200, ["pass"]), '"status": "pass" or "fail"'),
        ((503, {"status": "pass"}), "answered 503"),
        ((302, ""), "answered 302"),
        ("slow", "did not answer within 1 s"),
    ],
)
def test_a_self_test_that_does_not_answer_a_verdict_is_an_error(
    self_test_server, payments_api, answer, reason
):
    self_test_server.answers["payments-api"] = answer

    verdict = http.evaluate(
        http_check(self_test_server.url_template, timeout=1), payments_api, now=None
    )

    assert verdict.outcome == Outcome.ERROR
    assert reason in verdict.detail


def test_an_unreachable_service_is_an_error(payments_api):
    url = f"http://127.0.0.1:{free_port()}/{{{{service}}}}/export"

    verdict = http.evaluate(http_check(url), payments_api, now=None)

    assert verdict.outcome == Outcome.ERROR
    assert "unreachable" in verdict.detail
