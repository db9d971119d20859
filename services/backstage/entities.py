"""Parsing: the YAML documents of catalog sources to plain entity records, without the database.

The first problem stops parsing with a BackstageImportError naming the source, the document
(1-based, counting every document of the file) and the field.
"""

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from portal import safe_yaml
from services.backstage.sources import BackstageImportError, Source
from services.choices import Lifecycle, Tier

CATALOG_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
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
validate_url = URLValidator(schemes=["http", "https"])


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
        for data in safe_yaml.load_all(source.text):
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
            validate_url(value)
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
        elif dependency not in depends_on:
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
            document.url(
                f"https://github.com/{project_slug}", "metadata.annotations.github.com/project-slug"
            )
            if project_slug
            else "",
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
