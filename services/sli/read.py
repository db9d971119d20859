"""The executors of the read plan: the SLI groups of many SLOs (services.sli.types.SLIGroup)
summed in PostgreSQL in one statement, or in Python from the buckets for the embedded SQLite
of `make run`; and the newest data of each SLO.

Both executors give the same figures: PostgreSQL reads the stored rollups where the plan says
so (their slices judged when written), Python every bucket (its slices judged here); the tests
hold both to the in-memory evaluation (services.budget.in_memory).
"""

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max

from services.models.slos import SLIBucket, SLIRollup
from services.sli.plan import BUCKET_SECONDS, DAY_SECONDS, HOUR_SECONDS, lookback_edges
from services.sli.types import ReadRequest, SLIGroup

_EPOCH = "date_part('epoch', piece.start)"
_LOCAL = "(piece.start AT TIME ZONE piece.zone)"

_GROUPS_SQL = f"""
    WITH part(slo_id, span, low, high, window_start, hours_from, zone, slice_seconds, target) AS (
        -- A row per range of the plan; its SLO's settings, sent once per SLO, looked up by the
        -- SLO's position in the request.
        SELECT (%(ids)s::bigint[])[position], span, to_timestamp(low), to_timestamp(high),
               to_timestamp((%(window_starts)s::bigint[])[position]),
               to_timestamp((%(hours_froms)s::bigint[])[position]),
               (%(zones)s::text[])[position], (%(slices)s::int[])[position],
               (%(targets)s::float8[])[position]
        FROM unnest(%(positions)s::int[], %(spans)s::int[], %(lows)s::bigint[],
                    %(highs)s::bigint[]) AS range(position, span, low, high)
    ),
    piece(slo_id, span, window_start, hours_from, zone, slice_seconds, start, good, total,
          present, good_slices, bad_slices) AS (
        SELECT part.slo_id, part.span, part.window_start, part.hours_from, part.zone,
               part.slice_seconds, u.start, u.good, u.total, u.present, u.good_slices,
               u.bad_slices
        FROM part
        JOIN {SLIRollup._meta.db_table} u
          ON u.slo_id = part.slo_id AND u.span = part.span
         AND u.start >= part.low AND u.start < part.high
        WHERE part.span > {BUCKET_SECONDS}
        UNION ALL
        SELECT part.slo_id, part.span, part.window_start, part.hours_from, part.zone,
               part.slice_seconds, b.start, b.good, b.total,
               CASE WHEN b.total > 0 THEN 1 ELSE 0 END,
               -- Division as budget.figures.Timeslices.is_good() divides: the same doubles.
               CASE WHEN part.slice_seconds = {BUCKET_SECONDS} AND b.total > 0
                         AND b.good::float8 / b.total >= part.target THEN 1 ELSE 0 END,
               CASE WHEN part.slice_seconds = {BUCKET_SECONDS} AND b.total > 0
                         AND b.good::float8 / b.total < part.target THEN 1 ELSE 0 END
        FROM part
        JOIN {SLIBucket._meta.db_table} b
          ON b.slo_id = part.slo_id AND b.start >= part.low AND b.start < part.high
        WHERE part.span = {BUCKET_SECONDS}
    )
    SELECT piece.start >= piece.window_start AS in_window,
           (date_part('year', {_LOCAL}) * 12 + date_part('month', {_LOCAL}) - 1)::int AS month,
           CASE WHEN piece.start >= piece.window_start
                THEN floor({_EPOCH} / {DAY_SECONDS})::int END AS day,
           CASE WHEN piece.start >= piece.hours_from
                THEN floor({_EPOCH} / {HOUR_SECONDS})::int END AS hour,
           width_bucket(piece.start, %(edges)s::timestamptz[]) AS lookback,
           CASE WHEN piece.slice_seconds > piece.span
                THEN floor({_EPOCH} / piece.slice_seconds)::bigint END AS slice,
           SUM(piece.good)::bigint, SUM(piece.total)::bigint, SUM(piece.present)::bigint,
           SUM(piece.good_slices)::bigint, SUM(piece.bad_slices)::bigint,
           piece.slo_id
    FROM piece
    GROUP BY 1, 2, 3, 4, 5, 6, 12
"""

#: Planner settings for the groups statement: memory enough to group a batch in a hash table
#: rather than sort it on disk; no JIT compilation, which costs more than it saves here; and
#: each SLO's ranges read through the (slo, start) index with the range straight from the
#: request row, which beats hashing millions of rows against the requests.
_PLANNER_SETTINGS = {
    "work_mem": "64MB",
    "jit": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
}


