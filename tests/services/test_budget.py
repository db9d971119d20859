"""SLO math: hand-computed examples for each rule, and hypothesis properties for the invariants."""

import logging
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.budget.evaluation import evaluate
from services.budget.figures import (
    BURN_RATE_RULES,
    NO_ALERT,
    PAGE,
    TICKET,
    UNKNOWN_TIER,
    BudgetTier,
    SliceCounts,
    Timeslices,
    WindowCounts,
    alert_state,
    burn_rate,
    data_freshness,
    is_stale,
    objective_from_percent,
    occurrences_budget,
    policy_tier,
    time_until_exhaustion,
    timeslices_budget,
)
from services.budget.in_memory import aggregate, count_slices, evaluate_buckets, monthly_attainment
from services.budget.windows import (
    BUCKET,
    BURN_RATE_KEYS,
    CALENDAR_MONTH,
    ROLLING,
    Bucket,
    burn_rate_windows,
    calendar_months,
    count_expected_buckets,
    count_expected_slices,
    excluded_bucket_ranges,
    observed_end,
    window_bounds,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def at(minutes: int = 0, *, hours: int = 0, days: int = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, minutes=minutes)


def steady(start: datetime, count: int, *, good: int, total: int) -> list[Bucket]:
    return [Bucket(start + i * BUCKET, good, total) for i in range(count)]


def counts(good: int, total: int) -> WindowCounts:
    return WindowCounts(good=good, total=total, buckets_present=1, buckets_expected=1)


# --- budget ----------------------------------------------------------------------------------


def test_500_bad_in_a_million_events_consume_half_of_a_99_9_percent_budget():
    budget = occurrences_budget(counts(good=999_500, total=1_000_000), objective=0.999)

    assert budget.allowed_bad == pytest.approx(1_000)
    assert budget.bad == 500
    assert budget.attainment == 0.9995
    assert budget.consumed == pytest.approx(0.5)
    assert budget.remaining == pytest.approx(0.5)


def test_an_overspent_budget_reports_negative_remaining_instead_of_zero():
    budget = occurrences_budget(counts(good=997_500, total=1_000_000), objective=0.999)

    assert budget.consumed == pytest.approx(2.5)
    assert budget.remaining == pytest.approx(-1.5)
    assert policy_tier(budget.remaining) == "frozen"


def test_a_window_without_events_has_no_attainment_and_no_budget_figures():
    budget = occurrences_budget(WindowCounts(0, 0, 0, 12), objective=0.999)

    assert budget.attainment is None
    assert budget.consumed is None
    assert budget.remaining is None
    assert policy_tier(budget.remaining) == UNKNOWN_TIER


def test_objective_from_percent_gives_the_fraction_nearest_to_the_typed_value():
    assert objective_from_percent(99.9) == 0.999
    assert objective_from_percent("99.95") == 0.9995


@pytest.mark.parametrize("percent", [0, 100, 120, -1])
def test_objective_from_percent_rejects_values_outside_0_to_100(percent):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        objective_from_percent(percent)


# --- buckets, windows, exclusions ---------------------------------------------------------------


def test_zero_total_buckets_are_no_data_and_never_count_as_perfect():
    buckets = steady(at(), 12, good=0, total=0)

    window = aggregate(buckets, at(), at(hours=1))
    status = evaluate_buckets(buckets, objective=0.99, window=(at(), at(hours=1)), now=at(hours=1))

    assert window == WindowCounts(good=0, total=0, buckets_present=0, buckets_expected=12)
    assert window.coverage == 0
    assert status.attainment is None
    assert status.remaining is None
    assert status.burn_rates["window"] is None
    assert status.policy_tier == UNKNOWN_TIER
    assert status.stale


def test_aggregate_sums_only_the_buckets_starting_inside_the_window():
    buckets = steady(at(-5), 14, good=9, total=10)

    window = aggregate(buckets, at(), at(hours=1))

    assert window == WindowCounts(good=108, total=120, buckets_present=12, buckets_expected=12)


def test_buckets_overlapping_a_maintenance_window_are_excluded_and_not_expected():
    buckets = steady(at(), 12, good=10, total=10)
    buckets[1] = Bucket(at(5), 0, 50)  # the outage during the maintenance
    maintenance = [(at(2), at(11))]  # touches the buckets at :00, :05 and :10

    window = aggregate(buckets, at(), at(hours=1), exclusions=maintenance)

    assert excluded_bucket_ranges(maintenance) == [(at(0), at(15))]
    assert window == WindowCounts(good=90, total=90, buckets_present=9, buckets_expected=9)


def test_overlapping_and_touching_maintenance_windows_merge():
    maintenance = [(at(30), at(40)), (at(0), at(10)), (at(8), at(20)), (at(20), at(25))]

    assert excluded_bucket_ranges(maintenance) == [(at(0), at(25)), (at(30), at(40))]
    assert count_expected_buckets(at(), at(hours=1), maintenance) == 12 - 5 - 2


def test_a_bucket_must_start_on_a_five_minute_boundary_in_a_known_time_zone():
    with pytest.raises(ValueError, match="boundary"):
        Bucket(at(3), 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        Bucket(datetime(2025, 3, 1), 1, 1)


@pytest.mark.parametrize(("good", "total"), [(11, 10), (-1, 10), (0, -1)])
def test_a_bucket_cannot_hold_more_good_events_than_events(good, total):
    with pytest.raises(ValueError, match="good <= total"):
        Bucket(at(), good, total)


def test_a_bucket_given_twice_is_refused_rather_than_counted_twice():
    with pytest.raises(ValueError, match="given twice"):
        aggregate([Bucket(at(), 1, 1), Bucket(at(), 1, 1)], at(), at(hours=1))


def test_a_rolling_window_ends_at_the_start_of_the_bucket_in_progress():
    assert window_bounds(at(hours=12, minutes=7), kind=ROLLING, days=30) == (
        at(hours=12, minutes=5, days=-30),
        at(hours=12, minutes=5),
    )


def test_a_rolling_window_needs_days_and_a_calendar_month_needs_a_time_zone():
    with pytest.raises(ValueError, match="days"):
        window_bounds(at(), kind=ROLLING)
    with pytest.raises(ValueError, match="time zone"):
        window_bounds(at(), kind=CALENDAR_MONTH)
    with pytest.raises(ValueError, match="unknown window kind"):
        window_bounds(at(), kind="weekly")


def test_march_in_berlin_is_an_hour_short_because_the_clocks_go_forward():
    start, end = window_bounds(
        datetime(2025, 3, 15, tzinfo=UTC), kind=CALENDAR_MONTH, tz="Europe/Berlin"
    )

    assert start == datetime(2025, 2, 28, 23, tzinfo=UTC)  # midnight CET
    assert end == datetime(2025, 3, 31, 22, tzinfo=UTC)  # midnight CEST
    assert end - start == timedelta(days=31, hours=-1)
    assert count_expected_buckets(start, end) == (31 * 24 - 1) * 12


def test_october_in_berlin_is_an_hour_long_because_the_clocks_go_back():
    start, end = window_bounds(
        datetime(2025, 10, 31, 22, 30, tzinfo=UTC), kind=CALENDAR_MONTH, tz="Europe/Berlin"
    )

    assert (start, end) == (
        datetime(2025, 9, 30, 22, tzinfo=UTC),
        datetime(2025, 10, 31, 23, tzinfo=UTC),
    )
    assert end - start == timedelta(days=31, hours=1)


def test_the_calendar_month_follows_the_local_date_not_the_utc_date():
    late_on_the_last_of_march_in_utc = datetime(2025, 3, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 April

    start, _ = window_bounds(
        late_on_the_last_of_march_in_utc, kind=CALENDAR_MONTH, tz="Europe/Berlin"
    )

    assert start == datetime(2025, 3, 31, 22, tzinfo=UTC)


@pytest.mark.parametrize(("year", "days"), [(2024, 29), (2025, 28)])
def test_february_is_28_days_long_or_29_in_a_leap_year(year, days):
    start, end = window_bounds(datetime(year, 2, 10, tzinfo=UTC), kind=CALENDAR_MONTH, tz="UTC")

    assert (start, end - start) == (datetime(year, 2, 1, tzinfo=UTC), timedelta(days=days))


def test_calendar_months_run_across_the_turn_of_the_year():
    months = calendar_months(
        datetime(2024, 12, 20, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC), "UTC"
    )

    assert months == [
        (datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)),
    ]


def test_the_observed_part_of_a_calendar_month_stops_at_the_bucket_in_progress():
    month = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))

    assert observed_end(month, datetime(2025, 3, 10, 8, 3, tzinfo=UTC)) == datetime(
        2025, 3, 10, 8, tzinfo=UTC
    )
    assert observed_end(month, datetime(2025, 5, 1, tzinfo=UTC)) == month[1]


