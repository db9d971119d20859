"""Buckets and windows: the bucket grid, SLO windows (rolling and calendar months), the
look-back windows, and maintenance exclusions."""

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

BUCKET = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ROLLING = "rolling"
CALENDAR_MONTH = "calendar_month"

#: Key of the burn rate over the whole SLO window, next to the fixed look-back windows.
WHOLE_WINDOW = "window"
#: The look-back windows burn rates are measured over; all end where the observed window ends.
LOOKBACK_WINDOWS = {
    "5m": timedelta(minutes=5),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "2h": timedelta(hours=2),
    "6h": timedelta(hours=6),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
}
BURN_RATE_KEYS = (*LOOKBACK_WINDOWS, WHOLE_WINDOW)

Interval = tuple[datetime, datetime]


# --- buckets and windows -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bucket:
    """Good and total events in the 5 minutes from `start`; total == 0 means no data."""

    start: datetime
    good: int
    total: int

    def __post_init__(self):
        _require_aligned(self.start, "bucket start")
        if not 0 <= self.good <= self.total:
            raise ValueError(
                f"bucket at {self.start.isoformat()}: need 0 <= good <= total, "
                f"got good={self.good} total={self.total}"
            )

    @property
    def has_data(self) -> bool:
        return self.total > 0


def align_down(moment: datetime) -> datetime:
    """The start of the bucket holding `moment` (in UTC)."""
    _require_aware(moment, "moment")
    return floor_to(moment, BUCKET)


def window_bounds(
    now: datetime, *, kind: str, days: int | None = None, tz: str | tzinfo | None = None
) -> Interval:
    """The SLO window that `now` falls in, in UTC.

    - ROLLING: the `days` days ending at the start of the bucket in progress, so that the window
      holds only complete buckets and moves forward one bucket at a time.
    - CALENDAR_MONTH: from midnight on the 1st to midnight on the 1st of the next month in the time
      zone `tz`, so the month's length follows the zone's clocks (a DST month is an hour short or
      long). The end may lie in the future; see `observed_end()`.
    """
    if kind == ROLLING:
        if not days or days < 1:
            raise ValueError("a rolling window needs a whole number of days >= 1")
        end = align_down(now)
        return end - timedelta(days=days), end
    if kind == CALENDAR_MONTH:
        if tz is None:
            raise ValueError("a calendar-month window needs a time zone")
        _require_aware(now, "now")
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        local = now.astimezone(zone)
        return (
            _month_start(local.year, local.month, zone),
            _month_start(local.year, local.month + 1, zone),
        )
    raise ValueError(f"unknown window kind {kind!r}; use {ROLLING!r} or {CALENDAR_MONTH!r}")


def calendar_months(start: datetime, end: datetime, tz: str | tzinfo) -> list[Interval]:
    """The calendar months in time zone `tz` that overlap [start, end), as UTC intervals."""
    month_start, month_end = window_bounds(start, kind=CALENDAR_MONTH, tz=tz)
    months = []
    while month_start < end:
        months.append((month_start, month_end))
        month_start, month_end = window_bounds(month_end, kind=CALENDAR_MONTH, tz=tz)
    return months


def observed_end(window: Interval, now: datetime) -> datetime:
    """Where the data of `window` ends at `now`: the window's end, or the start of the bucket in
    progress if that comes first. The bucket in progress is left out everywhere, so coverage never
    counts a bucket that cannot be complete yet."""
    start, end = window
    return max(start, min(end, align_down(now)))


def burn_rate_windows(window_start: datetime, end: datetime) -> dict[str, Interval]:
    """Every interval a burn rate is measured over, by key: the look-back windows ending at `end`
    (they may reach back before the SLO window: they describe recent behaviour, not the budget
    period) and the whole window from `window_start`."""
    windows = {name: (end - length, end) for name, length in LOOKBACK_WINDOWS.items()}
    windows[WHOLE_WINDOW] = (window_start, end)
    return windows


# --- maintenance exclusions ----------------------------------------------------------------------


