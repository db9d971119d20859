"""Running checks when they are due, one task per check and service, and the findings they
open: once, emailed once, resolved by a pass, reopened by a failure after that."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded

from portal.celery import app as celery_app
from portal.compliance import tasks
from portal.compliance.actions.runs import (
    compliance_status_run,
    compliance_statuses_claim,
    evaluate_safely,
)
from portal.compliance.actions.statuses import compliance_statuses_sync
from portal.compliance.choices import AppliesTo, CheckMethod, FindingStatus, Frequency, Outcome
from portal.compliance.methods import http
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult, ComplianceStatus
from tests.compliance.conftest import make_check
from tests.factories import ServiceFactory, TagFactory

pytestmark = pytest.mark.django_db

DAY_1 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_zone(settings):
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def eager(monkeypatch):
    """Tasks rung on commit run in place, as a worker would run them."""
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def export_check(only_custom_checks, self_test_server):
    return make_check(
        name="Export self-test",
        slug="export-self-test",
        method=CheckMethod.HTTP,
        http_url=self_test_server.url_template,
        query="",
        threshold="",
        frequency=Frequency.DAILY,
        timeout_seconds=2,
    )


def beat(at, django_capture_on_commit_callbacks):
    """What beat does every minute, at `at`, with the tasks it rings run in place."""
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        return tasks.run_due_compliance_checks()


def test_a_finding_opens_once_is_emailed_once_resolves_itself_and_reopens(
    eager,
    export_check,
    payments_api,
    self_test_server,
    smtp_sink,
    django_capture_on_commit_callbacks,
):
    answers = self_test_server.answers
    answers["payments-api"] = (200, {"status": "fail", "detail": "export of 3 people failed"})

    assert beat(DAY_1, django_capture_on_commit_callbacks) == 1
    finding = ComplianceFinding.objects.get()
    assert finding.status == FindingStatus.OPEN
    assert finding.team == payments_api.owner_team
    assert finding.due_date == (DAY_1 + timedelta(days=14)).date()  # high severity
    assert len(smtp_sink.delivered) == 1
    email = smtp_sink.delivered[0]
    assert email.recipients == ["payments@example.test"]
    assert "Export self-test fails on Payments API" in email.message["Subject"]
    assert "export of 3 people failed" in email.body("text/plain")

    # Not due again the same day; the next day it fails again: same finding, no new email.
    assert beat(DAY_1 + timedelta(hours=3), django_capture_on_commit_callbacks) == 0
    assert beat(DAY_1 + timedelta(days=1), django_capture_on_commit_callbacks) == 1
    assert ComplianceFinding.objects.count() == 1
    assert ComplianceResult.objects.filter(outcome=Outcome.FAIL).count() == 2
    assert len(smtp_sink.delivered) == 1

    answers["payments-api"] = (200, {"status": "pass"})
    beat(DAY_1 + timedelta(days=2), django_capture_on_commit_callbacks)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert finding.resolved_at == DAY_1 + timedelta(days=2)

    answers["payments-api"] = (200, {"status": "fail", "detail": "broken again"})
    beat(DAY_1 + timedelta(days=3), django_capture_on_commit_callbacks)
    finding.refresh_from_db()
    assert ComplianceFinding.objects.count() == 1
    assert finding.status == FindingStatus.OPEN
    assert finding.reopen_count == 1
    assert finding.resolved_at is None
    assert len(smtp_sink.delivered) == 2
    assert "broken again" in smtp_sink.delivered[1].body("text/plain")


def test_an_error_is_recorded_with_its_reason_retried_soon_and_the_other_checks_go_on(
    eager,
    export_check,
    payments_api,
    ledger,
    self_test_server,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.COMPLIANCE_ERROR_RETRY_MINUTES = 30
    self_test_server.answers["payments-api"] = (200, "<html>Bad gateway</html>")
    self_test_server.answers["ledger"] = (200, {"status": "pass"})

    assert beat(DAY_1, django_capture_on_commit_callbacks) == 2

    outcomes = dict(ComplianceStatus.objects.values_list("service__slug", "outcome"))
    assert outcomes == {"payments-api": Outcome.ERROR, "ledger": Outcome.PASS}
    erring = ComplianceStatus.objects.get(service=payments_api)
    assert "not JSON" in erring.last_result.detail
    assert erring.due_at == DAY_1 + timedelta(minutes=30)
    assert ComplianceStatus.objects.get(service=ledger).due_at == datetime(2026, 3, 11, tzinfo=UTC)
    assert not ComplianceFinding.objects.exists()  # an error is no failure either

    assert beat(DAY_1 + timedelta(minutes=30), django_capture_on_commit_callbacks) == 1


def test_an_error_neither_resolves_nor_reopens_a_finding(
    eager,
    export_check,
    payments_api,
    self_test_server,
    smtp_sink,
    django_capture_on_commit_callbacks,
):
    self_test_server.answers["payments-api"] = (200, {"status": "fail"})
    beat(DAY_1, django_capture_on_commit_callbacks)
    self_test_server.answers["payments-api"] = (503, "down")
    beat(DAY_1 + timedelta(days=1), django_capture_on_commit_callbacks)

    assert ComplianceFinding.objects.get().status == FindingStatus.OPEN


def test_a_check_that_runs_out_of_time_is_an_error(monkeypatch, export_check, payments_api):
    def too_slow(check, service, *, now):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(http, "evaluate", too_slow)

    verdict = evaluate_safely(export_check, payments_api, now=DAY_1)

    assert verdict.outcome == Outcome.ERROR
    assert "ran out of time" in verdict.detail


def test_a_due_status_is_claimed_once_however_often_beat_asks(
    export_check, payments_api, broker, django_capture_on_commit_callbacks
):
    with time_machine.travel(DAY_1, tick=False):
        compliance_statuses_sync(now=DAY_1)
        first = compliance_statuses_claim(now=DAY_1)
        second = compliance_statuses_claim(now=DAY_1 + timedelta(seconds=5))
    assert len(first) == 1
    assert second == []

    # A claim whose task never came back expires after the task's time limit.
    later = DAY_1 + timedelta(minutes=5)
    assert compliance_statuses_claim(now=later) == first


def test_beat_rings_one_task_per_due_check_and_service_once_the_claim_commits(
    export_check, payments_api, ledger, broker, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(DAY_1, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        assert tasks.run_due_compliance_checks() == 2
        assert broker.llen("celery") == 0

    assert len(callbacks) == 2
    assert broker.llen("celery") == 2


def test_a_duplicated_run_records_one_result(export_check, payments_api, self_test_server):
    self_test_server.answers["payments-api"] = (200, {"status": "pass"})
    with time_machine.travel(DAY_1, tick=False):
        compliance_statuses_sync(now=DAY_1)
        (status_id,) = compliance_statuses_claim(now=DAY_1)
        assert compliance_status_run(status_id=status_id).outcome == Outcome.PASS
        assert compliance_status_run(status_id=status_id) is None

    assert ComplianceResult.objects.count() == 1


def test_statuses_follow_the_catalog_and_a_service_leaving_scope_resolves_its_finding(
    eager,
    export_check,
    payments_api,
    ledger,
    self_test_server,
    django_capture_on_commit_callbacks,
    smtp_sink,
):
    self_test_server.answers["ledger"] = (200, {"status": "fail"})
    self_test_server.answers["payments-api"] = (200, {"status": "pass"})
    beat(DAY_1, django_capture_on_commit_callbacks)
    assert ComplianceFinding.objects.get().service == ledger

    ledger.handles_personal_data = False
    ledger.data_retention_days = None
    ledger.save()
    beat(DAY_1 + timedelta(minutes=1), django_capture_on_commit_callbacks)

    assert list(ComplianceStatus.objects.values_list("service__slug", flat=True)) == [
        "payments-api"
    ]
    assert ComplianceFinding.objects.get().status == FindingStatus.RESOLVED
    # Its results stay on record.
    assert ComplianceResult.objects.filter(service=ledger).count() == 1


def test_a_tag_scoped_check_applies_to_the_tagged_services_only(only_custom_checks, payments):
    pci = TagFactory(name="pci", slug="pci")
    tagged = ServiceFactory(slug="card-vault", owner_team=payments, tags=[pci])
    ServiceFactory(slug="untagged", owner_team=payments)
    make_check(
        applies_to=AppliesTo.TAG, tag=pci, query='max(x{service="{{service}}"})', threshold="1"
    )

    compliance_statuses_sync(now=DAY_1)

    assert list(ComplianceStatus.objects.values_list("service", flat=True)) == [tagged.pk]


def test_a_prometheus_check_run_by_the_worker_stores_the_measured_value(
    eager,
    only_custom_checks,
    prometheus_server,
    data_end,
    ledger,
    payments_api,
    django_capture_on_commit_callbacks,
    smtp_sink,
):
    make_check()

    beat(data_end, django_capture_on_commit_callbacks)

    results = {r.service.slug: r for r in ComplianceResult.objects.select_related("service")}
    assert results["payments-api"].outcome == Outcome.PASS
    assert results["payments-api"].value == 20
    assert results["ledger"].outcome == Outcome.FAIL
    assert results["ledger"].value == 45
    assert results["ledger"].evidence["threshold"] == 30
    assert ComplianceFinding.objects.get().service == ledger
