"""Running checks: claiming the due statuses, running one check on one service, recording
the result and moving its finding."""

import logging
import time
import uuid
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal import doorbell
from portal.compliance import tasks
from portal.compliance.actions.findings import compliance_finding_apply
from portal.compliance.actions.statuses import compliance_statuses_sync
from portal.compliance.choices import CONCLUSIVE_OUTCOMES, CheckMethod, Outcome
from portal.compliance.evaluation import Verdict
from portal.compliance.methods import http, prometheus
from portal.compliance.methods.attestation import evaluate_attestation
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.runs import ComplianceAttestation, ComplianceResult, ComplianceStatus
from portal.compliance.schedule import due_after_run

logger = logging.getLogger(__name__)


def claim_expired_before(now: datetime) -> datetime:
    """A claim older than this was lost (its worker died or its ring never arrived): the
    task's hard time limit has passed, so no run of it can still be going on."""
    limit = settings.COMPLIANCE_CHECK_TIME_LIMIT_SECONDS + 60
    return now - timedelta(seconds=limit)


def compliance_statuses_claim(
    *, now: datetime, statuses: QuerySet | None = None, force: bool = False
) -> list[int]:
    """Claim the statuses that are due (all of `statuses` when `force`) and not being run,
    in one UPDATE whose every condition is on the status row itself, so that two claims at
    once never take the same status. Returns the claimed ids."""
    token = uuid.uuid4()
    enabled = list(ComplianceCheck.objects.filter(enabled=True).values_list("pk", flat=True))
    claimable = ComplianceStatus.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=claim_expired_before(now)),
        compliance_check_id__in=enabled,
    )
    if statuses is not None:
        # The caller's filters may cross relations, which would make the UPDATE select its
        # rows in a subquery: pinned to ids, every condition stays on the row itself.
        claimable = claimable.filter(pk__in=list(statuses.values_list("pk", flat=True)))
    if not force:
        claimable = claimable.filter(due_at__lte=now)
    claimable.update(claimed_at=now, claim_token=token)
    return list(
        ComplianceStatus.objects.filter(claim_token=token)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def compliance_due_run(*, now: datetime) -> int:
    """What beat does every minute: bring the statuses in step with checks and catalog,
    claim the due ones and ring one task per claimed status. Returns how many were rung."""
    compliance_statuses_sync(now=now)
    claimed = compliance_statuses_claim(now=now)
    for status_id in claimed:
        doorbell.ring_on_commit(tasks.run_compliance_check, status_id)
    return len(claimed)


def _evaluate(check: ComplianceCheck, service, *, now: datetime) -> Verdict:
    if check.method == CheckMethod.PROMETHEUS:
        return prometheus.evaluate(check, service, now=now)
    if check.method == CheckMethod.HTTP:
        return http.evaluate(check, service, now=now)
    latest = (
        ComplianceAttestation.objects.select_related("attested_by")
        .filter(compliance_check=check, service=service)
        .order_by("-attested_at", "-id")
        .first()
    )
    return evaluate_attestation(check, latest, now=now)


def evaluate_safely(check: ComplianceCheck, service, *, now: datetime) -> Verdict:
    """The check's verdict; whatever goes wrong is an error with its reason, never a pass and
    never an exception that would stop the other checks."""
    try:
        return _evaluate(check, service, now=now)
    except SoftTimeLimitExceeded:
        return Verdict(
            Outcome.ERROR,
            f"The check ran out of time ({settings.COMPLIANCE_CHECK_TIME_LIMIT_SECONDS} s).",
        )
    except Exception as error:  # one broken check must not stop the run
        logger.exception("Compliance check %s on %s failed", check.slug, service.slug)
        return Verdict(
            Outcome.ERROR, f"The check failed unexpectedly ({error.__class__.__name__})."
        )


def compliance_status_run(*, status_id: int) -> ComplianceResult | None:
    """Run a claimed status's check on its service and record the result; None when the
    status is gone or not claimed (another run already recorded it)."""
    status = (
        ComplianceStatus.objects.select_related("compliance_check", "service")
        .filter(pk=status_id)
        .first()
    )
    if status is None or status.claim_token is None:
        logger.info("Compliance status %s is not claimed; nothing to run.", status_id)
        return None
    check, service = status.compliance_check, status.service
    started_at = timezone.now()
    clock = time.perf_counter()
    verdict = evaluate_safely(check, service, now=started_at)
    duration_ms = int((time.perf_counter() - clock) * 1000)
    checked_at = timezone.now()
    with transaction.atomic():
        result = ComplianceResult.objects.create(
            compliance_check=check,
            service=service,
            outcome=verdict.outcome,
            value=verdict.value,
            detail=verdict.detail,
            evidence=verdict.evidence,
            started_at=started_at,
            checked_at=checked_at,
            duration_ms=duration_ms,
        )
        recorded = ComplianceStatus.objects.filter(
            pk=status_id, claim_token=status.claim_token
        ).update(
            last_result=result,
            outcome=verdict.outcome,
            checked_at=checked_at,
            due_at=due_after_run(
                check.frequency, verdict.outcome in CONCLUSIVE_OUTCOMES, checked_at
            ),
            claimed_at=None,
            claim_token=None,
        )
        if not recorded:
            # A duplicate of this run got there first: keep its result only.
            transaction.set_rollback(True)
            return None
        compliance_finding_apply(result=result, now=checked_at, previous_outcome=status.outcome)
    return result


def compliance_status_refresh(*, status: ComplianceStatus) -> ComplianceResult | None:
    """Run one status now, in this process (after an attestation): claimed like any run so
    that it never overlaps the worker's; None when the worker is running it right now."""
    now = timezone.now()
    claimed = compliance_statuses_claim(
        now=now, statuses=ComplianceStatus.objects.filter(pk=status.pk), force=True
    )
    if not claimed:
        return None
    return compliance_status_run(status_id=status.pk)
