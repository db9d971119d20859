"""SLO math: attainment, error budgets, burn rates, alert state, coverage and freshness.

Pure functions over counts, with no Django and no I/O, so that every figure the portal shows can be
checked by hand and pinned by property tests.

The unit of data is a `Bucket`: good and total event counts over 5 minutes, aligned to the Unix
epoch. Storing counts rather than ratios is what makes any window, calendar month, timeslice or
maintenance exclusion exact: a window's figures are sums of its buckets.

The core functions take per-window aggregates (`WindowCounts`, `SliceCounts`), because the worker
lets the database do the heavy summing (one `SUM(...) FILTER (WHERE ...)` per window). The small
helpers `aggregate()` and `count_slices()` compute the same aggregates from an in-memory list of
buckets, for tests, pushed buckets and small cases; both paths end in `evaluate()`.

Conventions:
- Objectives are fractions (0.999); `objective_from_percent()` converts the 99.9 people type.
- All datetimes are timezone-aware; windows are half-open, [start, end).
- "No data" is never good data: a bucket with total == 0 is no data, a window without data has no
  attainment, no budget figures and no burn rate (None), and coverage says how much is missing.
- The budget may be overspent: remaining goes below zero and is reported as such, never clamped.
"""

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

BUCKET = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ROLLING = "rolling"
CALENDAR_MONTH = "calendar_month"

PAGE = "page"
TICKET = "ticket"
NO_ALERT = "none"

UNKNOWN_TIER = "unknown"

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

#: Three missed buckets: long enough for a sync to lag a little, short enough to notice an outage.
STALE_AFTER = timedelta(minutes=15)

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


# --- aggregates ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Event counts summed over the buckets of one window, maintenance excluded.

    buckets_present counts buckets with data (total > 0); buckets_expected counts every bucket the
    window should hold. The database path fills these from SUM/COUNT ... FILTER queries and
    `count_expected_buckets()`; `aggregate()` fills them from a list of buckets.
    """

    good: int
    total: int
    buckets_present: int
    buckets_expected: int

    @property
    def bad(self) -> int:
        return self.total - self.good

    @property
    def coverage(self) -> float | None:
        """Share of expected buckets that hold data; None for a window that expects none."""
        if self.buckets_expected == 0:
            return None
        return self.buckets_present / self.buckets_expected


@dataclass(frozen=True, slots=True)
class Timeslices:
    """Timeslice budgeting: a slice of `length` is good when its good/total reaches `target`."""

    length: timedelta
    target: float

    def __post_init__(self):
        if self.length <= timedelta(0) or self.length % BUCKET:
            raise ValueError(f"a timeslice must be a positive multiple of {BUCKET}")
        if not 0 < self.target <= 1:
            raise ValueError("a timeslice target is a fraction in (0, 1]")

    def is_good(self, good: int, total: int) -> bool:
        """Compares by division: 999/1000 and 0.999 are the same float, a product may not be."""
        return good / total >= self.target


@dataclass(frozen=True, slots=True)
class SliceCounts:
    """Timeslices judged over one window: good and bad among the slices with data, and how many
    slices the window holds (the budget basis, data or not)."""

    good_slices: int
    bad_slices: int
    slices_in_window: int


def aggregate(
    buckets: Iterable[Bucket], start: datetime, end: datetime, exclusions: Iterable[Interval] = ()
) -> WindowCounts:
    """Sum the buckets starting in [start, end), leaving out those in maintenance windows."""
    ranges = excluded_bucket_ranges(exclusions)
    good = total = present = 0
    for bucket in _buckets_within(buckets, start, end, ranges):
        good += bucket.good
        total += bucket.total
        present += bucket.has_data
    return WindowCounts(good, total, present, count_expected_buckets(start, end, ranges))


def count_slices(
    buckets: Iterable[Bucket],
    start: datetime,
    end: datetime,
    timeslices: Timeslices,
    exclusions: Iterable[Interval] = (),
) -> SliceCounts:
    """Judge each slice of [start, end) on the sum of its buckets in the window (maintenance
    excluded). A slice without data is neither good nor bad; the slice still in progress is judged
    on the data it has so far."""
    ranges = excluded_bucket_ranges(exclusions)
    sums: dict[int, list[int]] = {}
    for bucket in _buckets_within(buckets, start, end, ranges):
        slice_sums = sums.setdefault((bucket.start - EPOCH) // timeslices.length, [0, 0])
        slice_sums[0] += bucket.good
        slice_sums[1] += bucket.total
    judged = [timeslices.is_good(good, total) for good, total in sums.values() if total > 0]
    good_slices = sum(judged)
    return SliceCounts(
        good_slices=good_slices,
        bad_slices=len(judged) - good_slices,
        slices_in_window=count_expected_slices(start, end, timeslices.length, ranges),
    )


# --- budget, burn rate, alerts -------------------------------------------------------------------


def objective_from_percent(percent: float | Decimal | str) -> float:
    """99.9 -> 0.999, through Decimal so that the float is the nearest one to the typed value
    (99.9 / 100 in floats is 0.9990000000000001)."""
    objective = float(Decimal(str(percent)) / 100)
    _budget_share(objective)  # rejects 0, 100 and anything outside
    return objective


@dataclass(frozen=True, slots=True)
class ErrorBudget:
    """Attainment and budget over a window, in events (occurrences) or slices (timeslices).

    attainment = good / (good + bad); allowed_bad = (1 - objective) x budget basis;
    consumed = bad / allowed_bad; remaining = 1 - consumed, below zero once overspent.
    Without any data, attainment, consumed and remaining are None: unknown, not perfect.
    """

    attainment: float | None
    allowed_bad: float
    bad: int
    consumed: float | None
    remaining: float | None


def occurrences_budget(counts: WindowCounts, objective: float) -> ErrorBudget:
    """Event-based budget: the window may hold (1 - objective) x total bad events."""
    return _error_budget(counts.good, counts.bad, _budget_share(objective) * counts.total)


def timeslices_budget(slices: SliceCounts, objective: float) -> ErrorBudget:
    """Time-based budget: (1 - objective) x the slices in the window may be bad. The basis is every
    slice of the window, data or not, so the budget is known from the window's first day."""
    return _error_budget(
        slices.good_slices,
        slices.bad_slices,
        _budget_share(objective) * slices.slices_in_window,
    )


