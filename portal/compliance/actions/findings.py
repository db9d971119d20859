"""Findings: opened by a failure, resolved by a pass, reopened by a failure after that; the
owner team's email, once per opening; acknowledgement and accepted risk."""

import logging
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal import doorbell, notifications
from portal.compliance import tasks
from portal.compliance.choices import UNRESOLVED_STATUSES, FindingStatus, Outcome
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult
from portal.compliance.schedule import finding_due_date, local_today
from services.selectors import catalog

logger = logging.getLogger(__name__)


def _unresolved(check_id: int, service_id: int) -> ComplianceFinding | None:
    return (
        ComplianceFinding.objects.select_for_update()
        .filter(compliance_check_id=check_id, service_id=service_id, status__in=UNRESOLVED_STATUSES)
        .first()
    )


def _open_again(finding: ComplianceFinding, result: ComplianceResult, now: datetime) -> None:
    check = result.compliance_check
    finding.status = FindingStatus.OPEN
    finding.severity = check.severity
    finding.team_id = result.service.owner_team_id
    finding.due_date = finding_due_date(check.severity, now)
    finding.last_result = result
    finding.reopened_at = now
    finding.reopen_count += 1
    finding.resolved_at = None
    finding.acknowledged_at = finding.acknowledged_by = None
    finding.notified_at = None
    finding.notify_error = ""


@transaction.atomic(savepoint=False)
def compliance_finding_apply(
    *, result: ComplianceResult, now: datetime, previous_outcome: str | None = None
) -> ComplianceFinding | None:
    """Move the finding of the result's check and service: a failure opens one (or reopens
    the last resolved one) and has the owner team emailed once; a pass resolves it; an error
    or "not applicable" changes nothing. `previous_outcome`, the status's outcome before this
    result, spares the look-up when a pass follows a pass (or a first run): a pass resolves
    every finding, so none can be unresolved then."""
    check_id, service_id = result.compliance_check_id, result.service_id
    if result.outcome == Outcome.PASS and previous_outcome in ("", Outcome.PASS):
        return None
    if result.outcome == Outcome.PASS:
        finding = _unresolved(check_id, service_id)
        if finding is not None:
            finding.status = FindingStatus.RESOLVED
            finding.resolved_at = now
            finding.last_result = result
            finding._change_reason = "The check passed."
            finding.save()
        return finding
    if result.outcome != Outcome.FAIL:
        return None
    finding = _unresolved(check_id, service_id)
    if finding is not None:
        finding.last_result = result
        if finding.status == FindingStatus.ACCEPTED_RISK and finding.risk_expires_on < local_today(
            now
        ):
            finding.status = FindingStatus.OPEN
            finding.notified_at = None
            finding._change_reason = "The accepted risk expired and the check still fails."
            finding.save()
            doorbell.ring_on_commit(tasks.notify_compliance_finding, finding.pk)
        else:
            finding.save(update_fields=["last_result"])
        return finding
    finding = (
        ComplianceFinding.objects.select_for_update()
        .filter(compliance_check_id=check_id, service_id=service_id)
        .order_by("-opened_at", "-id")
        .first()
    )
    if finding is not None:
        _open_again(finding, result, now)
        finding._change_reason = "The check failed again."
    else:
        check = result.compliance_check
        finding = ComplianceFinding(
            compliance_check_id=check_id,
            service_id=service_id,
            team_id=result.service.owner_team_id,
            severity=check.severity,
            status=FindingStatus.OPEN,
            opened_at=now,
            due_date=finding_due_date(check.severity, now),
            first_result=result,
            last_result=result,
        )
        finding._change_reason = "The check failed."
    finding.full_clean(validate_constraints=False)
    finding.save()
    doorbell.ring_on_commit(tasks.notify_compliance_finding, finding.pk)
    return finding


def compliance_finding_notify(*, finding_id: int) -> bool:
    """Email an open finding to its owner team, once: claimed by stamping notified_at while it
    is empty. A retryable failure gives the claim back and raises (the task retries); a
    permanent one is recorded on the finding. Returns whether an email went out."""
    claimed = ComplianceFinding.objects.filter(
        pk=finding_id, notified_at=None, status=FindingStatus.OPEN
    ).update(notified_at=timezone.now())
    if not claimed:
        return False
    finding = ComplianceFinding.objects.select_related(
        "compliance_check", "service", "team", "last_result"
    ).get(pk=finding_id)
    addresses = catalog.team_notification_addresses(finding.team_id) if finding.team_id else []
    if not addresses:
        ComplianceFinding.objects.filter(pk=finding_id).update(
            notify_error="The owner team has no email address and no engineer with one."
        )
        return False
    message = notifications.render_email(
        "compliance-finding", {"finding": finding, "result": finding.last_result}, addresses
    )
    try:
        notifications.send(message)
    except notifications.RetryableNotificationError:
        ComplianceFinding.objects.filter(pk=finding_id).update(notified_at=None)
        raise
    except notifications.PermanentNotificationError as error:
        ComplianceFinding.objects.filter(pk=finding_id).update(notify_error=str(error)[:1000])
        return False
    ComplianceFinding.objects.filter(pk=finding_id).update(notify_error="")
    return True


def compliance_findings_to_notify() -> list[int]:
    """Open findings whose email has not gone out (its ring was lost, or it is being retried)."""
    return list(
        ComplianceFinding.objects.filter(status=FindingStatus.OPEN, notified_at=None)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def compliance_risks_expire(*, now: datetime) -> int:
    """Accepted risks past their expiry are open again (and emailed again)."""
    expired = list(
        ComplianceFinding.objects.select_for_update().filter(
            status=FindingStatus.ACCEPTED_RISK, risk_expires_on__lt=local_today(now)
        )
    )
    for finding in expired:
        finding.status = FindingStatus.OPEN
        finding.notified_at = None
        finding._change_reason = "The accepted risk expired."
        finding.save()
        doorbell.ring_on_commit(tasks.notify_compliance_finding, finding.pk)
    return len(expired)


@transaction.atomic
def compliance_finding_acknowledge(*, finding: ComplianceFinding, by) -> ComplianceFinding:
    """Open → acknowledged: the owner team has seen it and is on it."""
    finding = ComplianceFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.status != FindingStatus.OPEN:
        raise ValidationError({"status": "Only an open finding can be acknowledged."})
    finding.status = FindingStatus.ACKNOWLEDGED
    finding.acknowledged_at = timezone.now()
    finding.acknowledged_by = by
    finding._history_user = by
    finding.save()
    return finding


@transaction.atomic
def compliance_finding_accept_risk(
    *, finding: ComplianceFinding, by, reason: str, expires_on: date | None
) -> ComplianceFinding:
    """Open or acknowledged → accepted risk, by an SRE lead, with a reason and an expiry;
    failures meanwhile send no email, and after the expiry the finding is open again."""
    finding = ComplianceFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.status not in (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED):
        raise ValidationError(
            {"status": "Only an open or acknowledged finding can have its risk accepted."}
        )
    finding.status = FindingStatus.ACCEPTED_RISK
    finding.risk_reason = (reason or "").strip()
    finding.risk_expires_on = expires_on
    finding.risk_accepted_at = timezone.now()
    finding.risk_accepted_by = by
    finding._history_user = by
    finding.full_clean(validate_constraints=False)
    finding.save()
    return finding
