"""Background work of compliance checks: thin tasks that call portal.compliance.actions."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from portal import doorbell, notifications


@shared_task
def run_due_compliance_checks() -> int:
    """Beat, every minute: claim the checks that are due and ring one task per check and
    service. Also the sweep of runs: a claim whose task was lost expires and is taken again."""
    from portal.compliance.actions.runs import compliance_due_run

    return compliance_due_run(now=timezone.now())


@shared_task(
    soft_time_limit=settings.COMPLIANCE_CHECK_TIME_LIMIT_SECONDS,
    time_limit=settings.COMPLIANCE_CHECK_TIME_LIMIT_SECONDS + 15,
)
def run_compliance_check(status_id: int) -> None:
    """Run one check on one service (a claimed ComplianceStatus) and record the result."""
    from portal.compliance.actions.runs import compliance_status_run

    compliance_status_run(status_id=status_id)


@shared_task(
    autoretry_for=(notifications.RetryableNotificationError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def notify_compliance_finding(finding_id: int) -> None:
    """Email an open finding to its owner team, once."""
    from portal.compliance.actions.findings import compliance_finding_notify

    compliance_finding_notify(finding_id=finding_id)


@shared_task
def sweep_compliance() -> None:
    """Listed in PORTAL_SWEEPS: reopen expired accepted risks and ring for every open finding
    whose email has not gone out."""
    from portal.compliance.actions.findings import (
        compliance_findings_to_notify,
        compliance_risks_expire,
    )

    compliance_risks_expire(now=timezone.now())
    for finding_id in compliance_findings_to_notify():
        doorbell.ring(notify_compliance_finding, finding_id)