def test_burn_rate_windows_end_together_and_the_whole_window_starts_with_the_slo_window():
    windows = burn_rate_windows(at(days=-30), at())

    assert tuple(windows) == BURN_RATE_KEYS == ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "window")
    assert windows["1h"] == (at(hours=-1), at())
    assert windows["window"] == (at(days=-30), at())


def test_monthly_attainment_puts_each_bucket_in_its_local_calendar_month():
    january_evening_in_utc = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)  # already February in Berlin
    buckets = [
        Bucket(datetime(2025, 1, 10, tzinfo=UTC), 990, 1_000),
        Bucket(january_evening_in_utc, 1_000, 1_000),
    ]

    history = monthly_attainment(
        buckets,
        objective=0.995,
        start=datetime(2025, 1, 15, tzinfo=UTC),
        end=datetime(2025, 3, 15, tzinfo=UTC),
        tz="Europe/Berlin",
    )

    berlin = ZoneInfo("Europe/Berlin")
    assert [
        (month.start.astimezone(berlin).month, month.attainment, month.met) for month in history
    ] == [
        (1, 0.99, False),
        (2, 1.0, True),
        (3, None, None),
    ]


# --- timeslices ------------------------------------------------------------------------------


def test_timeslices_count_good_and_bad_slices_and_budget_on_every_slice_of_the_window():
    hourly = Timeslices(length=timedelta(hours=1), target=0.99)
    buckets = [
        *steady(at(hours=0), 12, good=100, total=100),  # 100 %: good
        *steady(at(hours=1), 12, good=98, total=100),  # 98 %: bad
        *steady(at(hours=2), 12, good=0, total=0),  # no data
        *steady(at(hours=3), 6, good=99, total=100),  # 99 % over the half hour it has: good
    ]

    slices = count_slices(buckets, at(), at(days=1), hourly)
    budget = timeslices_budget(slices, objective=0.95)

    assert slices == SliceCounts(good_slices=2, bad_slices=1, slices_in_window=24)
    assert budget.allowed_bad == pytest.approx(1.2)  # 5 % of 24 slices
    assert budget.consumed == pytest.approx(1 / 1.2)
    assert budget.attainment == pytest.approx(2 / 3)  # slices without data are not counted


