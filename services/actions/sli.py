"""Writes of SLI data and what follows from it: buckets and their rollups (synced from
Prometheus or pushed), and the status snapshots computed from them."""

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Count, F, Max, Q, Sum, Value
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from portal import doorbell
from services import prometheus, snapshots, tasks
from services.actions.scorecards import checks_mark_dirty
from services.budget.figures import DEFAULT_TIERS
from services.budget.windows import (
    BUCKET,
    Bucket,
    Interval,
    align_down,
    ceil_to,
    excluded_bucket_ranges,
    floor_to,
)
from services.checks.catalog import MIN_COVERAGE
from services.choices import QueryKind
from services.models.slos import (
    SLO,
    BudgetPolicy,
    MaintenanceWindow,
    SLIBucket,
    SLIRollup,
    SLOStatus,
    query_over,
)
from services.selectors import slos as slo_selectors

# --- SLI data and status snapshots ---------------------------------------------------------------

#: Most buckets one push may carry: a month of 5-minute buckets with room to spare.
MAX_PUSHED_BUCKETS = 10_000


@transaction.atomic
def slo_buckets_upsert(*, slo: SLO, buckets: Iterable[Bucket]) -> int:
    """Store buckets, replacing those stored for the same starts, so that a re-sync or a re-push
    of a bucket never counts it twice, and re-sum the rollups they fall in. Returns how many
    buckets were written.

    Writes to one SLO take turns (a lock on its row): a rollup re-summed while another write's
    buckets in the same hour were not yet committed would leave them out."""
    SLO.objects.select_for_update().filter(pk=slo.pk).exists()
    rows = {
        bucket.start: SLIBucket(slo=slo, start=bucket.start, good=bucket.good, total=bucket.total)
        for bucket in buckets
    }
    SLIBucket.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["slo", "start"],
        update_fields=["good", "total"],
        batch_size=2000,
    )
    if rows:
        slo_rollups_refresh(slo_ids=[slo.pk], since=min(rows), until=max(rows) + BUCKET)
    return len(rows)


def slo_rollups_refresh(
    *,
    slo_ids: Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket_model=SLIBucket,
    rollup_model=SLIRollup,
) -> None:
    """Re-sum the hour and day rollups of the SLOs' buckets (every SLO's by default) in the
    hours and days that [since, until) touches (all by default), each span in one INSERT …
    SELECT in the database. Buckets are only ever added or replaced, never removed on their own
    (they go with their SLO, and so do its rollups), so upserting every touched unit keeps the
    rollups equal to the sums of the buckets. The models are parameters for the migration that
    builds the first rollups with its historical models."""
    for span, truncate in ((SLIRollup.Span.HOUR, TruncHour), (SLIRollup.Span.DAY, TruncDay)):
        length = timedelta(seconds=span)
        buckets = bucket_model.objects.order_by()
        if slo_ids is not None:
            buckets = buckets.filter(slo_id__in=slo_ids)
        if since is not None:
            buckets = buckets.filter(start__gte=floor_to(since, length))
        if until is not None:
            buckets = buckets.filter(start__lt=ceil_to(until, length))
        sums = (
            buckets.annotate(unit=truncate("start", tzinfo=UTC))
            .values("slo_id", "unit")
            .annotate(
                good_sum=Sum("good"),
                total_sum=Sum("total"),
                present=Count("pk", filter=Q(total__gt=0)),
                span=Value(int(span)),
            )
        )
        select, parameters = sums.query.sql_with_params()
        quote = connection.ops.quote_name
        columns = ", ".join(map(quote, ["slo_id", "start", "good", "total", "present", "span"]))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(rollup_model._meta.db_table)} ({columns}) {select}"
                " ON CONFLICT (slo_id, span, start) DO UPDATE SET good = excluded.good,"
                " total = excluded.total, present = excluded.present",
                parameters,
            )


