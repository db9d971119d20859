"""Reads of the catalog (teams, memberships, tags, services) for views, the API, reports and
the org-wide features: each a fixed number of queries."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Lower

from portal.prepared import prepared
from services.choices import MembershipRole
from services.models.catalog import Membership, Service, Tag, Team


def _count_of(queryset, field) -> Coalesce:
    """A correlated COUNT per row: unlike Count() over a join it needs no GROUP BY of the
    whole row, and a paginator's COUNT(*) leaves it out."""
    counted = queryset.order_by().values(field).annotate(count=Count("*")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def service_list() -> QuerySet[Service]:
    dependencies = Service.depends_on.through.objects.filter(to_service=OuterRef("pk"))
    return (
        Service.objects.select_related("owner_team")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(dependent_count=_count_of(dependencies, "to_service"))
        .order_by(Lower("name"), "pk")
    )


def with_relation_keys(services: QuerySet[Service]) -> QuerySet[Service]:
    """``services`` with their tags' names (``tag_names``, by name) and the slugs of the
    services they depend on and of those depending on them (``depends_on_slugs``,
    ``dependent_slugs``, by slug) as lists, read in the services' own query: an API list
    shows only those keys, and three prefetches cost three queries and a model per row.
    PostgreSQL only (arrays)."""
    through = Service.depends_on.through.objects.order_by()
    return services.annotate(
        tag_names=ArraySubquery(
            Service.tags.through.objects.filter(service=OuterRef("pk"))
            .order_by("tag__name")
            .values("tag__name")
        ),
        depends_on_slugs=ArraySubquery(
            through.filter(from_service=OuterRef("pk"))
            .order_by("to_service__slug")
            .values("to_service__slug")
        ),
        dependent_slugs=ArraySubquery(
            through.filter(to_service=OuterRef("pk"))
            .order_by("from_service__slug")
            .values("from_service__slug")
        ),
    )


class TagName(NamedTuple):
    """What a list shows of a tag: its name, linking to the catalog filtered by its slug."""

    slug: str
    name: str


def with_tag_names(services: Iterable[Service]) -> list[Service]:
    """The services, each with `tag_list`: its tags' slugs and names in name order, in one
    query on the link table. The catalog shows them on every row; prefetching the tags
    would build a record and a related manager for each."""
    services = list(services)
    tags = defaultdict(list)
    if services:
        links = (
            Service.tags.through.objects.filter(service_id__in={service.pk for service in services})
            .order_by("tag__name", "tag_id")
            .values_list("service_id", "tag__slug", "tag__name")
        )
        for service_id, slug, name in links:
            tags[service_id].append(TagName(slug, name))
    for service in services:
        service.tag_list = tags[service.pk]
    return services


def service_detail() -> QuerySet[Service]:
    """Services with everything their page shows: owner, tags, both dependency directions."""
    neighbours = Service.objects.select_related("owner_team").order_by("name")
    return Service.objects.select_related("owner_team", "owner_team__manager").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("depends_on", queryset=neighbours),
        Prefetch("dependents", queryset=neighbours),
    )


def service_page() -> QuerySet[Service]:
    """Services with their owner team and its manager: what the service page shows beside its
    tags and dependencies (service_neighbours)."""
    return Service.objects.select_related("owner_team", "owner_team__manager")


@dataclass(frozen=True)
class Neighbour:
    """A tag of a service, or a service it depends on or that depends on it, by name."""

    name: str
    slug: str
    team_name: str = ""


@prepared
def _service_page_rows(*, slug):
    return service_page().filter(slug=slug)[:1]


def service_page_of(slug: str) -> Service | None:
    """The service of this slug as service_page reads it, or None (a prepared statement:
    portal.prepared)."""
    rows = _service_page_rows(slug=slug)
    return rows[0] if rows else None


_TAGS, _DEPENDS_ON, _DEPENDENTS = 0, 1, 2


@prepared
def _neighbour_rows(*, service):
    def named(queryset, part, team):
        # Annotations only, added in one order: a union matches its parts' columns by position;
        # unordered, as SQLite wants the parts of a union.
        return (
            queryset.order_by()
            .annotate(part=Value(part), label=F("name"), key=F("slug"), team=team)
            .values_list("part", "label", "key", "team")
        )

    return (
        named(Tag.objects.filter(services=service), _TAGS, Value(""))
        .union(
            named(Service.objects.filter(dependents=service), _DEPENDS_ON, F("owner_team__name")),
            named(Service.objects.filter(depends_on=service), _DEPENDENTS, F("owner_team__name")),
            all=True,
        )
        .order_by("part", "label")
    )


def service_neighbours(service: Service) -> tuple[list[Neighbour], list[Neighbour], list]:
    """The service's tags, the services it depends on and those that depend on it (with their
    teams' names), each by name: one query, a union of the three (prepared)."""
    rows = _neighbour_rows(service=service)
    found = ([], [], [])
    for part, name, slug, team_name in rows:
        found[part].append(Neighbour(name, slug, team_name))
    return found


def team_list() -> QuerySet[Team]:
    return (
        Team.objects.select_related("manager")
        .annotate(
            service_count=_count_of(
                Service.objects.filter(owner_team=OuterRef("pk")), "owner_team"
            ),
            member_count=_count_of(Membership.objects.filter(team=OuterRef("pk")), "team"),
        )
        .order_by(Lower("name"), "pk")
    )


def team_detail() -> QuerySet[Team]:
    return Team.objects.select_related("manager").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("user")),
        Prefetch("services", queryset=service_list().order_by("name")),
    )


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.annotate(service_count=Count("services")).order_by("name")


