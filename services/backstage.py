"""Import Backstage catalog files (catalog-info.yaml) into the service catalog.

Two steps, so that a bad file writes nothing: `parse_sources` turns the YAML documents into
plain entity records and stops at the first problem with a message naming the source, the
document number (1-based, counting every document of the file) and the field; `import_sources`
then resolves references against the catalog and writes everything in one transaction,
through services.actions.

How Backstage entities land in the catalog:

- Group → Team: slug from metadata.name, name from metadata.title (else spec.profile.displayName,
  else metadata.name), description, email from spec.profile.email, backstage_ref
  "group:<namespace>/<name>". spec.members become engineer memberships for people who have a
  portal account; the others are reported, never created.
- User → engineer memberships, in each team of spec.memberOf, for the portal user with the
  same username; users without an account are reported and skipped.
- Component → Service: slug from metadata.name, name from metadata.title (else metadata.name),
  description, spec.type → kind, spec.system → system and the tag "system:<name>",
  metadata.tags → tags. spec.owner ("team-a", "group:team-a" or "group:default/team-a") must
  name a Group of this import or a team of the catalog (by backstage_ref or slug).
  spec.lifecycle, which Backstage leaves open, maps to the portal's three stages:

      production   → production
      experimental → experimental
      deprecated   → deprecated
      anything else (development, beta, …) → experimental: it is not in production yet

  Links and annotations fill the link fields; the first source that has a value wins:
  repository ← backstage.io/source-location ("url:…"), github.com/project-slug, a link titled
  or typed like a repository; runbook ← a runbook link, backstage.io/techdocs-ref ("url:…");
  dashboard ← a dashboard link; on-call ← an on-call or pager link. pagerduty.com/service-id →
  the PagerDuty id, reliability-portal/tier ("1", "2" or "3") → the tier. spec.dependsOn
  entries that name components become dependencies; resource: and api: entries are counted
  and ignored.
- System → the tag "system:<name>", the one its components carry; not a service.
- API, Resource, Location, Template and Domain are not services: skipped and counted. Any
  other kind is counted as unknown. Only the kinds imported are held to the backstage.io
  apiVersions: skipped kinds have their own (a Template is scaffolder.backstage.io/v1beta3).

Re-importing matches teams and services by backstage_ref, then by slug, and never duplicates.
What an entity always describes (names, description, owner, lifecycle, type, system, tags,
dependencies) is overwritten; what catalogs often leave out (team email, links, PagerDuty id,
tier) is overwritten only when present, so values entered in the portal survive. Services
that an earlier import took from the same sources and that are gone from them are reported in
`ImportReport.missing` and kept: retiring a service is a decision for a person. Teams record
no source, so a vanished Group cannot be reported.
"""

import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.text import slugify

from services.actions import (
    membership_set,
    service_create,
    service_update,
    tags_for_names,
    team_create,
    team_update,
)
from services.choices import Lifecycle, MembershipRole, Tier
from services.models import Membership, Service, Team

CATALOG_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
FETCH_TIMEOUT_SECONDS = 10
# A catalog of thousands of entities is a few megabytes; anything far larger is a wrong URL.
MAX_SOURCE_BYTES = 10 * 1024 * 1024

# Kinds Backstage defines that are not services, by their lower-case form.
SKIPPED_KINDS = {
    kind.lower(): kind for kind in ("API", "Resource", "Location", "Template", "Domain")
}
LIFECYCLES = {
    "production": Lifecycle.PRODUCTION,
    "experimental": Lifecycle.EXPERIMENTAL,
    "deprecated": Lifecycle.DEPRECATED,
}
# Words in a link's title, type or icon that tell which service field it belongs in,
# checked in this order ("Pager dashboard" is an on-call link).
LINK_KEYWORDS = (
    ("runbook_url", ("runbook", "playbook")),
    ("oncall_url", ("on-call", "oncall", "pager", "opsgenie")),
    ("dashboard_url", ("dashboard", "grafana", "monitoring")),
    ("repository_url", ("repo", "source", "github", "gitlab", "bitbucket")),
)
TIER_ANNOTATION = "reliability-portal/tier"
# Backstage's rule for metadata.name.
ENTITY_NAME = re.compile(r"^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$")
is_url = URLValidator(schemes=["http", "https"])


class Source(NamedTuple):
    name: str  # file path, URL or uploaded file name, used in messages
    text: str