def test_a_slice_exactly_at_its_target_is_good():
    assert Timeslices(length=BUCKET, target=0.999).is_good(999, 1_000)
    assert not Timeslices(length=BUCKET, target=0.999).is_good(998, 1_000)


@pytest.mark.parametrize("length", [timedelta(minutes=1), timedelta(minutes=7), timedelta(0)])
def test_a_timeslice_must_be_a_positive_multiple_of_five_minutes(length):
    with pytest.raises(ValueError, match="multiple"):
        Timeslices(length=length, target=0.99)


@pytest.mark.parametrize("target", [0, 1.5])
def test_a_timeslice_target_is_a_fraction_above_zero(target):
    with pytest.raises(ValueError, match="fraction"):
        Timeslices(length=BUCKET, target=target)


def test_slices_entirely_inside_maintenance_leave_the_window_but_partly_covered_ones_stay():
    maintenance = [(at(hours=2), at(hours=4, minutes=10))]

    assert count_expected_slices(at(), at(days=1), timedelta(hours=1), maintenance) == 22


def test_a_timeslices_slo_budgets_on_slices_and_still_alerts_on_events():
    hourly = Timeslices(length=timedelta(hours=1), target=0.99)
    buckets = steady(at(hours=-24), 276, good=100, total=100)
    buckets += steady(at(hours=-1), 12, good=50, total=100)  # one bad slice of 24

    status = evaluate_buckets(
        buckets, objective=0.99, window=(at(hours=-24), at()), now=at(), timeslices=hourly
    )

    assert status.bad == 1
    assert status.allowed_bad == pytest.approx(0.24)
    assert status.remaining == pytest.approx(1 - 1 / 0.24)
    assert status.burn_rates["1h"] == pytest.approx(50)
    assert status.alert == PAGE


# --- burn rates and alerts -------------------------------------------------------------------


