"""Attestations: an engineer of the owner team states that a check holds, with evidence."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.compliance.actions.runs import compliance_status_refresh
from portal.compliance.choices import CheckMethod
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.runs import ComplianceAttestation, ComplianceStatus


@transaction.atomic
def compliance_attest(
    *, check: ComplianceCheck, service, by, evidence_url: str = "", note: str = ""
) -> ComplianceAttestation:
    """Record the attestation and run the check at once, so that the service's status (and
    its finding, if any) reflects it straight away."""
    if check.method != CheckMethod.ATTESTATION:
        raise ValidationError({"check": "This check is not verified by attestation."})
    status = ComplianceStatus.objects.filter(compliance_check=check, service=service).first()
    if status is None:
        raise ValidationError({"service": "This check does not apply to this service."})
    attestation = ComplianceAttestation(
        compliance_check=check,
        service=service,
        attested_by=by,
        attested_at=timezone.now(),
        evidence_url=(evidence_url or "").strip(),
        note=(note or "").strip(),
    )
    attestation.full_clean()
    attestation.save()
    compliance_status_refresh(status=status)
    return attestation
