"""The snapshot: every figure of an SLO at a moment, from per-window counts or from
buckets, and attainment per calendar month."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from services.budget.figures import (
    DEFAULT_TIERS,
    STALE_AFTER,
    BudgetTier,
    SliceCounts,
    Timeslices,
    WindowCounts,
    aggregate,
    alert_state,
    burn_rate,
    count_slices,
    data_freshness,
    is_stale,
    occurrences_budget,
    policy_tier,
    time_until_exhaustion,
    timeslices_budget,
)
from services.budget.windows import (
    BURN_RATE_KEYS,
    WHOLE_WINDOW,
    Bucket,
    Interval,
    burn_rate_windows,
    calendar_months,
    excluded_bucket_ranges,
    observed_end,
)

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