def burn_rate(counts: WindowCounts, objective: float) -> float | None:
    """How fast the window spends budget: (bad / total) / (1 - objective).

    A burn rate of 1 spends exactly the whole budget over one SLO window; 14.4 spends a 30-day
    budget in 50 hours. Measured on events for both budgeting methods, since the shortest alert
    window (5 minutes) is shorter than most timeslices. None without data in the window.
    """
    share = _budget_share(objective)
    return None if counts.total == 0 else counts.bad / counts.total / share


@dataclass(frozen=True, slots=True)
class BurnRateRule:
    """Alert with `severity` when both the long and the short window burn faster than a rate that
    would spend `budget_share` of the budget within the long window.

    threshold = budget_share x SLO window / long window, so a 30-day window gives the SRE
    Workbook's 14.4 / 6 / 3 / 1 and other windows scale with their length. The short window makes
    the alert stop soon after the burn stops.
    """

    severity: str
    long_window: str
    short_window: str
    budget_share: Fraction

    def threshold(self, slo_window: timedelta) -> float:
        long_window = LOOKBACK_WINDOWS[self.long_window]
        return float(
            self.budget_share * Fraction(_microseconds(slo_window), _microseconds(long_window))
        )

    def fires(self, burn_rates: Mapping[str, float | None], slo_window: timedelta) -> bool:
        """Both rates strictly above the threshold; a missing rate never fires."""
        threshold = self.threshold(slo_window)
        rates = (burn_rates.get(self.long_window), burn_rates.get(self.short_window))
        return all(rate is not None and rate > threshold for rate in rates)


#: Multi-window, multi-burn-rate alerting, most urgent first.
BURN_RATE_RULES = (
    BurnRateRule(PAGE, "1h", "5m", Fraction(2, 100)),
    BurnRateRule(PAGE, "6h", "30m", Fraction(5, 100)),
    BurnRateRule(TICKET, "1d", "2h", Fraction(10, 100)),
    BurnRateRule(TICKET, "3d", "6h", Fraction(10, 100)),
)


def alert_state(burn_rates: Mapping[str, float | None], slo_window: timedelta) -> str:
    """PAGE, TICKET or NO_ALERT: the severity of the first rule of BURN_RATE_RULES that fires."""
    for rule in BURN_RATE_RULES:
        if rule.fires(burn_rates, slo_window):
            return rule.severity
    return NO_ALERT


