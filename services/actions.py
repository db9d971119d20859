"""Writes to the catalog: keyword-only, validated, atomic."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from services.models import (
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    MaintenanceWindow,
    Membership,
    Service,
    Tag,
    Team,
)


def tags_for_names(names: Iterable[str]) -> list[Tag]:
    """The tags with these names, created when new; names differing only in case are one tag."""
    tags = {}
    for name in names:
        name = name.strip()
        slug = slugify(name)
        if not slug:
            continue
        if slug not in tags:
            tags[slug] = Tag.objects.get_or_create(slug=slug, defaults={"name": name})[0]
    return list(tags.values())


def _set_service_relations(service: Service, *, depends_on, tags) -> None:
    if depends_on is not None:
        depends_on = list(depends_on)
        if any(dependency.pk == service.pk for dependency in depends_on):
            raise ValidationError({"depends_on": "A service cannot depend on itself."})
        service.depends_on.set(depends_on)
    if tags is not None:
        service.tags.set(tags_for_names(tags))


@transaction.atomic
def service_create(*, depends_on: Iterable[Service] = (), tags: Iterable[str] = (), **fields):
    service = Service(**fields)
    service.full_clean()
    service.save()
    _set_service_relations(service, depends_on=depends_on, tags=tags)
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    depends_on: Iterable[Service] | None = None,
    tags: Iterable[str] | None = None,
    **fields,
) -> Service:
    """Change the given fields; relations are replaced only when passed."""
    for name, value in fields.items():
        setattr(service, name, value)
    service.full_clean()
    service.save()
    _set_service_relations(service, depends_on=depends_on, tags=tags)
    return service


@transaction.atomic
def service_delete(*, service: Service) -> None:
    service.delete()


@transaction.atomic
def team_create(**fields) -> Team:
    team = Team(**fields)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_update(*, team: Team, **fields) -> Team:
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """Delete a team that owns no services (services must be handed over first)."""
    if team.services.exists():
        raise ValidationError(
            "This team still owns services: move them to another team before deleting it."
        )
    team.delete()


@transaction.atomic
def membership_set(*, team: Team, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        team=team, user=user, defaults={"role": role}
    )
    membership.full_clean()
    return membership


@transaction.atomic
def slo_create(**fields) -> SLO:
    slo = SLO(**fields)
    slo.full_clean()
    slo.save()
    return slo


@transaction.atomic
def slo_update(*, slo: SLO, **fields) -> SLO:
    for name, value in fields.items():
        setattr(slo, name, value)
    slo.full_clean()
    slo.save()
    return slo


@transaction.atomic
def slo_delete(*, slo: SLO) -> None:
    """Delete an SLO with its maintenance windows, SLI data and status snapshot."""
    slo.delete()


@transaction.atomic
def maintenance_window_create(*, slo: SLO, **fields) -> MaintenanceWindow:
    window = MaintenanceWindow(slo=slo, **fields)
    window.full_clean()
    window.save()
    return window


@transaction.atomic
def maintenance_window_delete(*, window: MaintenanceWindow) -> None:
    window.delete()


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
    return policy


@transaction.atomic
def budget_policy_delete(*, policy: BudgetPolicy) -> None:
    if policy.slos.exists():
        raise ValidationError("SLOs follow this policy: give them another one before deleting it.")
    policy.delete()
