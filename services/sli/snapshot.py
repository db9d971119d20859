"""An SLO's status snapshot from its SLI groups (services.sli.read.slo_groups): which groups
each window, slice, chart point and month adds up, then services.budget's math.

Pure: no queries, no writes. Every figure is a sum of whole groups: the look-back windows
those whose look-back count reaches them, the SLO window those in it, the burn-down chart's
points (at each UTC midnight of the window, and at its observed end) the window's days before
them, the burn-rate chart's points (at the end of each whole UTC hour of the last three days,
and at the observed end) one hour each, a month those of its month. Timeslices are judged on
the groups that hold them whole, or on the sums of the pieces of one slice.
"""

from datetime import UTC, datetime
from functools import lru_cache

from services.budget.evaluation import evaluate
from services.budget.figures import (
    DEFAULT_TIERS,
    BudgetTier,
    SliceCounts,
    WindowCounts,
    objective_from_percent,
)
from services.budget.windows import (
    LOOKBACK_WINDOWS,
    WHOLE_WINDOW,
    count_expected_buckets,
    count_expected_slices,
    observed_end,
)
from services.sli.plan import (
    BUCKET_SECONDS,
    DAY_SECONDS,
    HOUR_SECONDS,
    LOOKBACK_SECONDS,
    epoch,
    history_start,
    hours_from,
    months_between,
    timeslices,
    window,
)
from services.sli.types import SLIGroup, SnapshotInputs

#: The look-back windows' keys, longest first, as LOOKBACK_SECONDS orders them.
_LOOKBACK_KEYS = sorted(LOOKBACK_WINDOWS, key=LOOKBACK_WINDOWS.get, reverse=True)


