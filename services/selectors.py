"""Reads of the catalog for views, the API and reports: each a fixed number of queries."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import (
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.urls import reverse

from services.budget.windows import BUCKET, LOOKBACK_WINDOWS, Interval
from services.choices import MembershipRole, SLISource
from services.models.catalog import Membership, Service, Tag, Team
from services.models.slos import (
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    MaintenanceWindow,
    SLIBucket,
    SLIRollup,
)


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
        .order_by("name")
    )


def service_detail() -> QuerySet[Service]:
    """Services with everything their page shows: owner, tags, both dependency directions."""
    neighbours = Service.objects.select_related("owner_team").order_by("name")
    return Service.objects.select_related("owner_team", "owner_team__manager").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("depends_on", queryset=neighbours),
        Prefetch("dependents", queryset=neighbours),
    )


def team_list() -> QuerySet[Team]:
    return (
        Team.objects.select_related("manager")
        .annotate(
            service_count=_count_of(
                Service.objects.filter(owner_team=OuterRef("pk")), "owner_team"
            ),
            member_count=_count_of(Membership.objects.filter(team=OuterRef("pk")), "team"),
        )
        .order_by("name")
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


def teams_of_member(user) -> QuerySet[Team]:
    """The user's teams, with what team_detail() shows of each."""
    return team_detail().filter(memberships__user=user).order_by("name")


def catalog_counts() -> dict[str, int]:
    return {"services": Service.objects.count(), "teams": Team.objects.count()}


def slo_list() -> QuerySet[SLO]:
    """SLOs with their service, team and status snapshot in one query; the snapshot's figures
    are annotated under their own names so lists sort and filter on them. The chart series,
    the bulk of a snapshot, is left to the SLO's own page."""
    return (
        SLO.objects.select_related("service__owner_team", "status", "budget_policy")
        .defer("status__series")
        .annotate(budget_remaining=F("status__remaining"), attainment=F("status__attainment"))
    )


def slo_detail() -> QuerySet[SLO]:
    return (
        slo_list()
        .defer(None)
        .prefetch_related(
            Prefetch("maintenance_windows", queryset=MaintenanceWindow.objects.order_by("-start"))
        )
    )


def slos_synced_from_prometheus() -> QuerySet[SLO]:
    """The SLOs whose data the worker fetches from Prometheus: not those fed by pushes."""
    return SLO.objects.filter(source=SLISource.PROMETHEUS).order_by("pk")


def budget_policy_list() -> QuerySet[BudgetPolicy]:
    return BudgetPolicy.objects.prefetch_related("tiers").order_by("name")


def policy_tier_names() -> list[str]:
    """Every tier name any policy uses, for filters: a snapshot's tier is one of them."""
    return sorted(set(BudgetPolicyTier.objects.values_list("name", flat=True)))


# --- SLI data: what the worker computes status snapshots from ------------------------------------


@dataclass(frozen=True, slots=True)
class BucketRollup:
    """Sums of one SLO's buckets that share a day and an hour counted back from the observed
    end, a calendar month in the SLO's time zone (year, month) and, for timeslices, a slice (its
    index from the epoch). `days_back` 0 is the last day, the buckets ending in (end - 1 day,
    end], and None before the SLO's recent range (its window and the look-back windows);
    `hours_back` likewise by hour, set only in the last three days (the longest look-back
    window), so that older buckets make one rollup per day rather than 24; `buckets_back`
    likewise by bucket, set only in the last 30 minutes (the longest look-back window shorter
    than an hour). `present` counts buckets with data (total > 0). When a timeslice is one
    bucket long, the database judges each bucket itself (`good_slices`, `bad_slices`) and
    `slice` stays None."""

    days_back: int | None
    hours_back: int | None
    buckets_back: int | None
    month: tuple[int, int]
    slice: int | None
    good: int
    total: int
    present: int
    good_slices: int
    bad_slices: int


@dataclass(frozen=True, slots=True)
class RollupRequest:
    """One SLO's part of slo_bucket_rollups(): its data from `history` (its oldest month) with
    days counted back from `recent` on, months in `time_zone`, slices of `slice_seconds` good
    from `slice_target` (both None: occurrences), the bucket ranges `excluded` for maintenance
    (budget.excluded_bucket_ranges), and how to read it (snapshots.read_plan): the ranges of
    whole stored day and hour rollups, and the ranges to read bucket by bucket."""

    slo_id: int
    history: datetime
    recent: datetime
    time_zone: str
    slice_seconds: float | None
    slice_target: float | None
    excluded: Sequence[Interval]
    days: Sequence[Interval]
    hours: Sequence[Interval]
    buckets: Sequence[Interval]


_MONTH = "date_trunc('month', piece.start AT TIME ZONE piece.zone)"
_BACK = "floor((%(end_epoch)s - date_part('epoch', piece.start) - %(bucket_seconds)s)"

