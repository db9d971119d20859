"""The read plan: which of an SLO's stored rollups and buckets a recompute reads, and the
moments at which its data falls into another group.

A snapshot needs an SLO's data grouped by window (in it or not), calendar month in the SLO's
zone, UTC day inside the window (the burn-down chart's points at midnight), UTC hour in the last
three days (the burn-rate chart) and look-back window (burn rates over 5m ... 3d, all ending at
the observed end). Every moment where one of those keys changes is a *cut*. A stored day or
hour rollup is read whole only where no cut falls strictly inside it, so that all its buckets
belong to one group; the rest is read bucket by bucket. Day and hour rollups are epoch-aligned,
like the clock-aligned days and hours of the charts, so only the look-back windows' starts, the
window's start, month starts off the hour and maintenance edges break a rollup: a 30-day SLO
reads about 30 days, 72 hours and a hundred buckets instead of 8,640 buckets.

Pure: no queries. Times are whole seconds since the epoch (services.sli.types).
"""

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from services.budget.figures import Timeslices
from services.budget.windows import (
    BUCKET,
    LOOKBACK_WINDOWS,
    Interval,
    calendar_months,
    observed_end,
    window_bounds,
)
from services.choices import BudgetingMethod
from services.sli.types import ReadRequest, Span

BUCKET_SECONDS = int(BUCKET.total_seconds())
HOUR_SECONDS = 3600
DAY_SECONDS = 86400
#: The look-back windows' lengths in seconds, longest first: a piece of data starting at or
#: after the nth of `lookback_edges()` lies in the first n windows.
LOOKBACK_SECONDS = sorted(
    (int(length.total_seconds()) for length in LOOKBACK_WINDOWS.values()), reverse=True
)
LONGEST_LOOKBACK = LOOKBACK_SECONDS[0]
#: Spans of the stored rollups (services.models.slos.SLIRollup) a read may use, longest first.
#: Only days gives the plain plan: whole UTC days, and buckets wherever a cut breaks a day
#: (every day of the last three, whose hours are kept apart). bench/slo.py compares the two.
STORED_SPANS: tuple[int, ...] = (DAY_SECONDS, HOUR_SECONDS)
#: Calendar months of attainment history a snapshot carries, the current one included.
MONTHS_OF_HISTORY = 12