def test_burn_rate_is_the_bad_ratio_divided_by_the_budget_share():
    assert burn_rate(counts(good=99_000, total=100_000), objective=0.999) == pytest.approx(10)
    assert burn_rate(WindowCounts(0, 0, 0, 12), objective=0.999) is None


THIRTY_DAYS = timedelta(days=30)


@pytest.mark.parametrize(
    ("burn_rates", "expected"),
    [
        ({"1h": 14.41, "5m": 14.41}, PAGE),
        ({"1h": 14.4, "5m": 100}, NO_ALERT),
        ({"1h": 100, "5m": 14.4}, NO_ALERT),
        ({"6h": 6.01, "30m": 6.01}, PAGE),
        ({"6h": 6, "30m": 6.01}, NO_ALERT),
        ({"1d": 3.01, "2h": 3.01}, TICKET),
        ({"1d": 3, "2h": 3.01}, NO_ALERT),
        ({"3d": 1.01, "6h": 1.01}, TICKET),
        ({"3d": 1.01, "6h": 1}, NO_ALERT),
        ({"1h": 20, "5m": 20, "1d": 5, "2h": 5}, PAGE),
        ({"1h": None, "5m": 100, "3d": 100, "6h": None}, NO_ALERT),
    ],
)
def test_alerts_fire_only_when_both_windows_burn_strictly_above_the_threshold(burn_rates, expected):
    rates = dict.fromkeys(BURN_RATE_KEYS) | burn_rates

    assert alert_state(rates, THIRTY_DAYS) == expected


@pytest.mark.parametrize(
    ("slo_window", "thresholds"),
    [
        (timedelta(days=30), [14.4, 6, 3, 1]),
        (timedelta(days=28), [13.44, 5.6, 2.8, 28 / 30]),
        (timedelta(days=7), [3.36, 1.4, 0.7, 7 / 30]),
    ],
)
def test_alert_thresholds_scale_with_the_length_of_the_slo_window(slo_window, thresholds):
    assert [rule.threshold(slo_window) for rule in BURN_RATE_RULES] == pytest.approx(thresholds)


def test_a_seven_day_slo_pages_on_a_burn_that_a_thirty_day_slo_only_tickets():
    rates = dict.fromkeys(BURN_RATE_KEYS, 4.0)

    assert alert_state(rates, timedelta(days=7)) == PAGE
    assert alert_state(rates, THIRTY_DAYS) == TICKET


def test_the_budget_runs_out_after_remaining_times_the_window_over_the_burn_rate():
    assert time_until_exhaustion(0.5, 2.0, THIRTY_DAYS) == timedelta(days=7.5)
    assert time_until_exhaustion(-0.2, 2.0, THIRTY_DAYS) == timedelta(0)
    assert time_until_exhaustion(0.5, 0.0, THIRTY_DAYS) is None
    assert time_until_exhaustion(0.5, None, THIRTY_DAYS) is None
    assert time_until_exhaustion(None, 2.0, THIRTY_DAYS) is None
    assert time_until_exhaustion(1.0, 1e-12, THIRTY_DAYS) is None  # beyond any horizon


# --- freshness, coverage, policy ---------------------------------------------------------------


def test_freshness_is_the_age_of_the_end_of_the_newest_bucket_with_data():
    assert data_freshness(at(), now=at(20)) == timedelta(minutes=15)
    assert data_freshness(at(), now=at(2)) == timedelta(0)
    assert data_freshness(None, now=at()) is None


def test_data_is_stale_only_past_the_threshold_or_when_there_is_none():
    assert not is_stale(timedelta(minutes=15), stale_after=timedelta(minutes=15))
    assert is_stale(timedelta(minutes=15, seconds=1), stale_after=timedelta(minutes=15))
    assert is_stale(None)


@pytest.mark.parametrize(
    ("remaining", "tier"),
    [
        (1.0, "healthy"),
        (0.5001, "healthy"),
        (0.5, "caution"),
        (0.1, "caution"),
        (0.0999, "frozen"),
        (0.0, "frozen"),
        (-3.0, "frozen"),
        (None, UNKNOWN_TIER),
    ],
)
def test_policy_tiers_are_healthy_above_half_frozen_below_a_tenth_and_caution_between(
    remaining, tier
):
    assert policy_tier(remaining) == tier