def excluded_bucket_ranges(exclusions: Iterable[Interval]) -> list[Interval]:
    """The bucket starts to leave out for maintenance windows, as sorted, disjoint [start, end)
    ranges on the bucket grid.

    A bucket is excluded when it overlaps a maintenance window at all: its counts cannot be split,
    and planned work should not spend the budget. So each window widens outward to bucket
    boundaries; overlapping or touching windows merge. The database path uses these ranges in its
    filters, so both paths exclude the same buckets.
    """
    widened = []
    for start, end in exclusions:
        _require_aware(start, "maintenance start")
        _require_aware(end, "maintenance end")
        if end > start:
            widened.append((align_down(start), ceil_to(end, BUCKET)))
    merged: list[Interval] = []
    for start, end in sorted(widened):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def count_expected_buckets(
    start: datetime, end: datetime, exclusions: Iterable[Interval] = ()
) -> int:
    """How many buckets [start, end) should hold: every bucket start in it, less the excluded."""
    _require_window(start, end)
    expected = _grid_points(start, end, BUCKET)
    for excluded_start, excluded_end in excluded_bucket_ranges(exclusions):
        expected -= _grid_points(max(start, excluded_start), min(end, excluded_end), BUCKET)
    return expected


def count_expected_slices(
    start: datetime, end: datetime, slice_length: timedelta, exclusions: Iterable[Interval] = ()
) -> int:
    """How many timeslices the window [start, end) holds: the slices of the epoch-aligned grid of
    `slice_length` that overlap it, less those whose every bucket in the window is excluded."""
    _require_window(start, end)
    ranges = excluded_bucket_ranges(exclusions)
    expected = _grid_points(floor_to(start, slice_length), end, slice_length)
    for excluded_start, excluded_end in ranges:
        slice_start = floor_to(max(start, excluded_start), slice_length)
        while slice_start < min(end, excluded_end):
            in_window = (max(start, slice_start), min(end, slice_start + slice_length))
            if count_expected_buckets(*in_window, ranges) == 0:
                expected -= 1
            slice_start += slice_length
    return expected


# --- internals ---------------------------------------------------------------------------------


def buckets_within(
    buckets: Iterable[Bucket], start: datetime, end: datetime, excluded: Sequence[Interval]
) -> Iterator[Bucket]:
    """The buckets starting in [start, end) outside the excluded ranges; a bucket given twice is an
    error, since counting it twice would corrupt every figure."""
    _require_window(start, end)
    excluded_starts = [range_start for range_start, _ in excluded]
    seen = set()
    for bucket in buckets:
        if not start <= bucket.start < end:
            continue
        if bucket.start in seen:
            raise ValueError(f"bucket at {bucket.start.isoformat()} given twice")
        seen.add(bucket.start)
        position = bisect.bisect_right(excluded_starts, bucket.start) - 1
        if position >= 0 and bucket.start < excluded[position][1]:
            continue
        yield bucket


def _grid_points(start: datetime, end: datetime, step: timedelta) -> int:
    """How many multiples of `step` after the epoch lie in [start, end)."""
    if end <= start:
        return 0
    return -((EPOCH - end) // step) + ((EPOCH - start) // step)


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """The latest multiple of `step` since the epoch at or before `moment`."""
    return EPOCH + (moment - EPOCH) // step * step


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    """The earliest multiple of `step` since the epoch at or after `moment`."""
    return EPOCH - (EPOCH - moment) // step * step


def _month_start(year: int, month: int, zone: tzinfo) -> datetime:
    """Midnight on the 1st of the month in `zone`, in UTC; month 13 is next year's January."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=zone).astimezone(UTC)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment.isoformat()}")


def _require_aligned(moment: datetime, what: str) -> None:
    _require_aware(moment, what)
    if (moment - EPOCH) % BUCKET:
        raise ValueError(f"{what} must fall on a {BUCKET} boundary, got {moment.isoformat()}")


def _require_window(start: datetime, end: datetime) -> None:
    _require_aligned(start, "window start")
    _require_aligned(end, "window end")
    if end < start:
        raise ValueError(f"window ends ({end.isoformat()}) before it starts ({start.isoformat()})")