def slo_buckets_push(*, slo: SLO, buckets: Iterable[Mapping]) -> int:
    """Store buckets pushed by a source other than Prometheus: each {start, good, total} with the
    start an aware datetime on a 5-minute boundary, not in the future, and 0 <= good <= total.

    All or nothing: one bad bucket stores none, and the errors name every bad bucket by its
    position. Idempotent on start (a bucket pushed again replaces the stored one); the SLO's
    status is recomputed once the push has committed."""
    now = timezone.now()
    checked, errors, starts = [], [], set()
    for position, item in enumerate(buckets):
        try:
            bucket = _pushed_bucket(item, now)
        except (ValueError, TypeError, KeyError) as error:
            errors.append(f"Bucket {position}: {error}")
            continue
        if bucket.start in starts:
            errors.append(f"Bucket {position}: start {bucket.start.isoformat()} is given twice.")
        starts.add(bucket.start)
        checked.append(bucket)
    if not errors and not checked:
        errors.append("Push at least one bucket.")
    if len(checked) > MAX_PUSHED_BUCKETS:
        errors.append(f"Push at most {MAX_PUSHED_BUCKETS} buckets at a time.")
    if errors:
        raise ValidationError({"buckets": errors})
    with transaction.atomic():
        stored = slo_buckets_upsert(slo=slo, buckets=checked)
        doorbell.ring_on_commit(tasks.recompute_slo_status, slo.pk)
    return stored


def _pushed_bucket(item: Mapping, now: datetime) -> Bucket:
    start, good, total = item["start"], item["good"], item["total"]
    if not isinstance(start, datetime):
        raise TypeError("start must be a date and time.")
    for name, count in (("good", good), ("total", total)):
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"{name} must be a whole number.")
    if align_down(start) != start:
        raise ValueError(f"start {start.isoformat()} must fall on a 5-minute boundary.")
    bucket = Bucket(start=start, good=good, total=total)
    if bucket.start > now:
        raise ValueError(f"start {bucket.start.isoformat()} lies in the future.")
    return bucket


# Prometheus sync.
#
# The SLO's queries are in Sloth's form: events per second averaged over {{.window}}. With
# {{.window}} = 5m and the query evaluated at t, Prometheus averages the counters' increase over
# the 5 minutes ending at t, so the bucket [t - 5m, t) holds rate x 300 s events (rate() and
# increase() both handle counter resets). Prometheus extrapolates to the range's edges when
# scrapes do not fall on them, so counts are rounded to whole events. An evaluation time without
# a value (a gap in the scrapes) is a bucket without data, never a perfect one.

#: Longest range asked for in one query: Prometheus refuses more than 11,000 points per series.
SYNC_CHUNK = timedelta(days=7)


@dataclass(frozen=True)
class SyncOutcome:
    """How a sync from Prometheus went: how long it took, and its error ("" when it worked),
    which a retry may cure or not."""

    seconds: float
    error: str = ""
    retryable: bool = False


@dataclass(frozen=True)
class SyncResult:
    slo: SLO
    buckets_written: int
    status: SLOStatus


def sli_query(query: str) -> str:
    """The Sloth-form query measuring one bucket: {{.window}} becomes the bucket length."""
    return query_over(query, f"{BUCKET // timedelta(minutes=1)}m")


def _buckets_from_rates(
    slo: SLO, events: Mapping[datetime, float], totals: Mapping[datetime, float]
) -> list[Bucket]:
    """Counts per bucket from per-second rates evaluated at each bucket's end. A bucket needs a
    total; where the events query has no value (no series matched) there were no such events.
    Rounding and extrapolation may push good past total by a fraction: good is capped."""
    seconds = BUCKET.total_seconds()
    buckets = []
    for evaluated_at, total_rate in sorted(totals.items()):
        if math.isnan(total_rate):
            continue
        event_rate = events.get(evaluated_at, 0.0)
        total = max(0, round(total_rate * seconds))
        counted = 0 if math.isnan(event_rate) else max(0, round(event_rate * seconds))
        good = counted if slo.query_kind == QueryKind.GOOD_TOTAL else total - counted
        buckets.append(
            Bucket(start=evaluated_at - BUCKET, good=min(max(good, 0), total), total=total)
        )
    return buckets


