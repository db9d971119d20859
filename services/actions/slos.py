"""Writes to SLO definitions: SLOs, their maintenance windows and budget policies. Each change
that moves what an SLO's figures add up to marks the SLO dirty
(services.actions.statuses.slos_mark_dirty): its snapshot is recomputed moments later, once."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from services.actions.scorecards import checks_mark_dirty
from services.actions.statuses import slos_mark_dirty
from services.choices import SLISource
from services.models.slos import SLO, BudgetPolicy, BudgetPolicyTier, MaintenanceWindow, SLOStatus
from services.sli.store import slo_rollups_refresh

#: What the stored rollups' judged slices depend on: changing one re-sums the SLO's rollups.
_SLICE_FIELDS = ("budgeting_method", "slice_minutes", "slice_target")


@transaction.atomic
def slo_create(**fields) -> SLO:
    return slo_save(slo=SLO(**fields))


@transaction.atomic
def slo_update(*, slo: SLO, **fields) -> SLO:
    """Change the given fields; the snapshot is recomputed, since the objective, window or
    method may have changed what the stored buckets add up to."""
    for name, value in fields.items():
        setattr(slo, name, value)
    return slo_save(slo=slo)


@transaction.atomic
def slo_save(*, slo: SLO) -> SLO:
    """Store an SLO built or changed by a form (the admin's) or by slo_create / slo_update:
    validated, and marked dirty so that its snapshot follows."""
    previous = None
    if slo.pk is not None:
        previous = SLO.objects.filter(pk=slo.pk).values(*_SLICE_FIELDS, "source").first()
    slo.full_clean()
    slo.save()
    if previous and any(previous[name] != getattr(slo, name) for name in _SLICE_FIELDS):
        # The rollups judge this SLO's timeslices as it defined them when they were written.
        slo_rollups_refresh(slo_ids=[slo.pk])
    if slo.source == SLISource.PUSH:
        # No sync will come to clear a failed one's error: it would keep the SLO stale.
        SLOStatus.objects.filter(slo=slo).update(last_sync_error="")
    slos_mark_dirty(slo_ids=[slo.pk])
    # The checks read a service's SLOs (their kinds, policies) as well as their snapshots.
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
    return maintenance_window_save(window=MaintenanceWindow(slo=slo, **fields))


@transaction.atomic
def maintenance_window_save(*, window: MaintenanceWindow) -> MaintenanceWindow:
    """Store a new or changed maintenance window; its SLO's snapshot is recomputed."""
    previous_slo_id = None
    if window.pk is not None:
        previous_slo_id = (
            MaintenanceWindow.objects.filter(pk=window.pk).values_list("slo_id", flat=True).first()
        )
    window.full_clean()
    window.save()
    slos_mark_dirty(slo_ids={window.slo_id, previous_slo_id} - {None})
    return window


@transaction.atomic
def maintenance_window_delete(*, window: MaintenanceWindow) -> None:
    """Drop a maintenance window; its buckets count again once the snapshot is recomputed."""
    slo_id = window.slo_id
    window.delete()
    slos_mark_dirty(slo_ids=[slo_id])


def _tiers_replace(policy: BudgetPolicy, tiers: Iterable[dict]) -> None:
    """Replace the policy's tiers, which keep BudgetPolicy.validate_tiers's rules."""
    tiers = [BudgetPolicyTier(policy=policy, **fields) for fields in tiers]
    BudgetPolicy.validate_tiers(tiers)
    for tier in tiers:
        tier.full_clean(exclude=["policy"], validate_constraints=False)
    policy.tiers.all().delete()
    BudgetPolicyTier.objects.bulk_create(tiers)


@transaction.atomic
def budget_policy_create(*, tiers: Iterable[dict], **fields) -> BudgetPolicy:
    return budget_policy_save(policy=BudgetPolicy(**fields), tiers=tiers)


@transaction.atomic
def budget_policy_update(
    *, policy: BudgetPolicy, tiers: Iterable[dict] | None = None, **fields
) -> BudgetPolicy:
    """Change the given fields; the tiers are replaced only when passed."""
    for name, value in fields.items():
        setattr(policy, name, value)
    return budget_policy_save(policy=policy, tiers=tiers)


@transaction.atomic
def budget_policy_save(*, policy: BudgetPolicy, tiers: Iterable[dict] | None) -> BudgetPolicy:
    """Store a new or changed policy (from the API or the admin), replacing its tiers when
    given (a new policy needs them). Making it the default takes that from the policy that
    was, with its history recorded. Every snapshot carries its tier, so each SLO that may
    follow the policy is marked dirty."""
    if policy.pk is None and tiers is None:
        raise ValidationError({"tiers": "A new policy needs its tiers."})
    was_default = (
        policy.pk is not None
        and BudgetPolicy.objects.filter(pk=policy.pk, is_default=True).exists()
    )
    if policy.is_default:
        for previous in BudgetPolicy.objects.filter(is_default=True).exclude(pk=policy.pk):
            previous.is_default = False
            previous.save(update_fields=["is_default"])
    policy.full_clean()
    policy.save()
    if tiers is not None:
        _tiers_replace(policy, tiers)
    if tiers is not None or policy.is_default != was_default:
        slos_mark_dirty()
    return policy


@transaction.atomic
def budget_policy_delete(*, policy: BudgetPolicy) -> None:
    if policy.slos.exists():
        raise ValidationError("SLOs follow this policy: give them another one before deleting it.")
    policy.delete()