def team_ids_edited_by(user) -> frozenset[int]:
    """The teams in which the user is an engineer (portal.roles' source of team rights)."""
    memberships = Membership.objects.filter(user=user, role=MembershipRole.ENGINEER).order_by()
    return frozenset(memberships.values_list("team_id", flat=True))


def teams_of_person_and_counts(user) -> tuple[list[tuple[int, str, str, bool]], dict[str, int]]:
    """(id, slug, name, whether they edit its records) of the teams the user belongs to or
    manages, by name; and how many services and teams there are. One query, written as SQL:
    the home page asks on every view, and the ORM's build of the same query costs several
    times its run."""
    quote = connection.ops.quote_name
    teams = quote(Team._meta.db_table)
    members = quote(Membership._meta.db_table)
    services = quote(Service._meta.db_table)
    with connection.cursor() as cursor:
        # A plain LEFT JOIN on the condition (no LATERAL): SQLite, which `make run` uses,
        # runs it too. A person of no team still gets the counts, on one row of NULLs.
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {services}), (SELECT COUNT(*) FROM {teams}), "
            "team.id, team.slug, team.name, "
            f"EXISTS (SELECT 1 FROM {members} m "
            "WHERE m.team_id = team.id AND m.user_id = %s AND m.role = %s) "
            f"FROM (SELECT 1) AS one LEFT JOIN {teams} team ON (team.manager_id = %s "
            f"OR EXISTS (SELECT 1 FROM {members} m WHERE m.team_id = team.id AND m.user_id = %s)) "
            "ORDER BY LOWER(team.name), team.id",
            [user.pk, MembershipRole.ENGINEER.value, user.pk, user.pk],
        )
        rows = cursor.fetchall()
    counts = {"services": rows[0][0], "teams": rows[0][1]}
    teams_of_person = [
        (team_id, slug, name, bool(edits))
        for _, _, team_id, slug, name, edits in rows
        if team_id is not None
    ]
    return teams_of_person, counts


# --- for org-wide features (compliance checks) -----------------------------------------------


def service_ids_handling_personal_data() -> QuerySet:
    """Ids of the services that handle personal data (the default scope of compliance
    checks)."""
    return (
        Service.objects.filter(handles_personal_data=True).order_by().values_list("pk", flat=True)
    )


def service_ids_tagged(tag_ids) -> QuerySet:
    """(service id, tag id) of the services carrying any of these tags."""
    return (
        Service.tags.through.objects.filter(tag_id__in=tag_ids)
        .order_by()
        .values_list("service_id", "tag_id")
    )


def team_notification_addresses(team_id: int) -> list[str]:
    """Where a team's notifications go: its own address, or else its engineers' addresses."""
    team = Team.objects.filter(pk=team_id).values_list("email", flat=True).first()
    if team:
        return [team]
    return sorted(
        Membership.objects.filter(team_id=team_id, role=MembershipRole.ENGINEER)
        .exclude(user__email="")
        .filter(user__is_active=True)
        .values_list("user__email", flat=True)
    )


def service_rows() -> QuerySet[Service]:
    """Services with their owner team and nothing else: rows of org-wide tables (the
    compliance matrix)."""
    return Service.objects.select_related("owner_team").only(
        "pk",
        "name",
        "slug",
        "handles_personal_data",
        "data_retention_days",
        "owner_team__name",
        "owner_team__slug",
    )


# --- people of teams, for reminders and reports -------------------------------------------------


def team_managers() -> dict[int, int]:
    """{team id: its manager's user id} for the teams that have a manager."""
    return dict(Team.objects.exclude(manager=None).order_by().values_list("pk", "manager_id"))


def team_member_ids(role: str | None = None) -> dict[int, set[int]]:
    """{team id: ids of its members} (only those of ``role`` when given), in one query."""
    memberships = Membership.objects.order_by()
    if role is not None:
        memberships = memberships.filter(role=role)
    members: dict[int, set[int]] = {}
    for team_id, user_id in memberships.values_list("team_id", "user_id"):
        members.setdefault(team_id, set()).add(user_id)
    return members


def team_choices() -> list[tuple[int, str, str]]:
    """(id, slug, name) of every team, by name whatever the case."""
    return list(Team.objects.order_by(Lower("name"), "pk").values_list("pk", "slug", "name"))


# --- for the deploy gate and change risk (toil reads these) --------------------------------------


def service_dependency_closure(
    service_ids: Sequence[int], *, direction: str = "dependencies"
) -> dict[int, set[int]]:
    """For each of ``service_ids``, every service it depends on (``direction="dependencies"``)
    or that depends on it (``"dependents"``), directly or through others, in one recursive
    query; cycles in the catalog end the walk rather than loop it."""
    closure: dict[int, set[int]] = {service_id: set() for service_id in service_ids}
    if not closure:
        return closure
    table = Service.depends_on.through._meta.db_table
    near, far = (
        ("from_service_id", "to_service_id")
        if direction == "dependencies"
        else ("to_service_id", "from_service_id")
    )
    placeholders = ", ".join(["%s"] * len(closure))
    sql = f"""
        WITH RECURSIVE reach(root, id) AS (
            SELECT {near}, {far} FROM {table} WHERE {near} IN ({placeholders})
            UNION
            SELECT reach.root, link.{far} FROM {table} link JOIN reach ON link.{near} = reach.id
        )
        SELECT root, id FROM reach
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, list(closure))
        for root, reached in cursor.fetchall():
            if reached != root:
                closure[root].add(reached)
    return closure
