"""An SLO's status snapshot from its SLI groups (services.sli.read.slo_groups): which groups
each window, slice, chart point and month adds up, then services.budget's math.

Pure: no queries, no writes. Every figure is a sum of whole groups: the look-back windows
those whose look-back count reaches them, the SLO window those in it, the burn-down chart's
points (at each UTC midnight of the window, and at its observed end) the window's days before
them, the burn-rate chart's points (at the end of each whole UTC hour of the last three days,
and at the observed end) one hour each, a month those of its month. Timeslices are judged on
the groups that hold them whole, or on the sums of the pieces of one slice.
"""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

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
    calendar_months,
    count_expected_buckets,
    count_expected_slices,
    observed_end,
)
from services.sli.plan import (
    DAY_SECONDS,
    HOUR_SECONDS,
    LOOKBACK_SECONDS,
    epoch,
    history_start,
    hours_from,
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
    share = 1 - objective
    slo_window = window(slo, now)
    end_moment = observed_end(slo_window, now)
    window_start, end = epoch(slo_window[0]), epoch(end_moment)
    excluded = inputs.excluded
    slices = timeslices(slo)

    by_lookback = [[0, 0, 0] for _ in range(len(LOOKBACK_SECONDS) + 1)]
    in_window = [0, 0, 0]
    bad_by_day: dict[int, int] = {}
    hours: dict[int, list[int]] = {}
    months: dict[int, list[int]] = {}
    # Timeslices: whole slices judged inside groups, and the pieces of longer slices by slice.
    judged_in_window = [0, 0]
    judged_by_month: dict[int, list[int]] = {}
    window_pieces: dict[int, list[int]] = {}
    month_pieces: dict[tuple[int, int], list[int]] = {}
    for group in groups:
        good, total = group.good, group.total
        sums = by_lookback[group.lookback]
        sums[0] += good
        sums[1] += total
        sums[2] += group.present
        month = months.setdefault(group.month, [0, 0])
        month[0] += good
        month[1] += total
        if group.in_window:
            in_window[0] += good
            in_window[1] += total
            in_window[2] += group.present
            if group.hour is not None:
                hour = hours.setdefault(group.hour, [0, 0])
                hour[0] += good
                hour[1] += total
            if slices is None:
                bad_by_day[group.day] = bad_by_day.get(group.day, 0) + total - good
        if slices is None:
            continue
        if group.slice is None:
            judged = judged_by_month.setdefault(group.month, [0, 0])
            judged[0] += group.good_slices
            judged[1] += group.bad_slices
            if group.in_window:
                judged_in_window[0] += group.good_slices
                judged_in_window[1] += group.bad_slices
                bad_by_day[group.day] = bad_by_day.get(group.day, 0) + group.bad_slices
            continue
        piece = month_pieces.setdefault((group.month, group.slice), [0, 0])
        piece[0] += good
        piece[1] += total
        if group.in_window:
            piece = window_pieces.setdefault(group.slice, [0, 0, group.day])
            piece[0] += good
            piece[1] += total
            piece[2] = min(piece[2], group.day)

    # A group with look-back count n lies in the n longest windows: each window's counts are
    # the sums from its position on, added up from the shortest window.
    counts = {}
    good = total = present = 0
    for position in range(len(LOOKBACK_SECONDS), 0, -1):
        sums = by_lookback[position]
        good += sums[0]
        total += sums[1]
        present += sums[2]
        length = timedelta(seconds=LOOKBACK_SECONDS[position - 1])
        expected = count_expected_buckets(end_moment - length, end_moment, excluded)
        counts[_LOOKBACK_KEYS[position - 1]] = WindowCounts(good, total, present, expected)
    counts[WHOLE_WINDOW] = WindowCounts(
        *in_window, count_expected_buckets(slo_window[0], end_moment, excluded)
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
            "burn_1h": _burn_series(window_start, end, hours, share, figures.burn_rates["1h"]),
        },
        "monthly": _monthly(
            slo, now, end_moment, months, judged_by_month, month_pieces, objective, slices
        ),
    }


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


def _burn_series(window_start: int, end: int, hours: dict, share: float, last) -> list[list]:
    """[time, 1h burn rate] at the end of each whole UTC hour of the window's last three days
    (the longest look-back window) and, last, at the observed end: the snapshot's 1h burn."""
    points = []
    for hour in range(hours_from(window_start, end) // HOUR_SECONDS, end // HOUR_SECONDS):
        hour_end = (hour + 1) * HOUR_SECONDS
        if hour_end >= end:
            break
        good, total = hours.get(hour, (0, 0))
        rate = (total - good) / total / share if total else None
        points.append([_iso(hour_end), _compact(rate)])
    points.append([_iso(end), _compact(last)])
    return points


def _monthly(slo, now, end, months, judged_by_month, month_pieces, objective, slices):
    """Attainment per calendar month (in the SLO's time zone) for the last 12 months, each
    measured with the SLO's budgeting method; the current month so far."""
    zone = ZoneInfo(slo.time_zone)
    judged_pieces: dict[int, list[int]] = {}
    if slices:
        for (month, _), (good, total) in month_pieces.items():
            if total:
                judged = judged_pieces.setdefault(month, [0, 0])
                judged[0 if slices.is_good(good, total) else 1] += 1
    history = []
    for month_start, month_end in calendar_months(history_start(slo, now), end, zone):
        local = month_start.astimezone(zone)
        key = local.year * 12 + local.month - 1
        if slices is None:
            good, total = months.get(key, (0, 0))
        else:
            good, bad = judged_by_month.get(key, (0, 0))
            more_good, more_bad = judged_pieces.get(key, (0, 0))
            good += more_good
            total = good + bad + more_bad
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
            float("-inf") if tier.min_remaining is None else float(tier.min_remaining),
            tier.min_included,
        )
        for tier in policy.tiers.all()
    )
