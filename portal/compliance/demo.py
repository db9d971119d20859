"""Demo compliance for `make run` (portal.demo loads it): the three seed checks on the demo
services that handle personal data — one passing, one failing with an open finding, one in
error because Prometheus is unreachable (as it is under `make run`) — and an attestation
check whose first attestation is due. Loading again adds nothing."""

from datetime import datetime, timedelta

from django.db import transaction

from portal.compliance.actions.checks import compliance_check_save
from portal.compliance.actions.findings import compliance_finding_apply
from portal.compliance.actions.statuses import compliance_statuses_sync
from portal.compliance.choices import (
    CONCLUSIVE_OUTCOMES,
    AppliesTo,
    CheckKind,
    CheckMethod,
    Frequency,
    Outcome,
    Severity,
)
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult, ComplianceStatus
from portal.compliance.schedule import due_after_run
from portal.compliance.seeds import seed_checks_ensure
from services.selectors import catalog

ATTESTATION_CHECK = {
    "name": "Records of processing reviewed",
    "slug": "records-of-processing",
    "kind": CheckKind.CUSTOM,
    "frequency": Frequency.MONTHLY,
    "severity": Severity.MEDIUM,
    "method": CheckMethod.ATTESTATION,
    "applies_to": AppliesTo.PERSONAL_DATA,
    "description": "The owner team reviewed the service's record of processing activities "
    "(what personal data, why, for how long) and it is up to date.",
}


def _demo_results(services, now: datetime):
    """(check slug, service, outcome, value, detail) of the results the demo shows."""
    passing, failing, erring = services[:3]
    return [
        (
            "data-retention",
            passing,
            Outcome.PASS,
            120.0,
            f"120 (must be ≤ {passing.data_retention_days})",
        ),
        ("consent-tracking", failing, Outcome.FAIL, 14.0, "14 (must be = 0)"),
        (
            "data-retention",
            erring,
            Outcome.ERROR,
            None,
            "Prometheus at http://127.0.0.1:9090 is unreachable (ConnectionError).",
        ),
    ]


@transaction.atomic
def load_demo_compliance(now: datetime) -> None:
    seed_checks_ensure(ComplianceCheck)
    if not ComplianceCheck.objects.filter(slug=ATTESTATION_CHECK["slug"]).exists():
        compliance_check_save(check=ComplianceCheck(**ATTESTATION_CHECK))
    compliance_statuses_sync(now=now)
    services = list(catalog.service_rows().filter(handles_personal_data=True).order_by("name")[:3])
    if len(services) < 3:
        return
    for slug, service, outcome, value, detail in _demo_results(services, now):
        status = (
            ComplianceStatus.objects.select_related("compliance_check")
            .filter(compliance_check__slug=slug, service=service)
            .first()
        )
        if status is None or status.checked_at is not None:
            continue
        checked_at = now - timedelta(hours=2)
        result = ComplianceResult.objects.create(
            compliance_check=status.compliance_check,
            service=service,
            outcome=outcome,
            value=value,
            detail=detail,
            started_at=checked_at,
            checked_at=checked_at,
            duration_ms=12,
        )
        ComplianceStatus.objects.filter(pk=status.pk).update(
            last_result=result,
            outcome=outcome,
            checked_at=checked_at,
            due_at=due_after_run(
                status.compliance_check.frequency, outcome in CONCLUSIVE_OUTCOMES, now
            ),
        )
        finding = compliance_finding_apply(result=result, now=checked_at)
        if finding is not None:
            # As if its email had gone out: `make run` has no mail server to send it to.
            ComplianceFinding.objects.filter(pk=finding.pk).update(notified_at=checked_at)