class BackstageImportError(Exception):
    """A source that cannot be imported; the message names the source, document and field."""


class EntityRef(NamedTuple):
    """A Backstage entity reference, lower-cased as Backstage compares them."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def parse(cls, reference: str, *, default_kind: str) -> "EntityRef":
        """Read "name", "kind:name", "kind:namespace/name" (and "namespace/name")."""
        kind, _, rest = reference.rpartition(":")
        namespace, _, name = rest.rpartition("/")
        return cls((kind or default_kind).lower(), (namespace or "default").lower(), name.lower())

    def __str__(self):
        return f"{self.kind}:{self.namespace}/{self.name}"


def slug_for(name: str) -> str:
    """The portal slug of a Backstage name: slugs have no dots and names ignore case."""
    return name.lower().replace(".", "-")


@dataclass(frozen=True)
class Origin:
    """Where an entity was read, as messages name it."""

    source: str
    document: int
    kind: str = ""
    name: str = ""

    def __str__(self):
        entity = " ".join(part for part in (self.kind, self.name) if part)
        return f"{self.source}, document {self.document}" + (f" ({entity})" if entity else "")

    def error(self, problem: str) -> BackstageImportError:
        return BackstageImportError(f"{self}: {problem}")


@dataclass(frozen=True)
class GroupEntity:
    origin: Origin
    ref: EntityRef
    slug: str
    name: str
    description: str
    email: str
    member_usernames: tuple[str, ...]


@dataclass(frozen=True)
class UserEntity:
    origin: Origin
    username: str
    member_of: tuple[EntityRef, ...]


@dataclass(frozen=True)
class ComponentEntity:
    origin: Origin
    ref: EntityRef
    slug: str
    name: str
    description: str
    owner: EntityRef
    lifecycle: str
    kind: str
    system: str
    tags: tuple[str, ...]
    # Link fields, PagerDuty id and tier: only those the entity states.
    optional_fields: dict[str, object]
    depends_on: tuple[EntityRef, ...]
    ignored_dependencies: int


@dataclass
class ParsedCatalog:
    source_names: list[str] = field(default_factory=list)
    groups: list[GroupEntity] = field(default_factory=list)
    users: list[UserEntity] = field(default_factory=list)
    components: list[ComponentEntity] = field(default_factory=list)
    system_tags: list[str] = field(default_factory=list)
    skipped_kinds: Counter = field(default_factory=Counter)
    unknown_kinds: Counter = field(default_factory=Counter)


@dataclass
class ImportReport:
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


def read_source(path_or_url: str) -> Source:
    """Read a catalog file from disk, or from an http(s) URL."""
    if path_or_url.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(path_or_url, timeout=FETCH_TIMEOUT_SECONDS) as response:
                content = response.read(MAX_SOURCE_BYTES + 1)
        except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
            raise BackstageImportError(f"{path_or_url}: cannot fetch it: {error}") from error
    else:
        try:
            with Path(path_or_url).open("rb") as file:
                content = file.read(MAX_SOURCE_BYTES + 1)
        except OSError as error:
            raise BackstageImportError(
                f"{path_or_url}: cannot read it: {error.strerror}"
            ) from error
    if len(content) > MAX_SOURCE_BYTES:
        raise BackstageImportError(f"{path_or_url}: larger than {MAX_SOURCE_BYTES} bytes")
    try:
        return Source(name=path_or_url, text=content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise BackstageImportError(f"{path_or_url}: not UTF-8 text") from error


# Parsing: YAML text to entity records, no database.


def parse_sources(sources: list[Source]) -> ParsedCatalog:
    catalog = ParsedCatalog()
    first_seen: dict[tuple[str, str], Origin] = {}
    for source in sources:
        catalog.source_names.append(source.name)
        for number, data in _documents(source):
            _parse_document(_Document(data, Origin(source.name, number)), catalog, first_seen)
    return catalog


def _documents(source: Source) -> Iterator[tuple[int, object]]:
    """The non-empty documents of a source with their 1-based position in it."""
    number = 1
    try:
        for data in yaml.safe_load_all(source.text):
            if data is not None:
                yield number, data
            number += 1
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise BackstageImportError(
            f"{source.name}, document {number}{line}: malformed YAML: {problem}"
        ) from error


class _Document:
    """One entity document, read through accessors whose errors name the field."""

    def __init__(self, data: object, origin: Origin):
        if not isinstance(data, dict):
            raise origin.error(f"expected an entity (a mapping), got a {type(data).__name__}")
        self.data = data
        self.origin = origin

    def error(self, problem: str) -> BackstageImportError:
        return self.origin.error(problem)

    def _value(self, path: str) -> object:
        value = self.data
        keys = path.split(".")
        for depth, key in enumerate(keys):
            if value is None:
                return None
            if not isinstance(value, dict):
                raise self.error(f"{'.'.join(keys[:depth])} must be a mapping")
            value = value.get(key)
        return value

    def text(self, path: str, *, required: bool = False) -> str:
        return self.as_text(self._value(path), path, required=required)

    def as_text(self, value: object, label: str, *, required: bool = False) -> str:
        if value is None or value == "":
            if required:
                raise self.error(f"{label} is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(f"{label} must be a string")
        return str(value).strip()

    def strings(self, path: str) -> list[str]:
        values = self._value(path)
        if values is None:
            return []
        if not isinstance(values, list):
            raise self.error(f"{path} must be a list")
        return [
            self.as_text(value, f"{path}[{index}]", required=True)
            for index, value in enumerate(values)
        ]

    def mappings(self, path: str) -> list[dict]:
        values = self._value(path)
        if values is None:
            return []
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise self.error(f"{path} must be a list of mappings")
        return values

    def annotations(self) -> dict[str, str]:
        annotations = self._value("metadata.annotations") or {}
        if not isinstance(annotations, dict):
            raise self.error("metadata.annotations must be a mapping")
        return {
            key: self.as_text(value, f"metadata.annotations.{key}")
            for key, value in annotations.items()
        }

    def url(self, value: str, label: str) -> str:
        try:
            is_url(value)
        except ValidationError as error:
            raise self.error(f'{label} "{value}" is not an http(s) URL') from error
        return value


def _parse_document(document: _Document, catalog: ParsedCatalog, first_seen: dict) -> None:
    api_version = document.text("apiVersion", required=True)
    kind = document.text("kind", required=True)
    document.origin = replace(document.origin, kind=kind)
    name = document.text("metadata.name", required=True)
    document.origin = replace(document.origin, name=name)

    parsers = {"group": _parse_group, "user": _parse_user, "component": _parse_component}
    kind_key = kind.lower()
    if kind_key in SKIPPED_KINDS:
        catalog.skipped_kinds[SKIPPED_KINDS[kind_key]] += 1
        return
    if kind_key not in (*parsers, "system"):
        catalog.unknown_kinds[kind] += 1
        return
    if api_version not in CATALOG_API_VERSIONS:
        raise document.error(
            f'apiVersion "{api_version}" is not one of {", ".join(CATALOG_API_VERSIONS)}'
        )
    if not ENTITY_NAME.match(name):
        raise document.error(
            f'metadata.name "{name}" is not a Backstage entity name '
            "(letters and digits separated by -, _ or .)"
        )
    if kind_key == "system":
        catalog.system_tags.append(f"system:{name}")
        return

    key = (kind_key, slug_for(name))
    if key in first_seen:
        raise document.error(f'metadata.name "{name}" is also used by {first_seen[key]}')
    first_seen[key] = document.origin
    parsers[kind_key](document, name, catalog)


def _ref_of(document: _Document, kind: str, name: str) -> EntityRef:
    namespace = document.text("metadata.namespace") or "default"
    return EntityRef(kind, namespace.lower(), name.lower())


def _parse_group(document: _Document, name: str, catalog: ParsedCatalog) -> None:
    catalog.groups.append(
        GroupEntity(
            origin=document.origin,
            ref=_ref_of(document, "group", name),
            slug=slug_for(name),
            name=(
                document.text("metadata.title") or document.text("spec.profile.displayName") or name
            ),
            description=document.text("metadata.description"),
            email=document.text("spec.profile.email"),
            member_usernames=tuple(
                _username_of(member) for member in document.strings("spec.members")
            ),
        )
    )


def _username_of(member: str) -> str:
    """The name of a user reference ("jdoe", "user:jdoe", "user:default/jdoe") as written:
    portal usernames, unlike Backstage names, are case-sensitive."""
    return member.rpartition(":")[2].rpartition("/")[2]


def _parse_user(document: _Document, name: str, catalog: ParsedCatalog) -> None:
    catalog.users.append(
        UserEntity(
            origin=document.origin,
            username=name,
            member_of=tuple(
                EntityRef.parse(group, default_kind="group")
                for group in document.strings("spec.memberOf")
            ),
        )
    )


def _parse_component(document: _Document, name: str, catalog: ParsedCatalog) -> None:
    ref = _ref_of(document, "component", name)
    kind = document.text("spec.type", required=True)
    lifecycle = document.text("spec.lifecycle", required=True)
    owner = EntityRef.parse(document.text("spec.owner", required=True), default_kind="group")
    system_ref = document.text("spec.system")
    system = EntityRef.parse(system_ref, default_kind="system").name if system_ref else ""

    depends_on, ignored = [], 0
    for entry in document.strings("spec.dependsOn"):
        dependency = EntityRef.parse(entry, default_kind="component")
        if dependency.kind != "component":
            ignored += 1
        elif dependency == ref:
            raise document.error("spec.dependsOn names the component itself")
        else:
            depends_on.append(dependency)

    tags = document.strings("metadata.tags")
    if system:
        tags.append(f"system:{system}")

    catalog.components.append(
        ComponentEntity(
            origin=document.origin,
            ref=ref,
            slug=slug_for(name),
            name=document.text("metadata.title") or name,
            description=document.text("metadata.description"),
            owner=owner,
            lifecycle=LIFECYCLES.get(lifecycle.lower(), Lifecycle.EXPERIMENTAL),
            kind=kind,
            system=system,
            tags=tuple(tags),
            optional_fields=_optional_service_fields(document),
            depends_on=tuple(depends_on),
            ignored_dependencies=ignored,
        )
    )


def _optional_service_fields(document: _Document) -> dict[str, object]:
    """Links, PagerDuty id and tier, from annotations and metadata.links."""
    annotations = document.annotations()
    linked: dict[str, str] = {}
    for index, link in enumerate(document.mappings("metadata.links")):
        label = f"metadata.links[{index}].url"
        url = document.url(document.as_text(link.get("url"), label, required=True), label)
        words = " ".join(str(link.get(key) or "") for key in ("title", "type", "icon")).lower()
        for service_field, keywords in LINK_KEYWORDS:
            if any(keyword in words for keyword in keywords):
                linked.setdefault(service_field, url)
                break

    def annotated_url(key: str) -> str:
        """The URL of a "url:<address>" location annotation; other locations have none."""
        value = annotations.get(key, "")
        if not value.startswith("url:"):
            return ""
        return document.url(value.removeprefix("url:"), f"metadata.annotations.{key}")

    project_slug = annotations.get("github.com/project-slug", "")
    candidates = {
        "repository_url": (
            annotated_url("backstage.io/source-location"),
            f"https://github.com/{project_slug}" if project_slug else "",
            linked.get("repository_url"),
        ),
        "runbook_url": (linked.get("runbook_url"), annotated_url("backstage.io/techdocs-ref")),
        "dashboard_url": (linked.get("dashboard_url"),),
        "oncall_url": (linked.get("oncall_url"),),
        "pagerduty_service_id": (annotations.get("pagerduty.com/service-id"),),
    }
    fields: dict[str, object] = {
        service_field: next(value for value in values if value)
        for service_field, values in candidates.items()
        if any(values)
    }
    if tier := annotations.get(TIER_ANNOTATION):
        if tier not in {str(value) for value in Tier.values}:
            raise document.error(
                f'metadata.annotations.{TIER_ANNOTATION} "{tier}" must be 1, 2 or 3'
            )
        fields["tier"] = int(tier)
    return fields


# Writing: resolve references, then create or update in one transaction.

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def import_sources(sources: list[Source]) -> ImportReport:
    """Import the sources all or nothing; BackstageImportError when any of them is invalid."""
    catalog = parse_sources(sources)
    report = ImportReport(skipped_kinds=catalog.skipped_kinds, unknown_kinds=catalog.unknown_kinds)
    with transaction.atomic():
        teams = _existing_teams_named(catalog)
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


def _existing_teams_named(catalog: ParsedCatalog) -> dict[EntityRef, Team]:
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
                service = service_create(tags=component.tags, **fields)
                outcomes[component.ref] = CREATED
            else:
                changed = _changed_fields(service, fields)
                current_tags = set(service.tags.values_list("slug", flat=True))
                new_tags = {slugify(tag) for tag in component.tags} - {""}
                tags = component.tags if new_tags != current_tags else None
                if changed or tags is not None:
                    service = service_update(service=service, tags=tags, **changed)
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
                service_update(service=service, depends_on=targets)
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
