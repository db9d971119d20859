"""Storing SLI data: buckets, and the hour and day rollups every bucket write keeps equal to
their sums (with, for timeslice SLOs, their slices judged)."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction

from services.budget.windows import BUCKET, Bucket, ceil_to, floor_to
from services.choices import BudgetingMethod
from services.models.slos import SLO, SLIBucket, SLIRollup


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


_COLUMNS = ("slo_id", "span", "start", "good", "total", "present", "good_slices", "bad_slices")

# Each unit's buckets summed by slice first: slices of the SLO's length where the SLO uses
# timeslices that fit the unit a whole number of times (each judged like
# budget.figures.Timeslices.is_good(), by a division of doubles), else the unit as one piece.
_REFRESH_SQL = """
    INSERT INTO {rollup} ({columns})
    SELECT slo_id, %(span)s, to_timestamp(unit * %(span)s), SUM(good), SUM(total), SUM(present),
           COUNT(*) FILTER (WHERE judged AND total > 0 AND good::float8 / total >= target),
           COUNT(*) FILTER (WHERE judged AND total > 0 AND good::float8 / total < target)
    FROM (
        SELECT b.slo_id, floor(date_part('epoch', b.start) / %(span)s)::bigint AS unit,
               slo.judged, slo.target,
               SUM(b.good) AS good, SUM(b.total) AS total,
               COUNT(*) FILTER (WHERE b.total > 0) AS present
        FROM {bucket} b
        JOIN (
            SELECT id, judged, (slice_target / 100)::float8 AS target,
                   CASE WHEN judged THEN slice_minutes * 60 ELSE %(span)s END AS slice_seconds
            FROM (
                SELECT id, slice_target, slice_minutes,
                       COALESCE(budgeting_method = %(timeslices)s AND slice_minutes > 0
                                AND %(span)s %% (slice_minutes * 60) = 0, false) AS judged
                FROM {slo}
            ) definition
        ) slo ON slo.id = b.slo_id
        WHERE {where}
        GROUP BY b.slo_id, unit, floor(date_part('epoch', b.start) / slo.slice_seconds),
                 slo.judged, slo.target
    ) slices
    GROUP BY slo_id, unit
    ON CONFLICT (slo_id, span, start) DO UPDATE SET
        good = excluded.good, total = excluded.total, present = excluded.present,
        good_slices = excluded.good_slices, bad_slices = excluded.bad_slices
"""


def slo_rollups_refresh(
    *,
    slo_ids: Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    slo_model=SLO,
    bucket_model=SLIBucket,
    rollup_model=SLIRollup,
) -> None:
    """Re-sum the hour and day rollups of the SLOs' buckets (every SLO's by default) in the
    hours and days that [since, until) touches (all by default). Buckets are only ever added or
    replaced, never removed on their own (they go with their SLO, and so do its rollups), so
    upserting every touched unit keeps the rollups equal to the sums of the buckets. On
    PostgreSQL each span is one INSERT ... SELECT; elsewhere the sums are made here. The models
    are parameters for the migrations, which pass their historical ones."""
    for span in SLIRollup.Span:
        length = timedelta(seconds=span)
        low = None if since is None else floor_to(since, length)
        high = None if until is None else ceil_to(until, length)
        if connection.vendor == "postgresql":
            _refresh_in_postgresql(span, slo_ids, low, high, slo_model, bucket_model, rollup_model)
        else:
            _refresh_in_python(span, slo_ids, low, high, slo_model, bucket_model, rollup_model)


def _refresh_in_postgresql(span, slo_ids, low, high, slo_model, bucket_model, rollup_model):
    conditions, parameters = ["true"], {"span": int(span), "timeslices": BudgetingMethod.TIMESLICES}
    if slo_ids is not None:
        conditions.append("b.slo_id = ANY(%(ids)s)")
        parameters["ids"] = list(slo_ids)
    if low is not None:
        conditions.append("b.start >= %(low)s")
        parameters["low"] = low
    if high is not None:
        conditions.append("b.start < %(high)s")
        parameters["high"] = high
    quote = connection.ops.quote_name
    sql = _REFRESH_SQL.format(
        rollup=quote(rollup_model._meta.db_table),
        bucket=quote(bucket_model._meta.db_table),
        slo=quote(slo_model._meta.db_table),
        columns=", ".join(map(quote, _COLUMNS)),
        where=" AND ".join(conditions),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)


def _refresh_in_python(span, slo_ids, low, high, slo_model, bucket_model, rollup_model):
    """What _REFRESH_SQL computes, summed here: for small databases (SQLite under `make run`)."""
    buckets = bucket_model.objects.order_by()
    slos = slo_model.objects.all()
    if slo_ids is not None:
        buckets = buckets.filter(slo_id__in=slo_ids)
        slos = slos.filter(pk__in=slo_ids)
    if low is not None:
        buckets = buckets.filter(start__gte=low)
    if high is not None:
        buckets = buckets.filter(start__lt=high)
    judging = {}
    for slo_id, method, minutes, target in slos.values_list(
        "pk", "budgeting_method", "slice_minutes", "slice_target"
    ):
        if method == BudgetingMethod.TIMESLICES and minutes and span % (minutes * 60) == 0:
            judging[slo_id] = (minutes * 60, float(Decimal(target) / 100))
    slices: dict[tuple, list[int]] = {}
    for slo_id, start, good, total in buckets.values_list("slo_id", "start", "good", "total"):
        seconds = int(start.timestamp())
        slice_seconds = judging.get(slo_id, (span, None))[0]
        piece = slices.setdefault((slo_id, seconds // span, seconds // slice_seconds), [0, 0, 0])
        piece[0] += good
        piece[1] += total
        piece[2] += total > 0
    units: dict[tuple, list[int]] = {}
    for (slo_id, unit, _), (good, total, present) in slices.items():
        row = units.setdefault((slo_id, unit), [0, 0, 0, 0, 0])
        row[0] += good
        row[1] += total
        row[2] += present
        if slo_id in judging and total > 0:
            row[3 if good / total >= judging[slo_id][1] else 4] += 1
    rollup_model.objects.bulk_create(
        [
            rollup_model(
                slo_id=slo_id,
                span=int(span),
                start=datetime.fromtimestamp(unit * span, UTC),
                good=good,
                total=total,
                present=present,
                good_slices=good_slices,
                bad_slices=bad_slices,
            )
            for (slo_id, unit), (good, total, present, good_slices, bad_slices) in units.items()
        ],
        update_conflicts=True,
        unique_fields=["slo", "span", "start"],
        update_fields=["good", "total", "present", "good_slices", "bad_slices"],
        batch_size=1000,
    )
