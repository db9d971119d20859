"""Reads of the catalog for views, the API and reports: each a fixed number of queries."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from services.budget import EPOCH, Interval, WindowCounts, count_expected_buckets
from services.models import (
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    MaintenanceWindow,
    Membership,
    Service,
    SLIBucket,
    Tag,
    Team,
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


def slo_list() -> QuerySet[SLO]:
    """SLOs with their service, team and status snapshot in one query; the snapshot's figures
    are annotated under their own names so lists sort and filter on them."""
    return SLO.objects.select_related("service__owner_team", "status", "budget_policy").annotate(
        budget_remaining=F("status__remaining"), attainment=F("status__attainment")
    )


def slo_detail() -> QuerySet[SLO]:
    return slo_list().prefetch_related(
        Prefetch("maintenance_windows", queryset=MaintenanceWindow.objects.order_by("-start"))
    )


def budget_policy_list() -> QuerySet[BudgetPolicy]:
    return BudgetPolicy.objects.prefetch_related("tiers").order_by("name")


def policy_tier_names() -> list[str]:
    """Every tier name any policy uses, for filters: a snapshot's tier is one of them."""
    return sorted(set(BudgetPolicyTier.objects.values_list("name", flat=True)))


# --- SLI data: what the worker computes status snapshots from ------------------------------------


def slo_window_counts(
    *, slo_id: int, windows: Mapping[str, Interval], excluded: Sequence[Interval], until: datetime
) -> tuple[dict[str, WindowCounts], datetime | None]:
    """The event counts of every window in one query (SUM/COUNT ... FILTER per window), buckets
    in the `excluded` ranges (budget.excluded_bucket_ranges) left out; and the start of the newest
    bucket with data up to `until`, looking no further back than the earliest window."""
    outside_maintenance = Q()
    for start, end in excluded:
        outside_maintenance &= ~Q(start__gte=start, start__lt=end)
    sums = {"latest": Max("start", filter=Q(total__gt=0))}
    for index, (start, end) in enumerate(windows.values()):
        inside = Q(start__gte=start, start__lt=end) & outside_maintenance
        sums[f"good{index}"] = Sum("good", filter=inside, default=0)
        sums[f"total{index}"] = Sum("total", filter=inside, default=0)
        sums[f"present{index}"] = Count("pk", filter=inside & Q(total__gt=0))
    earliest = min(start for start, _ in windows.values())
    row = SLIBucket.objects.filter(slo_id=slo_id, start__gte=earliest, start__lte=until).aggregate(
        **sums
    )
    counts = {
        key: WindowCounts(
            good=row[f"good{index}"],
            total=row[f"total{index}"],
            buckets_present=row[f"present{index}"],
            buckets_expected=count_expected_buckets(start, end, excluded),
        )
        for index, (key, (start, end)) in enumerate(windows.items())
    }
    return counts, row["latest"]


def _outside_sql(excluded: Sequence[Interval]) -> tuple[str, list[datetime]]:
    conditions = " AND NOT (start >= %s AND start < %s)" * len(excluded)
    return conditions, [moment for interval in excluded for moment in interval]


def slo_counts_by_step(
    *,
    slo_id: int,
    start: datetime,
    end: datetime,
    excluded: Sequence[Interval],
    step: timedelta,
    origin: datetime = EPOCH,
) -> dict[int, tuple[int, int]]:
    """(good, total) of the buckets in [start, end) grouped by `step` counted from `origin`:
    {n: sums of the buckets starting in [origin + n x step, origin + (n + 1) x step)}, grouped in
    the database; groups without buckets are left out. Serves timeslices (step = slice length
    from the epoch), daily and hourly chart series."""
    outside, parameters = _outside_sql(excluded)
    sql = f"""
        SELECT floor((extract(epoch FROM start) - %s) / %s)::bigint AS part,
               SUM(good), SUM(total)
        FROM {SLIBucket._meta.db_table}
        WHERE slo_id = %s AND start >= %s AND start < %s {outside}
        GROUP BY part
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [origin.timestamp(), step.total_seconds(), slo_id, start, end, *parameters],
        )
        return {part: (int(good), int(total)) for part, good, total in cursor.fetchall()}


def slo_counts_by_month(
    *,
    slo_id: int,
    start: datetime,
    end: datetime,
    excluded: Sequence[Interval],
    time_zone: str,
    slice_length: timedelta | None = None,
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(good, total) of the buckets in [start, end) per calendar month in `time_zone`, keyed by
    (year, month): one entry per month, or with `slice_length` one per timeslice of the month (a
    slice crossing a month's edge is judged in each month on the buckets it has there)."""
    outside, parameters = _outside_sql(excluded)
    slice_seconds = slice_length.total_seconds() if slice_length else None
    sql = f"""
        SELECT date_trunc('month', start AT TIME ZONE %s) AS month,
               CASE WHEN %s::float8 IS NULL THEN 0
                    ELSE floor(extract(epoch FROM start) / %s::float8)::bigint END AS part,
               SUM(good), SUM(total)
        FROM {SLIBucket._meta.db_table}
        WHERE slo_id = %s AND start >= %s AND start < %s {outside}
        GROUP BY month, part
    """
    months: dict[tuple[int, int], list[tuple[int, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [time_zone, slice_seconds, slice_seconds, slo_id, start, end, *parameters]
        )
        for month, _, good, total in cursor.fetchall():
            months.setdefault((month.year, month.month), []).append((int(good), int(total)))
    return months
