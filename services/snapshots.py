"""An SLO's status snapshot from the rollups of its buckets
(services.selectors.slos.slo_bucket_rollups): which rollups each window, slice, chart point
and month adds up, then services.budget's math.

Pure: no queries, no writes. The rollups split an SLO's buckets by day and (in the last three
days) hour counted back from the observed end, by calendar month and by timeslice, so every
window the engine needs is an exact union of rollups: the look-back windows are whole hours back
from the end, a rolling window whole days, a calendar-month window the rollups of its month, a
slice or a month the rollups that carry its key; in the last 30 minutes rollups are single
buckets.
"""

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.budget.evaluation import evaluate
from services.budget.figures import (
    DEFAULT_TIERS,
    BudgetTier,
    SliceCounts,
    Timeslices,
    WindowCounts,
    burn_rate,
    objective_from_percent,
)
from services.budget.windows import (
    BUCKET,
    LOOKBACK_WINDOWS,
    WHOLE_WINDOW,
    Interval,
    calendar_months,
    ceil_to,
    count_expected_buckets,
    count_expected_slices,
    floor_to,
    observed_end,
    window_bounds,
)
from services.choices import BudgetingMethod, WindowKind
from services.selectors.slos import BucketRollup, RollupRequest

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: Spans of the stored rollups (services.models.SLIRollup), read where a recompute can, longest
#: first, instead of the buckets they sum.
ROLLUP_SPANS = (DAY, HOUR)
#: The longest look-back window shorter than an hour: its rollups are single buckets.
LONGEST_SUB_HOUR_WINDOW = max(length for length in LOOKBACK_WINDOWS.values() if length < HOUR)
#: Hours of 1h burn rates in a snapshot's chart series: the longest look-back window's.
BURN_SERIES_HOURS = max(LOOKBACK_WINDOWS.values()) // HOUR
#: Calendar months of attainment history a snapshot carries, the current one included.
MONTHS_OF_HISTORY = 12


@dataclass(frozen=True)
class SnapshotInputs:
    """What a snapshot needs besides the rollups, loaded once for many SLOs."""

    excluded: list[Interval]
    tiers: tuple[BudgetTier, ...]
    stale_after: timedelta


def window(slo, now: datetime) -> Interval:
    return window_bounds(now, kind=slo.window_kind, days=slo.window_days, tz=slo.time_zone)


def timeslices(slo) -> Timeslices | None:
    if slo.budgeting_method != BudgetingMethod.TIMESLICES:
        return None
    return Timeslices(timedelta(minutes=slo.slice_minutes), float(Decimal(slo.slice_target) / 100))


def history_start(slo, now: datetime) -> datetime:
    """Midnight on the 1st of the oldest month of the monthly history, in UTC."""
    zone = ZoneInfo(slo.time_zone)
    local = now.astimezone(zone)
    months = local.year * 12 + local.month - MONTHS_OF_HISTORY
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=zone).astimezone(UTC)


