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

Modules: services.budget.windows (the bucket grid, windows, maintenance exclusions),
services.budget.figures (aggregates, budgets, burn rates, alerts, freshness, policy tiers) and
services.budget.evaluation (the snapshot, monthly attainment); callers use this package.
"""

from services.budget.evaluation import (
    MonthlyAttainment,
    SLOStatus,
    evaluate,
    evaluate_buckets,
    monthly_attainment,
)
from services.budget.figures import (
    BURN_RATE_RULES,
    DEFAULT_TIERS,
    NO_ALERT,
    PAGE,
    STALE_AFTER,
    TICKET,
    UNKNOWN_TIER,
    BudgetTier,
    BurnRateRule,
    ErrorBudget,
    SliceCounts,
    Timeslices,
    WindowCounts,
    aggregate,
    alert_state,
    burn_rate,
    count_slices,
    data_freshness,
    is_stale,
    objective_from_percent,
    occurrences_budget,
    policy_tier,
    time_until_exhaustion,
    timeslices_budget,
)
from services.budget.windows import (
    BUCKET,
    BURN_RATE_KEYS,
    CALENDAR_MONTH,
    EPOCH,
    LOOKBACK_WINDOWS,
    ROLLING,
    WHOLE_WINDOW,
    Bucket,
    Interval,
    align_down,
    buckets_within,
    burn_rate_windows,
    calendar_months,
    ceil_to,
    count_expected_buckets,
    count_expected_slices,
    excluded_bucket_ranges,
    floor_to,
    observed_end,
    window_bounds,
)

__all__ = [
    "BUCKET",
    "BURN_RATE_KEYS",
    "BURN_RATE_RULES",
    "CALENDAR_MONTH",
    "DEFAULT_TIERS",
    "EPOCH",
    "LOOKBACK_WINDOWS",
    "NO_ALERT",
    "PAGE",
    "ROLLING",
    "STALE_AFTER",
    "TICKET",
    "UNKNOWN_TIER",
    "WHOLE_WINDOW",
    "Bucket",
    "BudgetTier",
    "BurnRateRule",
    "ErrorBudget",
    "Interval",
    "MonthlyAttainment",
    "SLOStatus",
    "SliceCounts",
    "Timeslices",
    "WindowCounts",
    "aggregate",
    "alert_state",
    "align_down",
    "buckets_within",
    "burn_rate",
    "burn_rate_windows",
    "calendar_months",
    "ceil_to",
    "count_expected_buckets",
    "count_expected_slices",
    "count_slices",
    "data_freshness",
    "evaluate",
    "evaluate_buckets",
    "excluded_bucket_ranges",
    "floor_to",
    "is_stale",
    "monthly_attainment",
    "objective_from_percent",
    "observed_end",
    "occurrences_budget",
    "policy_tier",
    "time_until_exhaustion",
    "timeslices_budget",
    "window_bounds",
]
