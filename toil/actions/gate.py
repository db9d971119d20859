"""Writes of the deploy gate: its recorded answers, and SRE leads' overrides of its denials."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from services.models.catalog import Service
from toil import gate
from toil.choices.changes import (
    ChangeCategory,
)
from toil.models.changes import (
    ChangeRequest,
    GateDecision,
    GateDecisionService,
    GateOverride,
)
from toil.selectors import gate as gate_selectors


def _reason_json(reason: gate.Reason) -> dict:
    return {
        "code": reason.code,
        "message": reason.message,
        "url": reason.url,
        "effect": reason.effect,
    }


@transaction.atomic
def gate_evaluate(
    *,
    services: list[Service],
    category: str,
    change: ChangeRequest | None,
    by,
    version: str = "",
    now: dt.datetime | None = None,
) -> tuple[GateDecision, gate.GateAnswer]:
    """Ask the gate whether the services may be deployed now, and record the answer (who
    asked, about what, what it said and why)."""
    now = now or timezone.now()
    if not services:
        raise ValidationError({"services": "Name at least one service."})
    if change is not None and change.category != category:
        raise ValidationError(
            {
                "change": f"Change #{change.pk} is a {change.get_category_display().lower()} "
                f"change, not a {ChangeCategory(category).label.lower()} one."
            }
        )
    facts = gate_selectors.gate_facts(services=services, category=category, change=change, now=now)
    answer = gate.decide(facts)
    decision = GateDecision.objects.create(
        asked_by=by,
        asked_at=now,
        category=category,
        change=change,
        version=version,
        decision=answer.decision,
        reasons=[_reason_json(reason) for reason in answer.reasons],
    )
    GateDecisionService.objects.bulk_create(
        [
            GateDecisionService(decision=decision, service=service, asked_at=now)
            for service in {service.pk: service for service in services}.values()
        ]
    )
    return decision, answer


@transaction.atomic
def gate_override_create(
    *, service: Service, reason: str, expires_at: dt.datetime, by, starts_at=None
) -> GateOverride:
    override = GateOverride(
        service=service,
        reason=reason.strip(),
        expires_at=expires_at,
        starts_at=starts_at or timezone.now(),
        created_by=by,
    )
    override.full_clean()
    override.save()
    return override


@transaction.atomic
def gate_override_revoke(*, override: GateOverride, by) -> GateOverride:
    if override.revoked_at is None:
        override.revoked_at = timezone.now()
        override._change_reason = f"Revoked by {by.get_full_name() or by.get_username()}"
        override.save(update_fields=["revoked_at"])
    return override
