"""Check definitions and findings keep their rules on every write path (model clean and
constraints)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from portal.compliance.choices import AppliesTo, CheckMethod, Comparison, FindingStatus
from portal.compliance.evaluation import compare, threshold_errors
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceAttestation

pytestmark = pytest.mark.django_db


def errors_of(check: ComplianceCheck) -> dict:
    with pytest.raises(ValidationError) as caught:
        check.full_clean()
    return caught.value.message_dict


def prometheus_check(**fields):
    values = {
        "name": "Retention",
        "slug": "retention",
        "frequency": "daily",
        "method": CheckMethod.PROMETHEUS,
        "query": 'max(age{service="{{service}}"})',
        "comparison": Comparison.LTE,
        "threshold": "{{retention_days}}",
    }
    return ComplianceCheck(**{**values, **fields})


def test_the_three_seed_checks_ship_with_their_frequencies():
    seeds = dict(ComplianceCheck.objects.values_list("kind", "frequency"))

    assert seeds == {
        "data_retention": "daily",
        "consent_tracking": "weekly",
        "data_export": "monthly",
    }
    for check in ComplianceCheck.objects.all():
        check.full_clean()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"query": ""}, "query", "needs its PromQL"),
        ({"query": 'max(age{service="{{team}}"})'}, "query", "Unknown placeholder {{team}}"),
        ({"query": "max(age)"}, "query", "Use {{service}}"),
        ({"threshold": ""}, "threshold", "needs a threshold"),
        ({"threshold": "thirty"}, "threshold", "Write a number"),
        ({"threshold": "{{days}}"}, "threshold", "Unknown placeholder {{days}}"),
        ({"threshold": "nan"}, "threshold", "Write a number"),
        ({"comparison": ""}, "comparison", "Choose how"),
        ({"applies_to": AppliesTo.TAG}, "tag", "Choose the tag"),
        ({"timeout_seconds": 30}, "timeout_seconds", "shorter than the time limit"),
        ({"slug": "add"}, "slug", "reserved"),
    ],
)
def test_a_prometheus_check_refuses_an_incomplete_definition(fields, field, message):
    errors = errors_of(prometheus_check(**fields))

    assert message in " ".join(errors[field])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "needs the URL"),
        ("ftp://{{service}}/export", "http:// or https://"),
        ("http://{{host}}/export", "Unknown placeholder {{host}}"),
        ("not a url", "http:// or https://"),
        ("http://[::1/{{service}}", "http:// or https://"),
    ],
)
def test_an_http_check_needs_a_valid_url(url, message):
    check = ComplianceCheck(
        name="Export", slug="export", frequency="monthly", method=CheckMethod.HTTP, http_url=url
    )

    assert message in " ".join(errors_of(check)["http_url"])


def test_a_valid_check_with_a_fixed_threshold_is_accepted():
    prometheus_check(threshold=" 0 ", comparison=Comparison.EQ).full_clean()
    assert threshold_errors("{{ retention_days }}") is None


def test_nan_never_passes_a_comparison():
    assert not compare(float("nan"), Comparison.LTE, 10)
    assert compare(10.0, Comparison.LTE, 10)
    assert not compare(10.5, Comparison.EQ, 10)


def test_an_attestation_needs_a_link_or_a_note(payments):
    attestation = ComplianceAttestation(evidence_url="", note="  ")

    with pytest.raises(ValidationError) as caught:
        attestation.clean()
    assert "evidence_url" in caught.value.message_dict


def test_a_finding_of_accepted_risk_needs_a_reason_and_an_expiry(service):
    check = ComplianceCheck.objects.get(slug="data-retention")
    finding = ComplianceFinding(
        compliance_check=check,
        service=service,
        team=service.owner_team,
        severity="high",
        status=FindingStatus.ACCEPTED_RISK,
        opened_at="2026-01-01T00:00Z",
        due_date="2026-01-15",
    )

    with pytest.raises(ValidationError) as caught:
        finding.clean()
    assert set(caught.value.message_dict) == {"risk_reason", "risk_expires_on"}
    with pytest.raises(IntegrityError):
        finding.save()


def test_only_one_unresolved_finding_per_check_and_service(service):
    check = ComplianceCheck.objects.get(slug="data-retention")
    common = {
        "compliance_check": check,
        "service": service,
        "team": service.owner_team,
        "severity": "high",
        "opened_at": "2026-01-01T00:00Z",
        "due_date": "2026-01-15",
    }
    ComplianceFinding.objects.create(status=FindingStatus.RESOLVED, **common)
    ComplianceFinding.objects.create(status=FindingStatus.OPEN, **common)

    with pytest.raises(IntegrityError):
        ComplianceFinding.objects.create(status=FindingStatus.ACKNOWLEDGED, **common)