def epoch(moment: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime."""
    return int(moment.timestamp())


def window(slo, now: datetime) -> Interval:
    return window_bounds(now, kind=slo.window_kind, days=slo.window_days, tz=slo.time_zone)


def timeslices(slo) -> Timeslices | None:
    if slo.budgeting_method != BudgetingMethod.TIMESLICES:
        return None
    return Timeslices(timedelta(minutes=slo.slice_minutes), float(Decimal(slo.slice_target) / 100))


def history_start(slo, now: datetime) -> datetime:
    """Midnight on the 1st of the oldest month of the monthly history, in UTC."""
    return _history_start(slo.time_zone, now)


@lru_cache(maxsize=256)
def _history_start(time_zone: str, now: datetime) -> datetime:
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    months = local.year * 12 + local.month - MONTHS_OF_HISTORY
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=zone).astimezone(UTC)


class Month(NamedTuple):
    """A calendar month in a time zone: its bounds (epoch seconds), its key as the groups carry
    it (year x 12 + month - 1) and its bounds as the snapshot writes them."""

    start: int
    end: int
    key: int
    start_iso: str
    end_iso: str


@lru_cache(maxsize=256)
def months_between(time_zone: str, start: int, end: int) -> tuple[Month, ...]:
    """The calendar months in `time_zone` overlapping [start, end). Every SLO of a zone asks for
    the same ones in a recompute, hence the cache."""
    zone = ZoneInfo(time_zone)
    months = []
    for month_start, month_end in calendar_months(
        datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), zone
    ):
        local = month_start.astimezone(zone)
        months.append(
            Month(
                epoch(month_start),
                epoch(month_end),
                local.year * 12 + local.month - 1,
                month_start.isoformat(),
                month_end.isoformat(),
            )
        )
    return tuple(months)


def lookback_edges(end: int) -> list[int]:
    """Where each look-back window starts, the longest (earliest) first."""
    return [end - length for length in LOOKBACK_SECONDS]


def hours_from(window_start: int, end: int) -> int:
    """The first whole UTC hour of the burn-rate chart: in the window, and at most three days
    (the longest look-back window) before the end."""
    start = max(window_start, end - LONGEST_LOOKBACK)
    return min(-(-start // HOUR_SECONDS) * HOUR_SECONDS, end)


def read_request(slo, now: datetime, excluded: Sequence[Interval]) -> ReadRequest:
    """What services.sli.read.slo_groups() needs of `slo` at `now`, maintenance `excluded`
    (bucket ranges, as services.budget.windows.excluded_bucket_ranges gives them)."""
    slo_window = window(slo, now)
    window_start, end = epoch(slo_window[0]), epoch(observed_end(slo_window, now))
    history = min(epoch(history_start(slo, now)), window_start, end - LONGEST_LOOKBACK)
    first_hour = hours_from(window_start, end)
    excluded_seconds = [(epoch(low), epoch(high)) for low, high in excluded]
    slices = timeslices(slo)
    slice_seconds = int(slices.length.total_seconds()) if slices else None
    first_midnight = -(-window_start // DAY_SECONDS) * DAY_SECONDS
    cuts = [
        window_start,
        *lookback_edges(end),
        *(month.start for month in months_between(slo.time_zone, history, end)),
        *(edge for excluded_range in excluded_seconds for edge in excluded_range),
        *range(first_midnight, end, DAY_SECONDS),
        *range(first_hour, end, HOUR_SECONDS),
    ]
    # A rollup is read whole where it holds whole slices (judged when it was written) or lies
    # inside one slice (summed with the slice's other data).
    spans = [
        span
        for span in STORED_SPANS
        if slice_seconds is None or span % slice_seconds == 0 or slice_seconds % span == 0
    ]
    return ReadRequest(
        slo_id=slo.pk,
        history=history,
        window_start=window_start,
        hours_from=first_hour,
        time_zone=slo.time_zone,
        slice_seconds=slice_seconds,
        slice_target=slices.target if slices else None,
        excluded=excluded_seconds,
        ranges=read_plan(history, end, cuts, spans, excluded_seconds),
    )


def read_plan(
    start: int, end: int, cuts: Iterable[int], spans: Sequence[int], excluded: Sequence[Span]
) -> dict[int, list[Span]]:
    """How to read the data of [start, end) but `excluded`: for each span (longest first), the
    ranges of whole units of that span (counted from the epoch, like the stored rollups) that
    no cut falls strictly inside, and under BUCKET_SECONDS what is left, read bucket by bucket.
    A unit no cut falls in belongs to one group, so reading it whole sums what its buckets
    would; excluded ranges start and end at cuts, so a unit is wholly excluded or not at all."""
    cuts = sorted(set(cuts))
    pending = [(start, end)]
    plan = {}
    for span in spans:
        broken = sorted({cut - cut % span for cut in cuts if cut % span})
        whole, left = [], []
        for low, high in pending:
            first, last = -(-low // span) * span, high - high % span
            if first >= last:
                left.append((low, high))
                continue
            left.append((low, first))
            cursor = first
            for unit in broken[bisect_left(broken, first) : bisect_left(broken, last)]:
                whole.append((cursor, unit))
                left.append((unit, unit + span))
                cursor = unit + span
            whole.append((cursor, last))
            left.append((last, high))
        plan[span] = _without(whole, excluded)
        pending = _merged(left)
    plan[BUCKET_SECONDS] = _without(pending, excluded)
    return plan


def _merged(ranges: Iterable[Span]) -> list[Span]:
    """Sorted, non-empty ranges with touching or overlapping ones joined."""
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if low >= high:
            continue
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


def _without(ranges: Iterable[Span], excluded: Sequence[Span]) -> list[Span]:
    """`ranges` less the sorted, disjoint `excluded` ranges."""
    remaining = []
    for low, high in _merged(ranges):
        for excluded_low, excluded_high in excluded:
            if excluded_high <= low or excluded_low >= high:
                continue
            if excluded_low > low:
                remaining.append((low, excluded_low))
            low = max(low, excluded_high)
        if low < high:
            remaining.append((low, high))
    return remaining
