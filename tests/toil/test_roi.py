"""The arithmetic of toil (toil.roi): the seeds' own rows come out as their tables say, and
the shares, paybacks and savings behave whatever the numbers."""

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toil import roi
from toil.choices.toil import CHARACTERISTIC_FIELDS, FrequencyUnit, ToilCategory

MONTH, WEEK = FrequencyUnit.MONTH, FrequencyUnit.WEEK


@pytest.mark.parametrize(
    ("task", "count", "minutes", "hours"),
    [
        ("Manual deployments", 50, 30, 25),
        ("Log analysis", 20, 45, 15),
        ("Certificate renewal", 4, 60, 4),
        ("Database maintenance", 8, 90, 12),
        ("Alert investigation", 100, 15, 25),
    ],
)
def test_the_inventory_tables_rows_come_out_at_its_monthly_hours(task, count, minutes, hours):
    assert roi.monthly_hours(count, MONTH, minutes) == hours


@pytest.mark.parametrize(
    ("task", "minutes", "count", "potential", "score"),
    [
        ("Manual deployment approval", 15, 20, 5, 1500),
        ("Log analysis for incidents", 45, 8, 4, 1440),
        ("Certificate renewal", 30, 1, 5, 150),
    ],
)
def test_the_trackers_roi_scores_are_monthly_minutes_times_potential(
    task, minutes, count, potential, score
):
    assert roi.roi_score(roi.monthly_minutes(count, MONTH, minutes), potential) == score


def test_weekly_work_counts_fifty_two_twelfths_of_a_time_a_month():
    assert roi.monthly_minutes(3, WEEK, 30) == 390
    assert roi.monthly_hours(1, WEEK, 60) == pytest.approx(52 / 12)
    assert roi.occurrences_per_month(12, WEEK) == pytest.approx(52)


def test_payback_is_effort_over_monthly_hours_saved():
    assert roi.payback_months(50, 25) == 2
    assert roi.payback_months(0, 25) == 0


@given(effort=st.floats(min_value=0, max_value=1e6), saved=st.floats(max_value=0))
def test_payback_is_infinite_when_nothing_is_saved(effort, saved):
    assert roi.payback_months(effort, saved) == math.inf


def test_payback_is_unknown_while_the_effort_is_not_estimated():
    assert roi.payback_months(None, 10) is None


def test_an_item_meeting_fewer_than_four_characteristics_may_not_be_toil():
    three = dict.fromkeys(CHARACTERISTIC_FIELDS[:3], True)
    four = dict.fromkeys(CHARACTERISTIC_FIELDS[:4], True)
    assert roi.characteristics_met(three) == 3
    assert roi.may_not_be_toil(three)
    assert not roi.may_not_be_toil(four)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("50/month", (50, MONTH)),
        ("3/week", (3, WEEK)),
        (" 4 / Month ", (4, MONTH)),
        ("8 per month", (8, MONTH)),
        ("2 per wk", (2, WEEK)),
        ("1 times a week", (1, WEEK)),
    ],
)
def test_frequencies_read_as_a_spreadsheet_writes_them(text, parsed):
    assert roi.parse_frequency(text) == parsed


@pytest.mark.parametrize(
    "text", ["", "fifty/month", "50", "50/day", "-3/week", "0/month", "1.5/week"]
)
def test_a_frequency_that_does_not_parse_is_refused_with_the_way_to_write_it(text):
    with pytest.raises(ValueError, match=r"per week or month|at least once"):
        roi.parse_frequency(text)


def test_priorities_map_to_potential_and_back():
    assert [roi.potential_from_priority(p) for p in ("High", "medium", " LOW ")] == [5, 3, 1]
    assert [roi.priority_from_potential(p) for p in (5, 4, 3, 2, 1)] == [
        "High",
        "High",
        "Medium",
        "Medium",
        "Low",
    ]
    with pytest.raises(ValueError, match="High, Medium or Low"):
        roi.potential_from_priority("Urgent")


def test_the_fraction_of_a_month_from_a_day():
    march = date(2026, 3, 1)
    assert roi.fraction_of_month_from(march, date(2026, 2, 10)) == 1
    assert roi.fraction_of_month_from(march, date(2026, 3, 1)) == 1
    assert roi.fraction_of_month_from(march, date(2026, 3, 16)) == 16 / 31
    assert roi.fraction_of_month_from(march, date(2026, 4, 1)) == 0