@lru_cache(maxsize=4096)
def _iso(seconds: int) -> str:
    """A chart point's time; the same few hundred moments recur in every SLO of a recompute."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _compact(value: float | None) -> float | None:
    """Chart values to 5 significant digits: what a chart can show, at a fraction of the JSON."""
    return None if value is None else float(f"{value:.5g}")


def status_fields(
    slo, now: datetime, groups: list[SLIGroup], latest: datetime | None, inputs: SnapshotInputs
) -> dict:
    """The SLOStatus fields of `slo` at `now` (the sync outcome fields aside)."""
    objective = objective_from_percent(slo.objective)
    slo_window = window(slo, now)
    end_moment = observed_end(slo_window, now)
    window_start, end = epoch(slo_window[0]), epoch(end_moment)
    excluded = inputs.excluded
    slices = timeslices(slo)

    # One pass over the groups; the loop is the hot path of a recompute, hence plain locals.
    lookback_good = [0] * (len(LOOKBACK_SECONDS) + 1)
    lookback_total = lookback_good.copy()
    lookback_present = lookback_good.copy()
    window_good = window_total = window_present = 0
    bad_by_day: dict[int, int] = {}
    hour_good: dict[int, int] = {}
    hour_total: dict[int, int] = {}
    month_good: dict[int, int] = {}
    month_total: dict[int, int] = {}
    # Timeslices: whole slices judged inside groups, and the pieces of longer slices by slice.
    judged_in_window = [0, 0]
    judged_by_month: dict[int, list[int]] = {}
    window_pieces: dict[int, list[int]] = {}
    month_pieces: dict[tuple[int, int], list[int]] = {}
    for group in groups:
        in_window, month, day, hour, lookback, piece, good, total, present = group[:9]
        lookback_good[lookback] += good
        lookback_total[lookback] += total
        lookback_present[lookback] += present
        month_good[month] = month_good.get(month, 0) + good
        month_total[month] = month_total.get(month, 0) + total
        if in_window:
            window_good += good
            window_total += total
            window_present += present
            if hour is not None:
                hour_good[hour] = hour_good.get(hour, 0) + good
                hour_total[hour] = hour_total.get(hour, 0) + total
            if slices is None:
                bad_by_day[day] = bad_by_day.get(day, 0) + total - good
        if slices is None:
            continue
        if piece is None:
            good_slices, bad_slices = group[9], group[10]
            judged = judged_by_month.setdefault(month, [0, 0])
            judged[0] += good_slices
            judged[1] += bad_slices
            if in_window:
                judged_in_window[0] += good_slices
                judged_in_window[1] += bad_slices
                bad_by_day[day] = bad_by_day.get(day, 0) + bad_slices
            continue
        sums = month_pieces.setdefault((month, piece), [0, 0])
        sums[0] += good
        sums[1] += total
        if in_window:
            sums = window_pieces.setdefault(piece, [0, 0, day])
            sums[0] += good
            sums[1] += total
            sums[2] = min(sums[2], day)

    # A group with look-back count n lies in the n longest windows: each window's counts are
    # the sums from its position on, added up from the shortest window.
    counts = {}
    good = total = present = 0
    for position in range(len(LOOKBACK_SECONDS), 0, -1):
        good += lookback_good[position]
        total += lookback_total[position]
        present += lookback_present[position]
        length = LOOKBACK_SECONDS[position - 1]
        counts[_LOOKBACK_KEYS[position - 1]] = WindowCounts(
            good, total, present, _expected_buckets(end - length, end, excluded)
        )
    counts[WHOLE_WINDOW] = WindowCounts(
        window_good,
        window_total,
        window_present,
        _expected_buckets(window_start, end, excluded),
    )

    slice_counts = None
    if slices:
        good_slices, bad_slices = judged_in_window
        for good, total, day in window_pieces.values():
            if not total:
                continue
            if slices.is_good(good, total):
                good_slices += 1
            else:
                bad_slices += 1
                bad_by_day[day] = bad_by_day.get(day, 0) + 1
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
    months = months_between(slo.time_zone, epoch(history_start(slo, now)), end)
    return {
        "computed_at": now,
        "window_start": slo_window[0],
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
            "budget": _budget_series(window_start, end, bad_by_day, figures),
            "burn_1h": _burn_series(
                window_start, end, hour_good, hour_total, 1 - objective, figures.burn_rates["1h"]
            ),
        },
        "monthly": _monthly(
            months, month_good, month_total, judged_by_month, month_pieces, objective, slices
        ),
    }


def _expected_buckets(start: int, end: int, excluded) -> int:
    """count_expected_buckets(), without its checks where nothing is excluded (most SLOs)."""
    if not excluded:
        return max(0, end - start) // BUCKET_SECONDS
    return count_expected_buckets(
        datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), excluded
    )


def _budget_series(window_start: int, end: int, bad_by_day: dict, figures) -> list[list]:
    """[time, budget remaining] at each UTC midnight inside the window and at its observed end,
    oldest first: the burn-down chart, which ends at the snapshot's remaining. A bad slice
    counts from the day its oldest bucket falls in."""
    allowed = figures.allowed_bad
    days = sorted(bad_by_day)
    points = []
    spent = position = 0
    for day in range(window_start // DAY_SECONDS + 1, -(-end // DAY_SECONDS)):
        while position < len(days) and days[position] < day:
            spent += bad_by_day[days[position]]
            position += 1
        remaining = 1 - spent / allowed if allowed else None
        points.append([_iso(day * DAY_SECONDS), _compact(remaining)])
    points.append([_iso(end), _compact(figures.remaining)])
    return points


def _burn_series(
    window_start: int, end: int, hour_good: dict, hour_total: dict, share: float, last
) -> list[list]:
    """[time, 1h burn rate] at the end of each whole UTC hour of the window's last three days
    (the longest look-back window) and, last, at the observed end: the snapshot's 1h burn."""
    points = []
    for hour in range(hours_from(window_start, end) // HOUR_SECONDS, end // HOUR_SECONDS):
        hour_end = (hour + 1) * HOUR_SECONDS
        if hour_end >= end:
            break
        total = hour_total.get(hour)
        rate = (total - hour_good[hour]) / total / share if total else None
        points.append([_iso(hour_end), _compact(rate)])
    points.append([_iso(end), _compact(last)])
    return points


def _monthly(months, month_good, month_total, judged_by_month, month_pieces, objective, slices):
    """Attainment per calendar month (in the SLO's time zone) for the last 12 months, each
    measured with the SLO's budgeting method; the current month so far."""
    judged_pieces: dict[int, list[int]] = {}
    if slices:
        for (month, _), (good, total) in month_pieces.items():
            if total:
                judged = judged_pieces.setdefault(month, [0, 0])
                judged[0 if slices.is_good(good, total) else 1] += 1
    history = []
    for month in months:
        if slices is None:
            good, total = month_good.get(month.key, 0), month_total.get(month.key, 0)
        else:
            good, bad = judged_by_month.get(month.key, (0, 0))
            more_good, more_bad = judged_pieces.get(month.key, (0, 0))
            good += more_good
            total = good + bad + more_bad
        attainment = good / total if total else None
        history.append(
            {
                "start": month.start_iso,
                "end": month.end_iso,
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
            float("-inf") if tier.min_remaining is None else float(tier.min_remaining),
            tier.min_included,
        )
        for tier in policy.tiers.all()
    )