def time_until_exhaustion(
    remaining: float | None, burn_rate_now: float | None, slo_window: timedelta
) -> timedelta | None:
    """When the budget runs out if the current burn rate holds: remaining x SLO window / burn rate
    (a burn rate of 1 spends one whole budget per window). A linear projection: it ignores old data
    leaving a rolling window.

    timedelta(0) when the budget is already spent; None when unknown, when nothing is burning, or
    when the projection lies beyond what a timedelta can hold.
    """
    if remaining is None or burn_rate_now is None or burn_rate_now <= 0:
        return None
    if remaining <= 0:
        return timedelta(0)
    seconds = slo_window.total_seconds() * remaining / burn_rate_now
    return timedelta(seconds=seconds) if seconds < _MAX_TIMEDELTA_SECONDS else None


# --- freshness and policy ------------------------------------------------------------------------


def data_freshness(latest_data_start: datetime | None, now: datetime) -> timedelta | None:
    """Age of the newest data: now - end of the latest bucket with data (zero while that bucket is
    still in progress); None when there never was any."""
    if latest_data_start is None:
        return None
    return max(timedelta(0), now - (latest_data_start + BUCKET))


def is_stale(freshness: timedelta | None, stale_after: timedelta = STALE_AFTER) -> bool:
    """Data older than `stale_after`, or none at all, is stale."""
    return freshness is None or freshness > stale_after


@dataclass(frozen=True, slots=True)
class BudgetTier:
    """A band of budget remaining with a name; remaining belongs to it from `floor` upward
    (`floor` itself only when `floor_included`)."""

    name: str
    floor: float
    floor_included: bool = True

    def holds(self, remaining: float) -> bool:
        return remaining >= self.floor if self.floor_included else remaining > self.floor


#: Healthy above 50 %; caution from 10 % to 50 %, both ends included; frozen below 10 %, overspent
#: budgets too.
DEFAULT_TIERS = (
    BudgetTier("healthy", 0.5, floor_included=False),
    BudgetTier("caution", 0.1),
    BudgetTier("frozen", -math.inf),
)


def policy_tier(remaining: float | None, tiers: Sequence[BudgetTier] = DEFAULT_TIERS) -> str:
    """The name of the first of `tiers` (best first) that holds `remaining`; UNKNOWN_TIER without
    data. The last tier must catch everything below the others (floor -inf)."""
    if remaining is None:
        return UNKNOWN_TIER
    for tier in tiers:
        if tier.holds(remaining):
            return tier.name
    raise ValueError(f"no budget tier holds remaining={remaining}; end the tiers with floor -inf")


# --- the snapshot --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SLOStatus:
    """Everything the portal shows about an SLO at one moment; what the worker stores after a sync.

    Fractions throughout (0.42 is 42 %); burn_rates has a key for each of BURN_RATE_KEYS.
    """

    objective: float
    window_start: datetime
    window_end: datetime
    attainment: float | None
    allowed_bad: float
    bad: int
    consumed: float | None
    remaining: float | None
    burn_rates: dict[str, float | None]
    alert: str
    coverage: float | None
    freshness: timedelta | None
    stale: bool
    time_until_exhaustion: timedelta | None
    policy_tier: str


def evaluate(
    *,
    objective: float,
    window: Interval,
    now: datetime,
    counts: Mapping[str, WindowCounts],
    latest_data_start: datetime | None,
    slices: SliceCounts | None = None,
    stale_after: timedelta = STALE_AFTER,
    tiers: Sequence[BudgetTier] = DEFAULT_TIERS,
) -> SLOStatus:
    """The status of an SLO from its window aggregates.

    `window` is the SLO window from `window_bounds()`; its length scales the alert thresholds.
    `counts` holds a WindowCounts for each interval of
    `burn_rate_windows(window[0], observed_end(window, now))`, by key (BURN_RATE_KEYS); the budget
    counts events over counts["window"], or, when `slices` is given, timeslices (judged over the
    whole `window`: slice i covers [epoch + i x length, epoch + (i + 1) x length)).
    `latest_data_start` is the start of the newest bucket with data (None if none).
    """
    missing = set(BURN_RATE_KEYS) - set(counts)
    if missing:
        raise ValueError(f"window counts missing for {sorted(missing)}")
    window_start, window_end = window
    slo_window = window_end - window_start
    if slices is None:
        budget = occurrences_budget(counts[WHOLE_WINDOW], objective)
    else:
        budget = timeslices_budget(slices, objective)
    burn_rates = {key: burn_rate(counts[key], objective) for key in BURN_RATE_KEYS}
    freshness = data_freshness(latest_data_start, now)
    return SLOStatus(
        objective=objective,
        window_start=window_start,
        window_end=window_end,
        attainment=budget.attainment,
        allowed_bad=budget.allowed_bad,
        bad=budget.bad,
        consumed=budget.consumed,
        remaining=budget.remaining,
        burn_rates=burn_rates,
        alert=alert_state(burn_rates, slo_window),
        coverage=counts[WHOLE_WINDOW].coverage,
        freshness=freshness,
        stale=is_stale(freshness, stale_after),
        time_until_exhaustion=time_until_exhaustion(budget.remaining, burn_rates["1h"], slo_window),
        policy_tier=policy_tier(budget.remaining, tiers),
    )