def slo_groups(requests: Sequence[ReadRequest], *, end: int) -> dict[int, list[SLIGroup]]:
    """The SLI groups of many SLOs' data before `end`, maintenance left out: in one statement
    on PostgreSQL, from the buckets in Python elsewhere."""
    if connection.vendor != "postgresql":
        return groups_in_python(requests, end=end)
    return _groups_in_postgresql(requests, end=end)


def _groups_in_postgresql(
    requests: Sequence[ReadRequest], *, end: int
) -> dict[int, list[SLIGroup]]:
    ranges: dict[str, list] = {"positions": [], "spans": [], "lows": [], "highs": []}
    for position, request in enumerate(requests, start=1):
        for span, span_ranges in request.ranges.items():
            for low, high in span_ranges:
                ranges["positions"].append(position)
                ranges["spans"].append(span)
                ranges["lows"].append(low)
                ranges["highs"].append(high)
    settings = {
        "ids": [request.slo_id for request in requests],
        "window_starts": [request.window_start for request in requests],
        "hours_froms": [request.hours_from for request in requests],
        "zones": [request.time_zone for request in requests],
        "slices": [request.slice_seconds or BUCKET_SECONDS for request in requests],
        "targets": [request.slice_target for request in requests],
    }
    edges = [datetime.fromtimestamp(edge, UTC) for edge in lookback_edges(end)]
    groups: dict[int, list] = {request.slo_id: [] for request in requests}
    with planner_settings(_PLANNER_SETTINGS), connection.cursor() as cursor:
        cursor.execute(_GROUPS_SQL, {**ranges, **settings, "edges": edges})
        # The rows are SLIGroup's fields in order (its slo_id last): read as they come.
        for row in cursor.fetchall():
            groups[row[11]].append(row)
    return groups


class planner_settings:
    """PostgreSQL settings for the statements inside the block only.

    The settings are local to the block's savepoint; but a local setting lasts until the end
    of the whole transaction, which may be a caller's, so inside one the previous values are
    put back when the block ends. (A block that fails rolls back to its savepoint, which
    undoes the settings by itself.)"""

    def __init__(self, settings: dict[str, str]):
        self.settings = settings

    def __enter__(self):
        self._outer = connection.in_atomic_block
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        names = list(self.settings)
        setting = ", ".join("set_config(%s, %s, true)" for _ in names)
        values = [value for pair in self.settings.items() for value in pair]
        with connection.cursor() as cursor:
            if not self._outer:
                cursor.execute(f"SELECT {setting}", values)
                return self
            # The previous values are read before any is set: the CTE is computed first.
            reading = ", ".join("current_setting(%s)" for _ in names)
            cursor.execute(
                f"WITH previous AS MATERIALIZED (SELECT {reading}) SELECT previous.*, {setting}"
                " FROM previous",
                [*names, *values],
            )
            self._previous = dict(zip(names, cursor.fetchone()[: len(names)], strict=True))
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            if self._outer and exc_type is None:
                names = list(self._previous)
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names),
                        [value for pair in self._previous.items() for value in pair],
                    )
        finally:
            self._atomic.__exit__(exc_type, exc_value, traceback)


def groups_in_python(requests: Sequence[ReadRequest], *, end: int) -> dict[int, list[SLIGroup]]:
    """What the groups statement computes, from every bucket since each request's history:
    for small databases (the embedded SQLite of `make run`) and as the statement's check."""
    edges = lookback_edges(end)
    groups = {}
    for request in requests:
        zone = ZoneInfo(request.time_zone)
        slice_seconds = request.slice_seconds or BUCKET_SECONDS
        sums: dict[tuple, list[int]] = {}
        buckets = SLIBucket.objects.filter(
            slo_id=request.slo_id,
            start__gte=datetime.fromtimestamp(request.history, UTC),
            start__lt=datetime.fromtimestamp(end, UTC),
        ).values_list("start", "good", "total")
        for start, good, total in buckets:
            seconds = int(start.timestamp())
            if any(low <= seconds < high for low, high in request.excluded):
                continue
            local = start.astimezone(zone)
            in_window = seconds >= request.window_start
            key = (
                in_window,
                local.year * 12 + local.month - 1,
                seconds // DAY_SECONDS if in_window else None,
                seconds // HOUR_SECONDS if seconds >= request.hours_from else None,
                bisect_right(edges, seconds),
                seconds // slice_seconds if slice_seconds > BUCKET_SECONDS else None,
            )
            judged = slice_seconds == BUCKET_SECONDS and request.slice_target and total > 0
            row = sums.setdefault(key, [0, 0, 0, 0, 0])
            row[0] += good
            row[1] += total
            row[2] += total > 0
            row[3] += bool(judged and good / total >= request.slice_target)
            row[4] += bool(judged and good / total < request.slice_target)
        groups[request.slo_id] = [SLIGroup(*key, *row, request.slo_id) for key, row in sums.items()]
    return groups


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