def slo_sync(*, slo: SLO, now: datetime) -> SyncResult:
    """Fetch the SLO's buckets from Prometheus since the last stored one, store them and
    recompute its status.

    The last stored bucket is fetched again (it may have been stored before its last scrape
    arrived); after an outage the backfill reaches back at most to the start of the SLO window.
    Chunks are stored as they arrive, so a failure loses nothing fetched before it. On a
    Prometheus error the status is recomputed from the stored data, marked stale with the error,
    and the error is raised again for the caller to retry (or not: see error.retryable)."""
    started = time.perf_counter()
    window_start, _ = snapshots.window(slo, now)
    last_stored = SLIBucket.objects.filter(slo=slo).aggregate(last=Max("start"))["last"]
    chunk_start = max(window_start, last_stored) if last_stored else window_start
    until = align_down(now)
    written = 0
    try:
        while chunk_start < until:
            chunk_end = min(until, chunk_start + SYNC_CHUNK)
            span = {
                "start": chunk_start + BUCKET,
                "end": chunk_end,
                "step": BUCKET,
            }
            events = prometheus.query_range(sli_query(slo.events_query), **span)
            totals = prometheus.query_range(sli_query(slo.total_query), **span)
            written += slo_buckets_upsert(slo=slo, buckets=_buckets_from_rates(slo, events, totals))
            chunk_start = chunk_end
    except prometheus.PrometheusError as error:
        outcome = SyncOutcome(time.perf_counter() - started, str(error), error.retryable)
        slo_status_recompute(slo=slo, now=now, sync=outcome)
        raise
    outcome = SyncOutcome(time.perf_counter() - started)
    status = slo_status_recompute(slo=slo, now=now, sync=outcome)
    return SyncResult(slo=slo, buckets_written=written, status=status)


# Status snapshots.

#: SLOs whose buckets one rollup query reads.
ROLLUP_BATCH = 250


def _snapshot_inputs(slos: Sequence[SLO]) -> dict[int, snapshots.SnapshotInputs]:
    """Maintenance windows and policy tiers of many SLOs in three queries."""
    windows: dict[int, list[Interval]] = {}
    for slo_id, start, end in MaintenanceWindow.objects.filter(
        slo_id__in=[slo.pk for slo in slos]
    ).values_list("slo_id", "start", "end"):
        windows.setdefault(slo_id, []).append((start, end))
    policies = list(BudgetPolicy.objects.prefetch_related("tiers"))
    tiers = {policy.pk: snapshots.policy_tiers(policy) for policy in policies}
    default_policy = next((policy.pk for policy in policies if policy.is_default), None)
    stale_after = timedelta(minutes=settings.SLI_STALE_AFTER_MINUTES)
    return {
        slo.pk: snapshots.SnapshotInputs(
            excluded=excluded_bucket_ranges(windows.get(slo.pk, [])),
            tiers=tiers.get(slo.budget_policy_id or default_policy, DEFAULT_TIERS),
            stale_after=stale_after,
        )
        for slo in slos
    }


#: What the readiness and maturity checks read of a snapshot (services.selectors.checks).
CHECKED_STATUS_FIELDS = ("stale", "coverage", "remaining", "alert")


def _checked_facts(fields) -> tuple:
    """A snapshot's figures as the checks judge them: a sync every minute changes coverage and
    budget a little, and re-scoring the service only matters when a verdict could change."""
    coverage, remaining = fields["coverage"], fields["remaining"]
    return (
        fields["stale"],
        coverage is not None and coverage >= MIN_COVERAGE,
        remaining is not None and remaining < 0,
        fields["alert"],
    )


def _status_fields(slos: Sequence[SLO], now: datetime) -> dict[int, dict]:
    """The snapshot fields of each SLO: two queries per batch of SLOs, whatever their data."""
    inputs = _snapshot_inputs(slos)
    fields = {}
    for first in range(0, len(slos), ROLLUP_BATCH):
        batch = slos[first : first + ROLLUP_BATCH]
        requests = [snapshots.rollup_request(slo, now, inputs[slo.pk].excluded) for slo in batch]
        rollups = slo_selectors.slo_bucket_rollups(requests, end=align_down(now))
        latest = slo_selectors.slo_latest_data([slo.pk for slo in batch], until=now)
        for slo in batch:
            fields[slo.pk] = snapshots.status_fields(
                slo, now, rollups[slo.pk], latest[slo.pk], inputs[slo.pk]
            )
    return fields