def rollup_request(slo, now: datetime, excluded: Sequence[Interval]) -> RollupRequest:
    """What slo_bucket_rollups() needs of `slo` at `now`: how to group its data, and a read
    plan cut at every moment where a group's key changes (the day, hour and bucket boundaries
    counted back from the end, the start of the recent range, month starts in the SLO's time
    zone, maintenance edges), so that stored rollups are read only where they fall wholly
    inside one group."""
    window_start, _ = window(slo, now)
    end = observed_end(window(slo, now), now)
    lookback = max(LOOKBACK_WINDOWS.values())
    slices = timeslices(slo)
    history = min(history_start(slo, now), window_start, end - lookback)
    recent = min(window_start, end - lookback)
    cuts = [recent, *(edge for excluded_range in excluded for edge in excluded_range)]
    cuts += (end - back * DAY for back in range(1, (end - recent) // DAY + 1))
    cuts += (end - back * HOUR for back in range(1, lookback // HOUR + 1))
    cuts += (end - back * BUCKET for back in range(1, LONGEST_SUB_HOUR_WINDOW // BUCKET + 1))
    cuts += (start for start, _ in calendar_months(history, end, slo.time_zone))
    # A rollup spans whole slices only where a slice is a whole number of rollup spans.
    spans = [
        span for span in ROLLUP_SPANS if slices is None or slices.length % span == timedelta(0)
    ]
    by_span, by_bucket = read_plan(history, end, cuts, spans, excluded)
    return RollupRequest(
        slo_id=slo.pk,
        history=history,
        recent=recent,
        time_zone=slo.time_zone,
        slice_seconds=slices.length.total_seconds() if slices else None,
        slice_target=slices.target if slices else None,
        excluded=excluded,
        days=by_span.get(DAY, []),
        hours=by_span.get(HOUR, []),
        buckets=by_bucket,
    )


def read_plan(
    start: datetime,
    end: datetime,
    cuts: Iterable[datetime],
    spans: Sequence[timedelta],
    excluded: Sequence[Interval],
) -> tuple[dict[timedelta, list[Interval]], list[Interval]]:
    """How to read the data of [start, end) but `excluded`: for each span (longest first), the
    ranges of whole units of that span (counted from the epoch, like the stored rollups) that
    no cut falls strictly inside — the moments where a rollup's key changes — and what is left,
    to be read bucket by bucket. A unit no cut falls in belongs to one rollup, so reading it
    whole sums what its buckets would; excluded ranges start and end at cuts, so a unit is
    either wholly excluded or not at all."""
    cuts = sorted(set(cuts))
    pending = [(start, end)]
    by_span = {}
    for span in spans:
        units = (floor_to(cut, span) for cut in cuts)
        broken = sorted({unit for unit, cut in zip(units, cuts, strict=True) if unit != cut})
        whole, left = [], []
        for low, high in pending:
            first, last = ceil_to(low, span), floor_to(high, span)
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
        by_span[span] = _without(whole, excluded)
        pending = _merged(left)
    return by_span, _without(pending, excluded)


def _merged(ranges: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-empty ranges with touching or overlapping ones joined."""
    merged: list[list[datetime]] = []
    for low, high in sorted(ranges):
        if low >= high:
            continue
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


def _without(ranges: Iterable[Interval], excluded: Sequence[Interval]):
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


def _counts(rollups: Iterable[BucketRollup], start, end, excluded) -> WindowCounts:
    good = total = present = 0
    for rollup in rollups:
        good += rollup.good
        total += rollup.total
        present += rollup.present
    return WindowCounts(good, total, present, count_expected_buckets(start, end, excluded))


def _tally_slices(
    rollups: Iterable[BucketRollup], slices: Timeslices
) -> tuple[int, int, dict[int | None, int]]:
    """Good and bad slices with data among the rollups, and the bad ones by the day (days back)
    their oldest bucket falls in. Slices one bucket long come judged by the database; longer ones
    are judged here on the sums of the rollups carrying them."""
    good_slices = bad_slices = 0
    bad_by_day: dict[int | None, int] = {}
    if slices.length == BUCKET:
        for rollup in rollups:
            good_slices += rollup.good_slices
            bad_slices += rollup.bad_slices
            bad_by_day[rollup.days_back] = bad_by_day.get(rollup.days_back, 0) + rollup.bad_slices
        return good_slices, bad_slices, bad_by_day
    sums: dict[int, list] = {}
    for rollup in rollups:
        slice_sums = sums.setdefault(rollup.slice, [0, 0, rollup.days_back])
        slice_sums[0] += rollup.good
        slice_sums[1] += rollup.total
        if rollup.days_back is not None and (slice_sums[2] or 0) < rollup.days_back:
            slice_sums[2] = rollup.days_back
    for good, total, day in sums.values():
        if not total:
            continue
        if slices.is_good(good, total):
            good_slices += 1
        else:
            bad_slices += 1
            bad_by_day[day] = bad_by_day.get(day, 0) + 1
    return good_slices, bad_slices, bad_by_day


def _compact(value: float | None) -> float | None:
    """Chart values to 5 significant digits: what a chart can show, at a fraction of the JSON."""
    return None if value is None else float(f"{value:.5g}")


def status_fields(
    slo, now: datetime, rollups: list[BucketRollup], latest: datetime | None, inputs: SnapshotInputs
) -> dict:
    """The SLOStatus fields of `slo` at `now` (the sync outcome fields aside)."""
    objective = objective_from_percent(slo.objective)
    slo_window = window(slo, now)
    window_start = slo_window[0]
    end = observed_end(slo_window, now)
    excluded = inputs.excluded
    recent = [rollup for rollup in rollups if rollup.days_back is not None]
    last_days = [rollup for rollup in recent if rollup.hours_back is not None]
    if slo.window_kind == WindowKind.CALENDAR_MONTH:
        local = window_start.astimezone(ZoneInfo(slo.time_zone))
        in_window = [rollup for rollup in recent if rollup.month == (local.year, local.month)]
    else:
        days = (end - window_start) // DAY
        in_window = [rollup for rollup in recent if rollup.days_back < days]

    counts = {}
    for key, length in LOOKBACK_WINDOWS.items():
        if length >= HOUR:
            inside = [rollup for rollup in last_days if rollup.hours_back < length // HOUR]
        else:
            inside = [
                rollup
                for rollup in last_days
                if rollup.buckets_back is not None and rollup.buckets_back < length // BUCKET
            ]
        counts[key] = _counts(inside, end - length, end, excluded)
    counts[WHOLE_WINDOW] = _counts(in_window, window_start, end, excluded)

    slices = timeslices(slo)
    slice_counts = bad_slices_by_day = None
    if slices:
        good_slices, bad_slices, bad_slices_by_day = _tally_slices(in_window, slices)
        slice_counts = SliceCounts(
            good_slices,
            bad_slices,
            count_expected_slices(*slo_window, slices.length, excluded),
        )
    figures = evaluate(
        objective=objective,
        window=slo_window,
        now=now,
        counts=counts,
        latest_data_start=latest,
        slices=slice_counts,
        stale_after=inputs.stale_after,
        tiers=inputs.tiers,
    )
    return {
        "computed_at": now,
        "window_start": window_start,
        "window_end": slo_window[1],
        "attainment": figures.attainment,
        "allowed_bad": figures.allowed_bad,
        "bad": figures.bad,
        "consumed": figures.consumed,
        "remaining": figures.remaining,
        "burn_rates": figures.burn_rates,
        "alert": figures.alert,
        "policy_tier": figures.policy_tier,
        "coverage": figures.coverage,
        "latest_data_at": latest,
        "stale": figures.stale,
        "time_until_exhaustion": figures.time_until_exhaustion,
        "series": {
            "budget": _budget_series(window_start, end, in_window, figures, bad_slices_by_day),
            "burn_1h": _burn_series(window_start, end, in_window, objective),
        },
        "monthly": _monthly(slo, now, end, rollups, objective, slices),
    }


def _budget_series(window_start, end, in_window, figures, bad_slices_by_day) -> list[list]:
    """[time, budget remaining] at each whole day back from the observed end, oldest first, the
    last at the end itself: the burn-down chart, which ends at the snapshot's remaining. A bad
    slice counts from the day its oldest bucket falls in."""
    if bad_slices_by_day is None:
        bad_by_day: dict[int, int] = {}
        for rollup in in_window:
            day = rollup.days_back
            bad_by_day[day] = bad_by_day.get(day, 0) + rollup.total - rollup.good
    else:
        bad_by_day = bad_slices_by_day
    days = -((window_start - end) // DAY)
    points = []
    for day in range(days - 1, -1, -1):
        spent = sum(bad for back, bad in bad_by_day.items() if back >= day)
        remaining = 1 - spent / figures.allowed_bad if figures.allowed_bad else None
        points.append([(end - day * DAY).isoformat(), _compact(remaining)])
    return points


def _burn_series(window_start, end, in_window, objective) -> list[list]:
    """[time, burn rate] of each hour of the last three days of the window (the longest look-back
    window), at the hour's end: hours counted back from the observed end, so the last point is
    the snapshot's 1h burn rate."""
    sums: dict[int, list[int]] = {}
    for rollup in in_window:
        if rollup.hours_back is not None:
            hour_sums = sums.setdefault(rollup.hours_back, [0, 0])
            hour_sums[0] += rollup.good
            hour_sums[1] += rollup.total
    hours = min(-((window_start - end) // HOUR), BURN_SERIES_HOURS)
    points = []
    for back in range(hours - 1, -1, -1):
        good, total = sums.get(back, (0, 0))
        rate = burn_rate(WindowCounts(good, total, 0, 0), objective)
        points.append([(end - back * HOUR).isoformat(), _compact(rate)])
    return points


def _monthly(slo, now, end, rollups, objective, slices) -> list[dict]:
    """Attainment per calendar month (in the SLO's time zone) for the last 12 months, each
    measured with the SLO's budgeting method; the current month so far."""
    zone = ZoneInfo(slo.time_zone)
    by_month: dict[tuple[int, int], list[BucketRollup]] = {}
    for rollup in rollups:
        by_month.setdefault(rollup.month, []).append(rollup)
    history = []
    for month_start, month_end in calendar_months(history_start(slo, now), end, zone):
        local = month_start.astimezone(zone)
        month_rollups = by_month.get((local.year, local.month), [])
        if slices is None:
            good = sum(rollup.good for rollup in month_rollups)
            total = sum(rollup.total for rollup in month_rollups)
        else:
            good, bad, _ = _tally_slices(month_rollups, slices)
            total = good + bad
        attainment = good / total if total else None
        history.append(
            {
                "start": month_start.isoformat(),
                "end": month_end.isoformat(),
                "attainment": attainment,
                "met": None if attainment is None else attainment >= objective,
            }
        )
    return history


def policy_tiers(policy) -> tuple[BudgetTier, ...]:
    """A BudgetPolicy's tiers, best first (the model's ordering), as the engine's tiers."""
    if policy is None:
        return DEFAULT_TIERS
    return tuple(
        BudgetTier(
            tier.name,
            -math.inf if tier.min_remaining is None else float(tier.min_remaining),
            tier.min_included,
        )
        for tier in policy.tiers.all()
    )
