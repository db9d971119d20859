"""Which checks apply to which services: the statuses (matrix cells) kept in step with the
checks and the catalog."""

from collections import defaultdict
from datetime import datetime

from django.db import transaction

from portal.compliance.choices import UNRESOLVED_STATUSES, AppliesTo, CheckMethod, FindingStatus
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceStatus
from portal.compliance.schedule import next_period_start
from services.selectors import catalog


def applicable_pairs() -> set[tuple[int, int]]:
    """(check id, service id) of every enabled check and every service it applies to."""
    checks = list(
        ComplianceCheck.objects.filter(enabled=True).values_list("pk", "applies_to", "tag_id")
    )
    pairs: set[tuple[int, int]] = set()
    if any(applies_to == AppliesTo.PERSONAL_DATA for _, applies_to, _ in checks):
        personal = list(catalog.service_ids_handling_personal_data())
        for check_id, applies_to, _ in checks:
            if applies_to == AppliesTo.PERSONAL_DATA:
                pairs.update((check_id, service_id) for service_id in personal)
    tag_ids = {tag_id for _, applies_to, tag_id in checks if applies_to == AppliesTo.TAG}
    if tag_ids:
        tagged: dict[int, list[int]] = defaultdict(list)
        for service_id, tag_id in catalog.service_ids_tagged(tag_ids):
            tagged[tag_id].append(service_id)
        for check_id, applies_to, tag_id in checks:
            if applies_to == AppliesTo.TAG:
                pairs.update((check_id, service_id) for service_id in tagged[tag_id])
    return pairs


def first_due(method: str, frequency: str, now: datetime) -> datetime:
    """A new status is due at once; an attestation first when its first period ends, so that
    the team has that period to attest."""
    return next_period_start(frequency, now) if method == CheckMethod.ATTESTATION else now


@transaction.atomic
def compliance_statuses_sync(*, now: datetime) -> tuple[int, int]:
    """Add a status for every pair that has none, remove those of checks and services no
    longer in scope (resolving their unresolved findings: nothing checks them any more).
    Returns (added, removed)."""
    desired = applicable_pairs()
    existing = {
        (check_id, service_id): pk
        for pk, check_id, service_id in ComplianceStatus.objects.values_list(
            "pk", "compliance_check_id", "service_id"
        )
    }
    missing = desired - existing.keys()
    if missing:
        checks = {
            check.pk: check
            for check in ComplianceCheck.objects.filter(
                pk__in={check_id for check_id, _ in missing}
            ).only("pk", "method", "frequency")
        }
        ComplianceStatus.objects.bulk_create(
            [
                ComplianceStatus(
                    compliance_check_id=check_id,
                    service_id=service_id,
                    due_at=first_due(checks[check_id].method, checks[check_id].frequency, now),
                )
                for check_id, service_id in sorted(missing)
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
    extra = existing.keys() - desired
    if extra:
        ComplianceStatus.objects.filter(pk__in=[existing[pair] for pair in extra]).delete()
        for check_id, service_id in extra:
            for finding in ComplianceFinding.objects.filter(
                compliance_check_id=check_id, service_id=service_id, status__in=UNRESOLVED_STATUSES
            ):
                finding.status = FindingStatus.RESOLVED
                finding.resolved_at = now
                finding._change_reason = "No longer checked on this service."
                finding.save(update_fields=["status", "resolved_at"])
    return len(missing), len(extra)
