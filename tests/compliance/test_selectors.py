"""What other features read: the open findings of teams (the reminders digest), a team's
month (the monthly report), the demo data and the /metrics gauges."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.compliance.choices import FindingStatus, Outcome
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult, ComplianceStatus
from portal.compliance.selectors import open_findings_for_teams, team_month_summaries
from portal.demo.load import load_demo_data
from tests.factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db


def at(day, hour=12):
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def finding(service, status, opened, *, resolved=None, due=None, check="data-retention"):
    return ComplianceFinding.objects.create(
        compliance_check=ComplianceCheck.objects.get(slug=check),
        service=service,
        team=service.owner_team,
        severity="high",
        status=status,
        opened_at=opened,
        resolved_at=resolved,
        due_date=due or (opened + timedelta(days=14)).date(),
        risk_reason="later" if status == FindingStatus.ACCEPTED_RISK else "",
        risk_expires_on=(opened + timedelta(days=60)).date()
        if status == FindingStatus.ACCEPTED_RISK
        else None,
    )


def result(service, outcome, when, check="data-retention"):
    return ComplianceResult.objects.create(
        compliance_check=ComplianceCheck.objects.get(slug=check),
        service=service,
        outcome=outcome,
        started_at=when,
        checked_at=when,
    )


def test_open_findings_for_teams_are_the_ones_waiting_on_them_soonest_due_first(payments, service):
    other = ServiceFactory(owner_team=TeamFactory(slug="search"))
    later = finding(service, FindingStatus.OPEN, at(5))
    sooner = finding(service, FindingStatus.ACKNOWLEDGED, at(1), check="consent-tracking")
    finding(service, FindingStatus.ACCEPTED_RISK, at(2), check="data-export-test")
    finding(service, FindingStatus.RESOLVED, at(1), resolved=at(2), check="data-export-test")
    finding(other, FindingStatus.OPEN, at(1))

    with CaptureQueriesContext(connection) as queries:
        found = list(open_findings_for_teams([payments.pk]))
        names = [(item.service.slug, item.compliance_check.slug) for item in found]

    assert found == [sooner, later]
    assert names[0] == (service.slug, "consent-tracking")
    assert len(queries) == 1


def test_a_team_s_month_counts_results_and_findings_opened_resolved_and_left_over(
    settings, payments, service
):
    settings.TIME_ZONE = "UTC"
    result(service, Outcome.PASS, at(2))
    result(service, Outcome.PASS, at(3))
    result(service, Outcome.FAIL, at(4))
    result(service, Outcome.ERROR, at(5))
    result(service, Outcome.FAIL, datetime(2026, 4, 1, 0, 1, tzinfo=UTC))
    finding(service, FindingStatus.RESOLVED, at(4), resolved=at(20))
    finding(
        service,
        FindingStatus.OPEN,
        at(6),
        due=datetime(2026, 3, 20).date(),
        check="consent-tracking",
    )
    finding(
        service, FindingStatus.OPEN, datetime(2026, 2, 20, tzinfo=UTC), check="data-export-test"
    )

    summary = team_month_summaries(year=2026, month=3)[payments.pk]

    assert summary.results == {Outcome.PASS: 2, Outcome.FAIL: 1, Outcome.ERROR: 1}
    assert summary.pass_rate == pytest.approx(2 / 3)
    assert summary.opened == 2
    assert summary.resolved == 1
    assert summary.unresolved_at_end == 2
    assert summary.overdue_at_end == 2


@time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False)
def test_the_demo_shows_a_pass_a_failure_with_its_finding_an_error_and_an_attestation_due(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        load_demo_data(password="correct horse battery staple")
        load_demo_data(password="correct horse battery staple")

    outcomes = sorted(
        ComplianceStatus.objects.exclude(outcome="").values_list(
            "compliance_check__slug", "outcome"
        )
    )
    assert outcomes == [
        ("consent-tracking", Outcome.FAIL),
        ("data-retention", Outcome.ERROR),
        ("data-retention", Outcome.PASS),
    ]
    error = ComplianceResult.objects.get(outcome=Outcome.ERROR)
    assert "Prometheus at http://127.0.0.1:9090 is unreachable" in error.detail
    (open_finding,) = ComplianceFinding.objects.all()
    assert open_finding.status == FindingStatus.OPEN
    assert open_finding.notified_at is not None
    attestation = ComplianceStatus.objects.filter(compliance_check__method="attestation")
    assert attestation.exists()
    assert all(status.due_at == datetime(2026, 4, 1, tzinfo=UTC) for status in attestation)


def test_metrics_count_checks_by_outcome_and_unresolved_findings(client, settings, service):
    settings.METRICS_TOKEN = "scrape-me"
    finding(service, FindingStatus.OPEN, at(1))

    body = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).content.decode()

    assert 'portal_compliance_findings_unresolved{severity="high",status="open"} 1.0' in body
    assert "portal_compliance_checks" in body