def test_a_remaining_no_tier_holds_is_an_unknown_tier_and_a_log_line_not_an_error(caplog):
    caplog.set_level(logging.WARNING, logger="services.budget.figures")
    # A policy whose every tier has a floor leaves budgets below the lowest one without a tier.
    assert policy_tier(-0.5, tiers=[BudgetTier("ok", 0.0)]) == UNKNOWN_TIER
    assert "No budget tier holds remaining=-0.5" in caplog.text


# --- the snapshot ----------------------------------------------------------------------------


def test_a_fast_burn_in_the_last_hour_pages_and_projects_when_the_budget_runs_out():
    window = window_bounds(at(2), kind=ROLLING, days=30)  # ends at T0
    buckets = steady(window[0], 8640 - 12, good=1_000, total=1_000)
    buckets += steady(at(hours=-1), 12, good=980, total=1_000)  # 2 % bad against a 0.1 % budget

    status = evaluate_buckets(buckets, objective=0.999, window=window, now=at(2))

    assert status.burn_rates["1h"] == pytest.approx(20)
    assert status.burn_rates["5m"] == pytest.approx(20)
    assert status.burn_rates["6h"] == pytest.approx(20 / 6)
    assert status.alert == PAGE
    assert status.bad == 240
    assert status.consumed == pytest.approx(240 / (0.001 * 8_640_000))
    assert status.time_until_exhaustion == THIRTY_DAYS * status.remaining / 20
    assert status.coverage == 1
    assert status.freshness == timedelta(minutes=2)
    assert not status.stale
    assert status.policy_tier == "healthy"


def test_gaps_lower_coverage_and_an_old_newest_bucket_makes_the_status_stale():
    window = (at(hours=-1), at())
    buckets = steady(at(hours=-1), 6, good=10, total=10)  # the second half hour is missing

    status = evaluate_buckets(buckets, objective=0.99, window=window, now=at())

    assert status.coverage == 0.5
    assert status.freshness == timedelta(minutes=30)
    assert status.stale
    assert status.attainment == 1


def test_the_bucket_in_progress_counts_for_freshness_but_not_for_the_figures():
    buckets = [*steady(at(hours=-1), 12, good=10, total=10), Bucket(at(), 0, 10)]

    status = evaluate_buckets(
        buckets, objective=0.99, window=(at(hours=-1), at(hours=1)), now=at(3)
    )

    assert status.attainment == 1
    assert status.coverage == 1
    assert status.freshness == timedelta(0)


def test_database_aggregates_and_in_memory_buckets_give_the_same_status():
    window = (at(days=-1), at())
    buckets = steady(at(days=-1), 288, good=995, total=1_000)
    window_counts = {
        key: aggregate(buckets, start, end)
        for key, (start, end) in burn_rate_windows(*window).items()
    }

    from_aggregates = evaluate(
        objective=0.99,
        window=window,
        now=at(),
        counts=window_counts,
        latest_data_start=buckets[-1].start,
    )

    assert from_aggregates == evaluate_buckets(buckets, objective=0.99, window=window, now=at())
    assert from_aggregates.remaining == pytest.approx(0.5)


def test_evaluate_refuses_counts_that_miss_a_window():
    with pytest.raises(ValueError, match=r"missing for \['3d', 'window'\]"):
        evaluate(
            objective=0.99,
            window=(at(days=-1), at()),
            now=at(),
            counts={key: counts(1, 1) for key in BURN_RATE_KEYS[:-2]},
            latest_data_start=None,
        )


# --- properties ------------------------------------------------------------------------------

objectives = st.floats(min_value=0.5, max_value=0.9999)


def _series(slots):
    return [Bucket(at(5 * index), *slot) for index, slot in enumerate(slots) if slot is not None]


#: Consecutive bucket positions from T0, some missing (None), some with zero total.
bucket_series = st.lists(
    st.none() | st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)).map(sorted),
    max_size=200,
).map(_series)


@st.composite
def maintenance_windows(draw):
    starts = draw(st.lists(st.integers(-60, 1_200), max_size=3))
    return [(at(start), at(start + draw(st.integers(0, 180)))) for start in starts]


