"""The in-memory evaluation: every figure of an SLO from a plain list of buckets.

The portal computes snapshots from the stored SLI data, summed in the database by the read plan
(services.sli); this module computes the same figures the obvious way, bucket by bucket, and is
the oracle the tests hold that path to (and the reference for anyone checking a figure by hand).
Pure: no Django, no I/O.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from services.budget.evaluation import SLOStatus, evaluate
from services.budget.figures import (
    DEFAULT_TIERS,
    STALE_AFTER,
    BudgetTier,
    SliceCounts,
    Timeslices,
    WindowCounts,
    occurrences_budget,
    timeslices_budget,
)
from services.budget.windows import (
    EPOCH,
    Bucket,
    Interval,
    buckets_within,
    burn_rate_windows,
    calendar_months,
    count_expected_buckets,
    count_expected_slices,
    excluded_bucket_ranges,
    observed_end,
)


def aggregate(
    buckets: Iterable[Bucket], start: datetime, end: datetime, exclusions: Iterable[Interval] = ()
) -> WindowCounts:
    """Sum the buckets starting in [start, end), leaving out those in maintenance windows."""
    ranges = excluded_bucket_ranges(exclusions)
    good = total = present = 0
    for bucket in buckets_within(buckets, start, end, ranges):
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
    for bucket in buckets_within(buckets, start, end, ranges):
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