_ROLLUP_SQL = f"""
    WITH part(slo_id, span, low, high, recent, zone, slice_seconds, target) AS (
        SELECT * FROM unnest(%(ids)s::bigint[], %(spans)s::int[], %(lows)s::timestamptz[],
                             %(highs)s::timestamptz[], %(recents)s::timestamptz[],
                             %(zones)s::text[], %(slices)s::float8[], %(targets)s::float8[])
    ),
    piece(slo_id, recent, zone, slice_seconds, start, good, total, present, good_slices,
          bad_slices) AS (
        SELECT part.slo_id, part.recent, part.zone, part.slice_seconds, u.start, u.good, u.total,
               u.present, 0, 0
        FROM part
        JOIN {SLIRollup._meta.db_table} u
          ON u.slo_id = part.slo_id AND u.span = part.span
         AND u.start >= part.low AND u.start < part.high
        WHERE part.span > %(bucket_seconds)s
        UNION ALL
        SELECT part.slo_id, part.recent, part.zone, part.slice_seconds, b.start, b.good, b.total,
               CASE WHEN b.total > 0 THEN 1 ELSE 0 END,
               -- Division as budget.Timeslices.is_good() divides: the same IEEE doubles.
               CASE WHEN part.slice_seconds = %(bucket_seconds)s AND b.total > 0
                         AND b.good::float8 / b.total >= part.target THEN 1 ELSE 0 END,
               CASE WHEN part.slice_seconds = %(bucket_seconds)s AND b.total > 0
                         AND b.good::float8 / b.total < part.target THEN 1 ELSE 0 END
        FROM part
        JOIN {SLIBucket._meta.db_table} b
          ON b.slo_id = part.slo_id AND b.start >= part.low AND b.start < part.high
        WHERE part.span = %(bucket_seconds)s
    )
    SELECT piece.slo_id,
           CASE WHEN piece.start >= piece.recent THEN {_BACK} / 86400)::int END AS days_back,
           CASE WHEN piece.start >= %(since_3d)s THEN {_BACK} / 3600)::int END AS hours_back,
           CASE WHEN piece.start >= %(since_30m)s
                THEN {_BACK} / %(bucket_seconds)s)::int END AS buckets_back,
           (date_part('year', {_MONTH}) * 12 + date_part('month', {_MONTH}) - 1)::int,
           CASE WHEN piece.slice_seconds > %(bucket_seconds)s
                THEN floor(date_part('epoch', piece.start) / piece.slice_seconds)::bigint
           END AS part,
           SUM(piece.good)::bigint, SUM(piece.total)::bigint, SUM(piece.present)::bigint,
           SUM(piece.good_slices)::bigint, SUM(piece.bad_slices)::bigint
    FROM piece
    GROUP BY piece.slo_id, days_back, hours_back, buckets_back, {_MONTH}, part
"""


def _rollup_parameters(requests: Sequence[RollupRequest], *, end: datetime) -> dict:
    """_ROLLUP_SQL's parameters: a row per range of each request's read plan, carrying what
    the grouping needs of its SLO, so that each range is one index range scan."""
    columns: dict[str, list] = {
        name: []
        for name in ("ids", "spans", "lows", "highs", "recents", "zones", "slices", "targets")
    }
    for request in requests:
        plan = (
            (SLIRollup.Span.DAY, request.days),
            (SLIRollup.Span.HOUR, request.hours),
            (BUCKET.total_seconds(), request.buckets),
        )
        for span, ranges in plan:
            for low, high in ranges:
                columns["ids"].append(request.slo_id)
                columns["spans"].append(int(span))
                columns["lows"].append(low)
                columns["highs"].append(high)
                columns["recents"].append(request.recent)
                columns["zones"].append(request.time_zone)
                columns["slices"].append(request.slice_seconds)
                columns["targets"].append(request.slice_target)
    return columns | {
        "end_epoch": end.timestamp(),
        "bucket_seconds": BUCKET.total_seconds(),
        "since_3d": end - max(LOOKBACK_WINDOWS.values()),
        "since_30m": end - timedelta(minutes=30),
    }


def slo_bucket_rollups(
    requests: Sequence[RollupRequest], *, end: datetime
) -> dict[int, list[BucketRollup]]:
    """The rollups of many SLOs' buckets before `end`, maintenance left out, summed in the
    database in one query from the stored day and hour rollups where the request's plan reads
    them and from the buckets elsewhere: every figure of a snapshot (windows, timeslices, chart
    series, months) is a sum of rollups, so no bucket travels to Python. Databases other than
    PostgreSQL (the embedded SQLite of `make run`) get the same rollups summed in Python."""
    if connection.vendor != "postgresql":
        return _rollups_in_python(requests, end=end)
    parameters = _rollup_parameters(requests, end=end)
    rollups: dict[int, list[BucketRollup]] = {request.slo_id: [] for request in requests}
    with transaction.atomic(), connection.cursor() as cursor:
        # For this statement only: memory enough to group the batch in a hash table rather than
        # sort it on disk; no JIT compilation, which costs more than it saves here; and each
        # SLO's buckets read through the (slo, start) index with its settings straight from the
        # request row, which beats hashing millions of buckets against the requests.
        cursor.execute(
            "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true),"
            " set_config('enable_hashjoin', 'off', true),"
            " set_config('enable_mergejoin', 'off', true)"
        )
        cursor.execute(_ROLLUP_SQL, parameters)
        for row in cursor.fetchall():
            slo_id, days_back, hours_back, buckets_back, month, part, *sums = row
            good, total, present, good_slices, bad_slices = sums
            year, month_index = divmod(month, 12)
            rollups[slo_id].append(
                BucketRollup(
                    days_back,
                    hours_back,
                    buckets_back,
                    (year, month_index + 1),
                    part,
                    good,
                    total,
                    present,
                    good_slices,
                    bad_slices,
                )
            )
    return rollups