def evaluate_buckets(
    buckets: Sequence[Bucket],
    *,
    objective: float,
    window: Interval,
    now: datetime,
    timeslices: Timeslices | None = None,
    exclusions: Iterable[Interval] = (),
    stale_after: timedelta = STALE_AFTER,
    tiers: Sequence[BudgetTier] = DEFAULT_TIERS,
) -> SLOStatus:
    """`evaluate()` from an in-memory list of buckets: aggregates every window, then evaluates.

    Buckets from the bucket in progress onward are left out of the figures (see `observed_end()`)
    but still count for freshness.
    """
    ranges = excluded_bucket_ranges(exclusions)
    end = observed_end(window, now)
    observed = [bucket for bucket in buckets if bucket.start < end]
    counts = {
        key: aggregate(observed, start, stop, ranges)
        for key, (start, stop) in burn_rate_windows(window[0], end).items()
    }
    slices = None if timeslices is None else count_slices(observed, *window, timeslices, ranges)
    latest_data_start = max(
        (bucket.start for bucket in buckets if bucket.has_data and bucket.start <= now),
        default=None,
    )
    return evaluate(
        objective=objective,
        window=window,
        now=now,
        counts=counts,
        latest_data_start=latest_data_start,
        slices=slices,
        stale_after=stale_after,
        tiers=tiers,
    )


@dataclass(frozen=True, slots=True)
class MonthlyAttainment:
    """One calendar month of an SLO's history; met is None for a month without data."""

    start: datetime
    end: datetime
    attainment: float | None
    met: bool | None


def monthly_attainment(
    buckets: Sequence[Bucket],
    *,
    objective: float,
    start: datetime,
    end: datetime,
    tz: str | tzinfo,
    timeslices: Timeslices | None = None,
    exclusions: Iterable[Interval] = (),
) -> list[MonthlyAttainment]:
    """Attainment per calendar month (in `tz`) for the months overlapping [start, end), each
    measured over the whole month with the SLO's budgeting method."""
    ranges = excluded_bucket_ranges(exclusions)
    history = []
    for month_start, month_end in calendar_months(start, end, tz):
        if timeslices is None:
            counts = aggregate(buckets, month_start, month_end, ranges)
            budget = occurrences_budget(counts, objective)
        else:
            slices = count_slices(buckets, month_start, month_end, timeslices, ranges)
            budget = timeslices_budget(slices, objective)
        met = None if budget.attainment is None else budget.attainment >= objective
        history.append(MonthlyAttainment(month_start, month_end, budget.attainment, met))
    return history


# --- internals -----------------------------------------------------------------------------------

_MAX_TIMEDELTA_SECONDS = timedelta.max.total_seconds()


def _error_budget(good: int, bad: int, allowed_bad: float) -> ErrorBudget:
    if good + bad == 0:
        return ErrorBudget(None, allowed_bad, 0, None, None)
    consumed = bad / allowed_bad
    return ErrorBudget(good / (good + bad), allowed_bad, bad, consumed, 1 - consumed)


def _buckets_within(
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


def _microseconds(duration: timedelta) -> int:
    return duration // timedelta(microseconds=1)


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


def _budget_share(objective: float) -> float:
    """The share of events (or slices) allowed to be bad: 1 - objective."""
    if not 0 < objective < 1:
        raise ValueError(f"an objective is a fraction strictly between 0 and 1, got {objective}")
    return 1 - objective