@transaction.atomic
def slo_status_recompute(*, slo: SLO, now: datetime, sync: SyncOutcome | None = None) -> SLOStatus:
    """Compute the SLO's snapshot from its stored buckets and store it, with the outcome of the
    sync from Prometheus that preceded it: after a successful one the last sync time is set;
    after a failed one its error stands (the snapshot stays stale while it does) and the failed
    syncs are counted by kind. Without a sync (a push, an edit) the last outcome is kept."""
    fields = _status_fields([slo], now)[slo.pk]
    if sync is None:
        failing = SLOStatus.objects.filter(slo=slo).exclude(last_sync_error="").exists()
    else:
        fields["last_sync_error"] = sync.error
        fields["last_sync_seconds"] = sync.seconds
        if not sync.error:
            fields["last_sync_at"] = now
        failing = bool(sync.error)
    fields["stale"] = fields["stale"] or failing
    before = SLOStatus.objects.filter(slo=slo).values(*CHECKED_STATUS_FIELDS).first()
    status, _ = SLOStatus.objects.update_or_create(slo=slo, defaults=fields)
    if before is None or _checked_facts(before) != _checked_facts(fields):
        checks_mark_dirty(service_ids=[slo.service_id])
    if failing and sync is not None:
        counter = "retryable_sync_errors" if sync.retryable else "permanent_sync_errors"
        SLOStatus.objects.filter(slo=slo).update(**{counter: F(counter) + 1})
        status.refresh_from_db(fields=[counter])
    return status


def slo_statuses_recompute(*, now: datetime, slos: Iterable[SLO] | None = None) -> int:
    """Recompute the snapshot of every SLO (or of `slos`) from stored buckets, in batches of
    ROLLUP_BATCH SLOs: each batch's figures in two queries (batches side by side, see
    _figures_of_batches), its snapshots in one statement. Sync outcomes (last sync time and
    error) are kept, and an SLO whose last sync failed stays stale. Returns how many snapshots
    were written."""
    slos = list(SLO.objects.order_by("pk") if slos is None else slos)
    failing = set(
        SLOStatus.objects.filter(slo__in=slos)
        .exclude(last_sync_error="")
        .values_list("slo_id", flat=True)
    )
    figures = [
        field.name
        for field in SLOStatus._meta.concrete_fields
        if field.name != "slo" and field.name not in SLOStatus.SYNC_OUTCOME_FIELDS
    ]
    batches = [slos[first : first + ROLLUP_BATCH] for first in range(0, len(slos), ROLLUP_BATCH)]
    written = 0
    for batch, fields_by_slo in zip(batches, _figures_of_batches(batches, now), strict=True):
        statuses = []
        for slo in batch:
            fields = fields_by_slo[slo.pk]
            fields["stale"] = fields["stale"] or slo.pk in failing
            statuses.append(SLOStatus(slo=slo, **fields))
        with transaction.atomic():
            SLOStatus.objects.bulk_create(
                statuses, update_conflicts=True, unique_fields=["slo"], update_fields=figures
            )
            checks_mark_dirty(service_ids={slo.service_id for slo in batch})
        written += len(statuses)
    return written


#: Batches whose figures are computed side by side, each on its own database connection: while
#: PostgreSQL sums one batch's buckets, Python turns another's rollups into snapshots.
RECOMPUTE_THREADS = 2


def _figures_of_batches(batches: list[list[SLO]], now: datetime):
    """_status_fields() of each batch, in order. In threads when there are several batches and
    no transaction is open: another connection sees only committed buckets."""
    if len(batches) < 2 or connection.in_atomic_block:
        return (_status_fields(batch, now) for batch in batches)
    pool = ThreadPoolExecutor(RECOMPUTE_THREADS)
    try:
        return list(pool.map(_status_fields_on_own_connection, batches, repeat(now)))
    finally:
        pool.shutdown()


def _status_fields_on_own_connection(slos: list[SLO], now: datetime) -> dict[int, dict]:
    try:
        return _status_fields(slos, now)
    finally:
        connections.close_all()  # this thread's connections only