def _rollups_in_python(
    requests: Sequence[RollupRequest], *, end: datetime
) -> dict[int, list[BucketRollup]]:
    """What _ROLLUP_SQL computes, from the buckets themselves: for small databases only."""
    since_3d = end - max(LOOKBACK_WINDOWS.values())
    since_30m = end - timedelta(minutes=30)
    rollups = {}
    for request in requests:
        zone = ZoneInfo(request.time_zone)
        slice_seconds = request.slice_seconds or 0
        sums: dict[tuple, list[int]] = {}
        buckets = SLIBucket.objects.filter(
            slo_id=request.slo_id, start__gte=request.history, start__lt=end
        ).values_list("start", "good", "total")
        for start, good, total in buckets:
            if any(first <= start < stop for first, stop in request.excluded):
                continue
            back = (end - start - BUCKET).total_seconds()
            local = start.astimezone(zone)
            key = (
                int(back // 86400) if start >= request.recent else None,
                int(back // 3600) if start >= since_3d else None,
                int(back // BUCKET.total_seconds()) if start >= since_30m else None,
                (local.year, local.month),
                int(start.timestamp() // slice_seconds) if slice_seconds > BUCKET.seconds else None,
            )
            judged = slice_seconds == BUCKET.seconds and total > 0
            row = sums.setdefault(key, [0, 0, 0, 0, 0])
            row[0] += good
            row[1] += total
            row[2] += total > 0
            row[3] += judged and good / total >= request.slice_target
            row[4] += judged and good / total < request.slice_target
        rollups[request.slo_id] = [BucketRollup(*key, *row) for key, row in sums.items()]
    return rollups


def slo_latest_data(slo_ids: Sequence[int], *, until: datetime) -> dict[int, datetime | None]:
    """The start of each SLO's newest bucket with data up to `until` (maintenance or not), in
    one query: an index scan backwards per SLO, which stops at the first bucket with data."""
    if connection.vendor != "postgresql":
        latest = (
            SLIBucket.objects.filter(slo_id__in=slo_ids, total__gt=0, start__lte=until)
            .values("slo_id")
            .annotate(latest=Max("start"))
        )
        return dict.fromkeys(slo_ids) | {row["slo_id"]: row["latest"] for row in latest}
    sql = f"""
        SELECT request.slo_id,
               (SELECT MAX(start) FROM {SLIBucket._meta.db_table}
                WHERE slo_id = request.slo_id AND total > 0 AND start <= %s)
        FROM unnest(%s::bigint[]) AS request(slo_id)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [until, list(slo_ids)])
        return dict(cursor.fetchall())


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


@dataclass(frozen=True)
class SLOChangeRule:
    """An SLO of a service and what its budget's current policy tier means for changes
    (services.choices.ChangeRule; "" while the SLO has no snapshot or its tier is unknown)."""

    slo_id: int
    service_id: int
    slo_name: str
    url: str
    tier_name: str
    change_rule: str


def slo_change_rules(service_ids: Sequence[int]) -> list[SLOChangeRule]:
    """The change rule each SLO of the services is under now, from its status snapshot and its
    budget policy (the default one when it names none): one query."""
    default_policy = BudgetPolicy.objects.filter(is_default=True).values("pk")[:1]
    rule = BudgetPolicyTier.objects.filter(
        policy_id=Coalesce(
            OuterRef("budget_policy_id"), Subquery(default_policy), output_field=IntegerField()
        ),
        name=OuterRef("status__policy_tier"),
    ).values("change_rule")[:1]
    rows = (
        SLO.objects.filter(service_id__in=list(service_ids))
        .annotate(tier_name=F("status__policy_tier"), change_rule=Subquery(rule))
        .order_by("service_id", "name")
        .values_list(
            "pk", "service_id", "name", "slug", "service__slug", "tier_name", "change_rule"
        )
    )
    return [
        SLOChangeRule(
            slo_id=pk,
            service_id=service_id,
            slo_name=name,
            url=reverse("slo_detail", args=[service_slug, slug]),
            tier_name=tier_name or "",
            change_rule=change_rule or "",
        )
        for pk, service_id, name, slug, service_slug, tier_name, change_rule in rows
    ]
