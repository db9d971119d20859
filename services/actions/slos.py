"""Writes to SLO definitions: SLOs, their maintenance windows and budget policies."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from portal import doorbell
from services import tasks
from services.actions.scorecards import checks_mark_dirty
from services.choices import SLISource
from services.models.slos import SLO, BudgetPolicy, BudgetPolicyTier, MaintenanceWindow, SLOStatus


@transaction.atomic
def slo_create(**fields) -> SLO:
    slo = SLO(**fields)
    slo.full_clean()
    slo.save()
    checks_mark_dirty(service_ids=[slo.service_id])
    return slo


@transaction.atomic
def slo_update(*, slo: SLO, **fields) -> SLO:
    """Change the given fields; the snapshot is recomputed, since the objective, window or
    method may have changed what the stored buckets add up to."""
    for name, value in fields.items():
        setattr(slo, name, value)
    slo.full_clean()
    slo.save()
    if slo.source == SLISource.PUSH:
        # No sync will come to clear a failed one's error: it would keep the SLO stale.
        SLOStatus.objects.filter(slo=slo).update(last_sync_error="")
    doorbell.ring_on_commit(tasks.recompute_slo_status, slo.pk)
    checks_mark_dirty(service_ids=[slo.service_id])
    return slo


@transaction.atomic
def slo_delete(*, slo: SLO) -> None:
    """Delete an SLO with its maintenance windows, SLI data and status snapshot."""
    slo.delete()
    checks_mark_dirty(service_ids=[slo.service_id])


@transaction.atomic
def maintenance_window_create(*, slo: SLO, **fields) -> MaintenanceWindow:
    """Plan maintenance; the snapshot is recomputed without the buckets it covers."""
    window = MaintenanceWindow(slo=slo, **fields)
    window.full_clean()
    window.save()
    doorbell.ring_on_commit(tasks.recompute_slo_status, slo.pk)
    return window


@transaction.atomic
def maintenance_window_delete(*, window: MaintenanceWindow) -> None:
    """Drop a maintenance window; its buckets count again once the snapshot is recomputed."""
    slo_id = window.slo_id
    window.delete()
    doorbell.ring_on_commit(tasks.recompute_slo_status, slo_id)


def _set_policy_tiers(policy: BudgetPolicy, tiers: Iterable[dict]) -> None:
    """Replace the policy's tiers; a policy needs exactly one bottom tier (no floor), which
    holds every budget below the others, overspent ones included."""
    tiers = [BudgetPolicyTier(policy=policy, **fields) for fields in tiers]
    if sum(tier.min_remaining is None for tier in tiers) != 1:
        raise ValidationError({"tiers": "Exactly one tier, the bottom one, has no floor."})
    names = [tier.name for tier in tiers]
    if len(set(names)) != len(names):
        raise ValidationError({"tiers": "Tier names must differ."})
    policy.tiers.all().delete()
    for tier in tiers:
        tier.full_clean(exclude=["policy"], validate_constraints=False)
    BudgetPolicyTier.objects.bulk_create(tiers)


@transaction.atomic
def budget_policy_create(*, tiers: Iterable[dict], **fields) -> BudgetPolicy:
    policy = BudgetPolicy(**fields)
    policy.full_clean()
    policy.save()
    _set_policy_tiers(policy, tiers)
    return policy


@transaction.atomic
def budget_policy_update(
    *, policy: BudgetPolicy, tiers: Iterable[dict] | None = None, **fields
) -> BudgetPolicy:
    """Change the given fields; the tiers are replaced only when passed."""
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    if tiers is not None:
        _set_policy_tiers(policy, tiers)
        # Every snapshot carries its tier: the SLOs following this policy may have moved.
        doorbell.ring_on_commit(tasks.recompute_slo_statuses)
    return policy


@transaction.atomic
def budget_policy_delete(*, policy: BudgetPolicy) -> None:
    if policy.slos.exists():
        raise ValidationError("SLOs follow this policy: give them another one before deleting it.")
    policy.delete()
