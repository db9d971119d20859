"""Figures from counts: aggregates, timeslices, error budgets, burn rates, alert state,
time to exhaustion, freshness and budget-policy tiers."""

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from services.budget.windows import BUCKET, LOOKBACK_WINDOWS

logger = logging.getLogger(__name__)

PAGE = "page"
TICKET = "ticket"
NO_ALERT = "none"

UNKNOWN_TIER = "unknown"

#: Three missed buckets: long enough for a sync to lag a little, short enough to notice an outage.
STALE_AFTER = timedelta(minutes=15)


# --- aggregates ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Event counts summed over the buckets of one window, maintenance excluded.

    buckets_present counts buckets with data (total > 0); buckets_expected counts every bucket the
    window should hold. The portal fills these from the stored SLI data (services.sli) and
    `count_expected_buckets()`; services.budget.in_memory.aggregate() from a list of buckets.
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
        return _threshold(self, slo_window)

    def fires(self, burn_rates: Mapping[str, float | None], slo_window: timedelta) -> bool:
        """Both rates strictly above the threshold; a missing rate never fires."""
        threshold = self.threshold(slo_window)
        rates = (burn_rates.get(self.long_window), burn_rates.get(self.short_window))
        return all(rate is not None and rate > threshold for rate in rates)


@lru_cache(maxsize=256)
def _threshold(rule: BurnRateRule, slo_window: timedelta) -> float:
    # Exact fractions, computed once per rule and window length: a recompute asks thousands of
    # times for the same few.
    long_window = _microseconds(LOOKBACK_WINDOWS[rule.long_window])
    return float(rule.budget_share * Fraction(_microseconds(slo_window), long_window))


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
    data, and (with a log line) when no tier holds it: a policy's bottom tier catches everything
    below the others (floor -inf), and a policy missing one must not stop every snapshot."""
    if remaining is None:
        return UNKNOWN_TIER
    for tier in tiers:
        if tier.holds(remaining):
            return tier.name
    logger.warning(
        "No budget tier holds remaining=%s (tiers %s): the tier is unknown; give the policy a "
        "bottom tier without a floor.",
        remaining,
        ", ".join(tier.name for tier in tiers) or "none",
    )
    return UNKNOWN_TIER


# --- internals ---------------------------------------------------------------------------------

_MAX_TIMEDELTA_SECONDS = timedelta.max.total_seconds()


def _error_budget(good: int, bad: int, allowed_bad: float) -> ErrorBudget:
    if good + bad == 0:
        return ErrorBudget(None, allowed_bad, 0, None, None)
    consumed = bad / allowed_bad
    return ErrorBudget(good / (good + bad), allowed_bad, bad, consumed, 1 - consumed)


def _microseconds(duration: timedelta) -> int:
    return duration // timedelta(microseconds=1)


def _budget_share(objective: float) -> float:
    """The share of events (or slices) allowed to be bad: 1 - objective."""
    if not 0 < objective < 1:
        raise ValueError(f"an objective is a fraction strictly between 0 and 1, got {objective}")
    return 1 - objective