def test_months_are_counted_across_years():
    assert roi.add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert roi.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert roi.months_between(date(2025, 12, 20), date(2026, 2, 3)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_the_baseline_is_the_last_three_months_of_logs_else_the_estimate():
    assert (
        roi.baseline_monthly_hours(estimated_hours=25, logged_hours_before=60, months_logged=3)
        == 20
    )
    assert (
        roi.baseline_monthly_hours(estimated_hours=25, logged_hours_before=60, months_logged=2)
        == 30
    )
    assert roi.baseline_monthly_hours(estimated_hours=25, logged_hours_before=None) == 25
    assert roi.baseline_monthly_hours(estimated_hours=25, logged_hours_before=0) == 25


def test_hours_saved_are_the_baseline_less_what_is_still_logged_and_may_be_negative():
    assert roi.hours_saved(baseline_hours=20, fraction_automated=1, logged_since=2) == 18
    assert roi.hours_saved(baseline_hours=20, fraction_automated=0.5, logged_since=0) == 10
    assert roi.hours_saved(baseline_hours=2, fraction_automated=1, logged_since=5) == -3


def test_a_teams_month_puts_estimate_and_measurement_side_by_side():
    figures = roi.team_month_figures(
        date(2026, 3, 17),
        roi.TeamMonthInputs(
            engineers=4,
            hours_per_engineer=140,
            estimated_by_category={ToilCategory.RELEASES: 25, ToilCategory.OTHER: 15},
            logged_by_category={ToilCategory.RELEASES: 200, ToilCategory.ON_CALL: 30},
            incident_hours=70,
            hours_saved=12,
            processes_automated=1,
            automated_hours=10,
        ),
        cap_percent=50,
    )
    assert figures.month == date(2026, 3, 1)
    assert figures.capacity_hours == 560
    assert figures.estimated_hours == 40
    assert figures.measured_hours == 300
    assert figures.share == pytest.approx(300 / 560)
    assert figures.estimated_share == pytest.approx(40 / 560)
    assert figures.over_cap
    assert figures.by_category[ToilCategory.ON_CALL] == {"estimated": 0, "measured": 100}
    assert figures.by_category[ToilCategory.RELEASES] == {"estimated": 25, "measured": 200}
    assert figures.automation_coverage == pytest.approx(10 / 50)
    assert figures.estimate_gap_hours == 260


def test_a_team_without_engineers_has_no_share_and_is_not_over_the_cap():
    figures = roi.team_month_figures(
        date(2026, 3, 1),
        roi.TeamMonthInputs(engineers=0, hours_per_engineer=140, incident_hours=5),
        cap_percent=50,
    )
    assert figures.share is None
    assert not figures.over_cap
    assert figures.automation_coverage is None


def test_exactly_at_the_cap_is_not_over_it():
    assert not roi.is_over_cap(0.5, 50)
    assert roi.is_over_cap(0.5001, 50)


def test_the_organisation_is_the_sum_of_its_teams():
    month = date(2026, 3, 1)
    one = roi.team_month_figures(
        month,
        roi.TeamMonthInputs(
            engineers=2,
            hours_per_engineer=140,
            logged_by_category={ToilCategory.ON_CALL: 10},
            incident_hours=5,
            estimated_by_category={ToilCategory.OTHER: 4},
        ),
        cap_percent=50,
    )
    two = roi.team_month_figures(
        month,
        roi.TeamMonthInputs(
            engineers=3,
            hours_per_engineer=100,
            logged_by_category={ToilCategory.RELEASES: 20},
            hours_saved=3,
            processes_automated=2,
            automated_hours=6,
        ),
        cap_percent=50,
    )
    total = roi.sum_figures(month, [one, two], cap_percent=50)
    assert total.capacity_hours == 580
    assert total.measured_hours == 35
    assert total.incident_hours == 5
    assert total.by_category[ToilCategory.ON_CALL]["measured"] == 15
    assert total.hours_saved == 3
    assert total.processes_automated == 2
    assert total.automation_coverage == pytest.approx(6 / 10)


hours = st.floats(min_value=0, max_value=10_000, allow_nan=False)


@given(
    engineers=st.integers(min_value=0, max_value=500),
    per_engineer=st.integers(min_value=1, max_value=744),
    logged=hours,
    more=hours,
    incident=hours,
)
def test_the_share_grows_with_logged_time_and_is_never_negative(
    engineers, per_engineer, logged, more, incident
):
    def share(logged_hours):
        return roi.team_month_figures(
            date(2026, 1, 1),
            roi.TeamMonthInputs(
                engineers=engineers,
                hours_per_engineer=per_engineer,
                logged_by_category={ToilCategory.OTHER: logged_hours},
                incident_hours=incident,
            ),
            cap_percent=50,
        ).share

    before, after = share(logged), share(logged + more)
    if engineers == 0:
        assert before is None and after is None
    else:
        assert 0 <= before <= after
