"""Writes of SLI data: buckets pushed by other systems and the sync from Prometheus (the data
itself lives in services.sli; what follows from a write, dirty SLOs and their recompute, in
services.actions.statuses)."""

import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from services import prometheus
from services.actions.statuses import slo_statuses_recompute, slos_mark_dirty
from services.budget.windows import BUCKET, Bucket, align_down
from services.choices import QueryKind, SLISource
from services.models.slos import MAX_BUCKET_EVENTS, SLO, SLIBucket, SLOStatus, query_over
from services.sli import plan
from services.sli.store import slo_buckets_upsert

logger = logging.getLogger(__name__)

# --- pushes --------------------------------------------------------------------------------------

#: Most buckets one push may carry: a month of 5-minute buckets with room to spare.
MAX_PUSHED_BUCKETS = 10_000
#: How far back a pushed bucket may start: the longest SLO window (366 days) and the year of
#: monthly history, with room to spare; anything older is a clock or encoding mistake.
MAX_PUSHED_AGE = timedelta(days=400)


def slo_buckets_push(*, slo: SLO, buckets: Iterable[Mapping]) -> int:
    """Store buckets pushed by a source other than Prometheus: each {start, good, total} with the
    start an aware datetime on a 5-minute boundary, not in the future nor more than
    MAX_PUSHED_AGE ago, and 0 <= good <= total <= MAX_BUCKET_EVENTS.

    Only SLOs fed by pushes take them: a push into a synced SLO would move its sync past a gap.
    All or nothing: one bad bucket stores none, and the errors name every bad bucket by its
    position. Idempotent on start (a bucket pushed again replaces the stored one); the SLO is
    marked dirty, so its status is recomputed shortly after the push has committed (or by the
    sweep, if the broker was down)."""
    if slo.source != SLISource.PUSH:
        raise ValidationError(
            {
                "source": "This SLO's data is synced from Prometheus: it takes no pushed "
                "buckets. Set its source to push first."
            }
        )
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
        slos_mark_dirty(slo_ids=[slo.pk])
    return stored


def _pushed_bucket(item: Mapping, now: datetime) -> Bucket:
    start, good, total = item["start"], item["good"], item["total"]
    if not isinstance(start, datetime):
        raise TypeError("start must be a date and time.")
    for name, count in (("good", good), ("total", total)):
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"{name} must be a whole number.")
        if count > MAX_BUCKET_EVENTS:
            raise ValueError(f"{name} must be at most {MAX_BUCKET_EVENTS} events per bucket.")
    if align_down(start) != start:
        raise ValueError(f"start {start.isoformat()} must fall on a 5-minute boundary.")
    bucket = Bucket(start=start, good=good, total=total)
    if bucket.start > now:
        raise ValueError(f"start {bucket.start.isoformat()} lies in the future.")
    if bucket.start < now - MAX_PUSHED_AGE:
        raise ValueError(
            f"start {bucket.start.isoformat()} lies more than {MAX_PUSHED_AGE.days} days back."
        )
    return bucket


# --- Prometheus sync -----------------------------------------------------------------------------
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
    outcome: SyncOutcome


def sli_query(query: str) -> str:
    """The Sloth-form query measuring one bucket: {{.window}} becomes the bucket length."""
    return query_over(query, f"{BUCKET // timedelta(minutes=1)}m")


def _buckets_from_rates(
    slo: SLO, events: Mapping[datetime, float], totals: Mapping[datetime, float]
) -> list[Bucket]:
    """Counts per bucket from per-second rates evaluated at each bucket's end. A bucket needs a
    total; where the events query has no value (no series matched) there were no such events.
    Rounding and extrapolation may push good past total by a fraction: good is capped. A total
    past MAX_BUCKET_EVENTS is no measurement (a counter gone wrong): no data, with a log line."""
    seconds = BUCKET.total_seconds()
    buckets = []
    for evaluated_at, total_rate in sorted(totals.items()):
        if math.isnan(total_rate) or math.isinf(total_rate):
            continue
        event_rate = events.get(evaluated_at, 0.0)
        total = max(0, round(total_rate * seconds))
        if total > MAX_BUCKET_EVENTS:
            logger.warning(
                "SLO %s: Prometheus counted %s events in the bucket ending %s, more than a "
                "bucket may hold; the bucket is left without data.",
                slo.pk,
                total,
                evaluated_at.isoformat(),
            )
            continue
        counted = 0
        if not (math.isnan(event_rate) or math.isinf(event_rate)):
            counted = min(max(0, round(event_rate * seconds)), total)
        good = counted if slo.query_kind == QueryKind.GOOD_TOTAL else total - counted
        buckets.append(
            Bucket(start=evaluated_at - BUCKET, good=min(max(good, 0), total), total=total)
        )
    return buckets


def slo_sync(*, slo: SLO, now: datetime) -> SyncResult:
    """Fetch the SLO's buckets from Prometheus since the last stored one, store them, record how
    the sync went on its status and mark it dirty; the recompute of a sync cycle's SLOs comes
    once for all of them (services.tasks.sync_slis rings it).

    The last stored bucket is fetched again (it may have been stored before its last scrape
    arrived); after an outage the backfill reaches back at most to the start of the SLO window.
    Chunks are stored as they arrive, so a failure loses nothing fetched before it. On a
    Prometheus error the status is marked stale with the error, and the error is raised again
    for the caller to retry (or not: see error.retryable)."""
    started = time.perf_counter()
    window_start, _ = plan.window(slo, now)
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
        _sync_outcome_record(slo=slo, now=now, outcome=outcome)
        raise
    outcome = SyncOutcome(time.perf_counter() - started)
    _sync_outcome_record(slo=slo, now=now, outcome=outcome)
    return SyncResult(slo=slo, buckets_written=written, outcome=outcome)


@transaction.atomic
def _sync_outcome_record(*, slo: SLO, now: datetime, outcome: SyncOutcome) -> None:
    """Write the sync's outcome on the SLO's status (a failure makes it stale at once; its
    figures follow with the recompute) and mark the SLO dirty. Without a status yet, one is
    computed now, so that the outcome has somewhere to live."""
    fields = {"last_sync_error": outcome.error, "last_sync_seconds": outcome.seconds}
    if outcome.error:
        counter = "retryable_sync_errors" if outcome.retryable else "permanent_sync_errors"
        fields |= {"stale": True, counter: F(counter) + 1}
    else:
        fields["last_sync_at"] = now
    if not SLOStatus.objects.filter(slo=slo).update(**fields):
        slo_statuses_recompute(now=now, slos=[slo])
        SLOStatus.objects.filter(slo=slo).update(**fields)
    slos_mark_dirty(slo_ids=[slo.pk], ring=False)
