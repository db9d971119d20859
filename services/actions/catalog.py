"""Writes to the catalog: services, teams, memberships and tags."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from services.models.catalog import (
    MAX_DEPENDENCIES_PER_SERVICE,
    MAX_TAGS_PER_SERVICE,
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
