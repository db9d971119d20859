"""SLO math: attainment, error budgets, burn rates, alert state, coverage and freshness.

Pure functions over counts, with no Django and no I/O, so that every figure the portal shows can be
checked by hand and pinned by property tests.

The unit of data is a `Bucket`: good and total event counts over 5 minutes, aligned to the Unix
epoch. Storing counts rather than ratios is what makes any window, calendar month, timeslice or
maintenance exclusion exact: a window's figures are sums of its buckets.

The core functions take per-window aggregates (`WindowCounts`, `SliceCounts`), which the portal
sums from its stored SLI data (services.sli). services.budget.in_memory computes the same
aggregates and figures from a plain list of buckets: the oracle the tests hold the portal to.

Conventions:
- Objectives are fractions (0.999); `objective_from_percent()` converts the 99.9 people type.
- All datetimes are timezone-aware; windows are half-open, [start, end).
- "No data" is never good data: a bucket with total == 0 is no data, a window without data has no
  attainment, no budget figures and no burn rate (None), and coverage says how much is missing.
- The budget may be overspent: remaining goes below zero and is reported as such, never clamped.

Modules: services.budget.windows (the bucket grid, windows, maintenance exclusions),
services.budget.figures (budgets, burn rates, alerts, freshness, policy tiers),
services.budget.evaluation (the snapshot from aggregates) and services.budget.in_memory (every
figure from a list of buckets); callers import each name from the module that defines it.
"""
