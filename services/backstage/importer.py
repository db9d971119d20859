"""Writing: resolve the parsed entities against the catalog and apply them in one transaction."""

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from services.actions.catalog import (
    membership_set,
    service_create,
    service_update,
    tags_for_names,
    team_create,
    team_update,
)
from services.backstage.entities import EntityRef, Origin, ParsedCatalog, parse_sources, slug_for
from services.backstage.sources import Source
from services.choices import MembershipRole
from services.models.catalog import Membership, Service, Team


@dataclass
class ImportReport:
    """What an import did, and what it left alone and why, for a person to read."""

    teams_created: int = 0
    teams_updated: int = 0
    teams_unchanged: int = 0
    services_created: int = 0
    services_updated: int = 0
    services_unchanged: int = 0
    memberships_added: int = 0
    # Dependencies between components that the imported services now record.
    dependencies_set: int = 0
    # dependsOn entries naming resources or APIs, which the catalog does not model.
    dependencies_ignored: int = 0
    skipped_kinds: Counter = field(default_factory=Counter)
    unknown_kinds: Counter = field(default_factory=Counter)
    unknown_users: list[str] = field(default_factory=list)
    unknown_groups: list[str] = field(default_factory=list)
    unknown_dependencies: list[str] = field(default_factory=list)
    # backstage_refs of services imported earlier from these sources and absent now.
    missing: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [
            f"Teams: {self.teams_created} created, {self.teams_updated} updated, "
            f"{self.teams_unchanged} unchanged",
            f"Services: {self.services_created} created, {self.services_updated} updated, "
            f"{self.services_unchanged} unchanged",
            f"Memberships added: {self.memberships_added}",
            f"Dependencies set: {self.dependencies_set} "
            f"({self.dependencies_ignored} on resources or APIs ignored)",
        ]
        if self.skipped_kinds:
            lines.append(f"Skipped, not services: {_count_list(self.skipped_kinds)}")
        if self.unknown_kinds:
            lines.append(f"Skipped, unknown kinds: {_count_list(self.unknown_kinds)}")
        if self.unknown_users:
            lines.append(f"Users without a portal account: {', '.join(self.unknown_users)}")
        if self.unknown_groups:
            lines.append(f"Groups matching no team: {', '.join(self.unknown_groups)}")
        if self.unknown_dependencies:
            lines.append(
                f"Dependencies on unknown components: {', '.join(self.unknown_dependencies)}"
            )
        if self.missing:
            lines.append(
                f"No longer in these sources (kept, not deleted): {', '.join(self.missing)}"
            )
        return lines


def _count_list(counter: Counter) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counter.items()))


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def import_sources(sources: list[Source]) -> ImportReport:
    """Import the sources all or nothing; BackstageImportError when any of them is invalid."""
    catalog = parse_sources(sources)
    report = ImportReport(skipped_kinds=catalog.skipped_kinds, unknown_kinds=catalog.unknown_kinds)
    with transaction.atomic():
        teams = _catalog_teams_referenced(catalog)
        tags_for_names(catalog.system_tags)
        teams.update(_import_groups(catalog, report))
        services, outcomes = _import_components(catalog, teams)
        _import_dependencies(catalog, services, outcomes, report)
        outcome_counts = Counter(outcomes.values())
        report.services_created = outcome_counts[CREATED]
        report.services_updated = outcome_counts[UPDATED]
        report.services_unchanged = outcome_counts[UNCHANGED]
        _import_memberships(catalog, teams, report)
        report.missing = sorted(
            Service.objects.filter(backstage_source__in=catalog.source_names)
            .exclude(backstage_ref__in=[str(component.ref) for component in catalog.components])
            .values_list("backstage_ref", flat=True)
        )
    return report


def _catalog_teams_referenced(catalog: ParsedCatalog) -> dict[EntityRef, Team]:
    """Catalog teams for the owners and memberOf groups that are not Groups of the import.

    Runs before any write, so that an owner matching no team stops the import untouched.
    """
    imported = {group.ref for group in catalog.groups}
    teams = {}
    for component in catalog.components:
        if component.owner in imported or component.owner in teams:
            continue
        team = _existing_team(component.owner)
        if team is None:
            raise component.origin.error(
                f'spec.owner "{component.owner}" matches no Group in this import '
                "and no team in the catalog"
            )
        teams[component.owner] = team
    for user in catalog.users:
        for group_ref in user.member_of:
            if group_ref not in imported and group_ref not in teams:
                team = _existing_team(group_ref)
                if team is not None:
                    teams[group_ref] = team
    return teams


def _existing_team(ref: EntityRef) -> Team | None:
    if ref.kind != "group":
        return None
    return _imported_or_unclaimed(Team, ref)


def _existing_service(ref: EntityRef) -> Service | None:
    return _imported_or_unclaimed(Service, ref)


def _imported_or_unclaimed(model, ref: EntityRef):
    """The record imported from this entity, else one with its slug not imported from another."""
    return (
        model.objects.filter(backstage_ref=str(ref)).first()
        or model.objects.filter(slug=slug_for(ref.name), backstage_ref=None).first()
    )


