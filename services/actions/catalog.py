"""Writes to the catalog: services, teams, memberships and tags."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from portal.roles import is_sre_lead
from services.actions.scorecards import checks_mark_dirty
from services.models.catalog import (
    MAX_DEPENDENCIES_PER_SERVICE,
    MAX_TAGS_PER_SERVICE,
    Membership,
    Service,
    Tag,
    Team,
)
from services.readiness import GATE_REFUSAL, OVERRIDE_PREFIX, enters_gated_production
from services.selectors.readiness import has_valid_review


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
    # Checked before any tag or dependency is looked up: the cost of a save stays bounded.
    depends_on = None if depends_on is None else list(depends_on)
    tags = None if tags is None else list(tags)
    if depends_on is not None and len(depends_on) > MAX_DEPENDENCIES_PER_SERVICE:
        raise ValidationError(
            {"depends_on": f"At most {MAX_DEPENDENCIES_PER_SERVICE} dependencies per service."}
        )
    if tags is not None and len(tags) > MAX_TAGS_PER_SERVICE:
        raise ValidationError({"tags": f"At most {MAX_TAGS_PER_SERVICE} tags per service."})
    if depends_on is not None:
        if any(dependency.pk == service.pk for dependency in depends_on):
            raise ValidationError({"depends_on": "A service cannot depend on itself."})
        service.depends_on.set(depends_on)
    if tags is not None:
        service.tags.set(tags_for_names(tags))


def service_production_gate(service: Service, *, override: str, by, gate: bool = True) -> None:
    """A tier-1/2 service moves (or is created) into production only with a valid readiness
    review, or with an SRE lead's override and its reason, which the service's history keeps.
    ``gate`` False records what a source says (a Backstage import, the demo): a service already
    in production there is a fact, not a request; it then shows as in production without a
    readiness review until it has one. Raises ValidationError naming ``lifecycle`` (or
    ``readiness_override``); the admin's form runs it before its save."""
    previous = (
        Service.objects.filter(pk=service.pk).values_list("lifecycle", flat=True).first()
        if service.pk
        else None
    )
    if not gate or not enters_gated_production(
        tier=service.tier, lifecycle=service.lifecycle, previous_lifecycle=previous
    ):
        return
    if service.pk and has_valid_review(service.pk, timezone.now()):
        return
    reason = override.strip()
    if not reason:
        raise ValidationError({"lifecycle": GATE_REFUSAL})
    if by is None or not is_sre_lead(by):
        raise ValidationError(
            {"readiness_override": "Only an SRE lead overrides the readiness gate."}
        )
    name = by.get_full_name() or by.get_username()
    service._change_reason = f"{OVERRIDE_PREFIX}, overridden by {name}: {reason}"


@transaction.atomic
def service_create(
    *,
    depends_on: Iterable[Service] = (),
    tags: Iterable[str] = (),
    by=None,
    readiness_override: str = "",
    readiness_gate: bool = True,
    **fields,
):
    service = service_save(
        service=Service(**fields),
        by=by,
        readiness_override=readiness_override,
        readiness_gate=readiness_gate,
    )
    _set_service_relations(service, depends_on=depends_on, tags=tags)
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    depends_on: Iterable[Service] | None = None,
    tags: Iterable[str] | None = None,
    by=None,
    readiness_override: str = "",
    readiness_gate: bool = True,
    **fields,
) -> Service:
    """Change the given fields; relations are replaced only when passed. Moving a tier-1/2
    service into production meets the readiness gate (_check_production_gate)."""
    for name, value in fields.items():
        setattr(service, name, value)
    service_save(
        service=service, by=by, readiness_override=readiness_override, readiness_gate=readiness_gate
    )
    _set_service_relations(service, depends_on=depends_on, tags=tags)
    return service


@transaction.atomic
def service_save(
    *, service: Service, by=None, readiness_override: str = "", readiness_gate: bool = True
) -> Service:
    """Validate and save a new or changed service as it stands (what service_create and
    service_update end with, and what the admin saves), through the readiness gate, and have
    its checks run again."""
    service.full_clean()
    service_production_gate(service, override=readiness_override, by=by, gate=readiness_gate)
    service.save()
    checks_mark_dirty(service_ids=[service.pk])
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
    # The checks read the team's name and manager.
    checks_mark_dirty(service_ids=team.services.values_list("pk", flat=True))
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