@settings(max_examples=30, deadline=None)
@given(
    budget_share=st.sampled_from([(1, 100), (1, 1_000), (5, 10_000), (25, 1_000)]),
    days=st.integers(1, 3),
    seed=st.randoms(use_true_random=False),
)
def test_a_steady_burn_rate_of_one_spends_exactly_the_whole_budget_over_the_window(
    budget_share, days, seed
):
    bad_per_unit, events_per_unit = budget_share
    objective = 1 - bad_per_unit / events_per_unit
    window = window_bounds(T0, kind=ROLLING, days=days)
    buckets = []
    for index in range(days * 288):
        units = seed.randint(1, 50)  # traffic varies, the bad ratio does not
        total = events_per_unit * units
        buckets.append(Bucket(window[0] + index * BUCKET, total - bad_per_unit * units, total))

    status = evaluate_buckets(buckets, objective=objective, window=window, now=T0)

    assert status.consumed == pytest.approx(1, abs=1e-9)
    assert status.remaining == pytest.approx(0, abs=1e-9)
    assert all(rate == pytest.approx(1) for rate in status.burn_rates.values())


@given(series=bucket_series, cuts=st.sets(st.integers(1, 199)))
def test_merging_adjacent_buckets_never_changes_the_window_totals(series, cuts):
    groups, current = [], []
    for index, bucket in enumerate(series):
        if index in cuts and current:
            groups.append(current)
            current = []
        current.append(bucket)
    groups += [current] if current else []
    merged = [
        Bucket(group[0].start, sum(b.good for b in group), sum(b.total for b in group))
        for group in groups
    ]

    whole, whole_merged = aggregate(series, at(), at(days=1)), aggregate(merged, at(), at(days=1))

    assert (whole_merged.good, whole_merged.total) == (whole.good, whole.total)


@given(series=bucket_series, splits=st.sets(st.integers(0, 240)), maintenance=maintenance_windows())
def test_splitting_a_window_anywhere_splits_its_counts_without_loss(series, splits, maintenance):
    edges = [at(), *sorted(at(5 * split) for split in splits), at(hours=20)]
    edges = sorted(set(edges))

    parts = [aggregate(series, start, end, maintenance) for start, end in pairwise(edges)]
    whole = aggregate(series, edges[0], edges[-1], maintenance)

    assert sum(part.good for part in parts) == whole.good
    assert sum(part.total for part in parts) == whole.total
    assert sum(part.buckets_present for part in parts) == whole.buckets_present
    assert sum(part.buckets_expected for part in parts) == whole.buckets_expected


@given(
    objective=objectives,
    total=st.integers(1, 10**9),
    bad_shares=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_more_bad_events_never_consume_less_budget(objective, total, bad_shares):
    fewer, more = sorted(round(share * total) for share in bad_shares)

    consumed_fewer = occurrences_budget(counts(total - fewer, total), objective).consumed
    consumed_more = occurrences_budget(counts(total - more, total), objective).consumed

    assert consumed_fewer <= consumed_more


@given(objective=objectives, total=st.integers(1, 10**9), bad_share=st.floats(0, 1))
def test_remaining_and_consumed_always_add_up_to_the_whole_budget(objective, total, bad_share):
    bad = round(bad_share * total)

    budget = occurrences_budget(counts(total - bad, total), objective)

    assert budget.remaining + budget.consumed == pytest.approx(1)


@given(
    objective=objectives,
    total=st.integers(1, 10**9),
    bad_share=st.floats(0, 1),
    factor=st.integers(1, 20),
)
def test_burn_rate_grows_in_proportion_to_the_bad_ratio(objective, total, bad_share, factor):
    bad = round(bad_share * total) // factor

    base = burn_rate(counts(total - bad, total), objective)
    scaled = burn_rate(counts(total - bad * factor, total), objective)

    assert base == pytest.approx(bad / total / (1 - objective))
    assert scaled == pytest.approx(base * factor)


@given(
    series=bucket_series,
    start=st.integers(-24, 240),
    length=st.integers(0, 300),
    maintenance=maintenance_windows(),
)
def test_coverage_is_always_a_share_between_zero_and_one(series, start, length, maintenance):
    window = aggregate(series, at(5 * start), at(5 * (start + length)), maintenance)

    assert window.coverage is None or 0 <= window.coverage <= 1
    assert window.coverage is not None or window.buckets_expected == 0


@given(series=bucket_series, slice_buckets=st.integers(1, 24), maintenance=maintenance_windows())
def test_judged_slices_never_outnumber_the_slices_of_the_window(series, slice_buckets, maintenance):
    timeslices = Timeslices(length=slice_buckets * BUCKET, target=0.9)

    slices = count_slices(series, at(), at(days=1), timeslices, maintenance)

    assert 0 <= slices.good_slices + slices.bad_slices <= slices.slices_in_window
