"""The snapshot: every figure of an SLO at a moment, from per-window counts."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.budget.figures import (
    DEFAULT_TIERS,
    STALE_AFTER,
    BudgetTier,
    SliceCounts,
    WindowCounts,
    alert_state,
    burn_rate,
    data_freshness,
    is_stale,
    occurrences_budget,
    policy_tier,
    time_until_exhaustion,
    timeslices_budget,
)
from services.budget.windows import BURN_RATE_KEYS, WHOLE_WINDOW, Interval

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