def _record_to_update(model, ref: EntityRef, origin: Origin):
    """The record an entity updates; taking over one imported from another entity is an error."""
    record = _imported_or_unclaimed(model, ref)
    if record is None:
        claimed = model.objects.filter(slug=slug_for(ref.name)).first()
        if claimed is not None:
            raise origin.error(
                f'metadata.name: the {model._meta.verbose_name} "{claimed.slug}" '
                f"was imported from {claimed.backstage_ref}"
            )
    return record


@contextmanager
def _reported_as(origin: Origin):
    """Turn a model validation error into an import error that says where it came from."""
    try:
        yield
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            problem = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
            )
        else:
            problem = " ".join(error.messages)
        raise origin.error(problem) from error


def _changed_fields(record, fields: dict) -> dict:
    return {name: value for name, value in fields.items() if getattr(record, name) != value}


def _import_groups(catalog: ParsedCatalog, report: ImportReport) -> dict[EntityRef, Team]:
    teams = {}
    for group in catalog.groups:
        fields = {
            "name": group.name,
            "slug": group.slug,
            "description": group.description,
            "backstage_ref": str(group.ref),
        }
        if group.email:
            fields["email"] = group.email
        with _reported_as(group.origin):
            team = _record_to_update(Team, group.ref, group.origin)
            if team is None:
                team = team_create(**fields)
                report.teams_created += 1
            elif changed := _changed_fields(team, fields):
                team = team_update(team=team, **changed)
                report.teams_updated += 1
            else:
                report.teams_unchanged += 1
        teams[group.ref] = team
    return teams


def _import_components(
    catalog: ParsedCatalog, teams: dict[EntityRef, Team]
) -> tuple[dict[EntityRef, Service], dict[EntityRef, str]]:
    services, outcomes = {}, {}
    for component in catalog.components:
        fields = {
            "name": component.name,
            "slug": component.slug,
            "description": component.description,
            "owner_team_id": teams[component.owner].pk,
            "lifecycle": component.lifecycle,
            "kind": component.kind,
            "system": component.system,
            "backstage_ref": str(component.ref),
            "backstage_source": component.origin.source,
            **component.optional_fields,
        }
        with _reported_as(component.origin):
            service = _record_to_update(Service, component.ref, component.origin)
            if service is None:
                # What the catalog says is a fact: a service in production there is recorded
                # so (and shows as unreviewed until it has a readiness review).
                service = service_create(tags=component.tags, readiness_gate=False, **fields)
                outcomes[component.ref] = CREATED
            else:
                changed = _changed_fields(service, fields)
                current_tags = set(service.tags.values_list("slug", flat=True))
                new_tags = {slugify(tag) for tag in component.tags} - {""}
                tags = component.tags if new_tags != current_tags else None
                if changed or tags is not None:
                    service = service_update(
                        service=service, tags=tags, readiness_gate=False, **changed
                    )
                    outcomes[component.ref] = UPDATED
                else:
                    outcomes[component.ref] = UNCHANGED
        services[component.ref] = service
    return services, outcomes


def _import_dependencies(
    catalog: ParsedCatalog,
    services: dict[EntityRef, Service],
    outcomes: dict[EntityRef, str],
    report: ImportReport,
) -> None:
    """Set dependencies once every imported service exists, since they may point forward."""
    for component in catalog.components:
        service = services[component.ref]
        targets = []
        for ref in component.depends_on:
            target = services.get(ref) or _existing_service(ref)
            if target is None:
                report.unknown_dependencies.append(f"{component.ref} → {ref}")
            else:
                targets.append(target)
        report.dependencies_set += len(targets)
        report.dependencies_ignored += component.ignored_dependencies
        current = set(service.depends_on.values_list("pk", flat=True))
        if current != {target.pk for target in targets}:
            with _reported_as(component.origin):
                service_update(service=service, depends_on=targets, readiness_gate=False)
            if outcomes[component.ref] == UNCHANGED:
                outcomes[component.ref] = UPDATED


def _import_memberships(
    catalog: ParsedCatalog, teams: dict[EntityRef, Team], report: ImportReport
) -> None:
    """Engineer memberships for people with a portal account; existing roles are kept."""
    wanted: list[tuple[str, Team]] = []
    for group in catalog.groups:
        wanted.extend((username, teams[group.ref]) for username in group.member_usernames)
    for user in catalog.users:
        for group_ref in user.member_of:
            if group_ref in teams:
                wanted.append((user.username, teams[group_ref]))
            elif str(group_ref) not in report.unknown_groups:
                report.unknown_groups.append(str(group_ref))

    usernames = {username for username, _ in wanted} | {user.username for user in catalog.users}
    users = {
        user.username: user for user in get_user_model().objects.filter(username__in=usernames)
    }
    report.unknown_users = sorted(usernames - users.keys())
    for username, team in wanted:
        user = users.get(username)
        if user is not None and not Membership.objects.filter(user=user, team=team).exists():
            membership_set(team=team, user=user, role=MembershipRole.ENGINEER)
            report.memberships_added += 1
