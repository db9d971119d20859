"""The arithmetic of toil: monthly hours, ROI of automating it, payback, a team's share of its
capacity against the cap, and what automation saved. Pure functions of numbers and dates.

The inventory's formulas come from the usual toil tracker: monthly toil is how often the work
comes round in a month times the minutes it takes (weekly work counts 52 ÷ 12 times a month);
the ROI score of automating it is those monthly minutes times the automation potential (1 to 5);
automating pays back in effort hours ÷ the monthly hours it saves.
"""

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from toil.choices.toil import (
    CHARACTERISTIC_FIELDS,
    TOIL_CHARACTERISTICS_NEEDED,
    FrequencyUnit,
    ToilCategory,
)

WEEKS_PER_MONTH = 52 / 12

#: How the Automation Priority column of a toil spreadsheet maps to automation potential.
PRIORITY_POTENTIAL = {"high": 5, "medium": 3, "low": 1}

#: Months of logged time that make an automated item's baseline, when there are any.
BASELINE_MONTHS = 3


def occurrences_per_month(count: float, unit: str) -> float:
    return count * WEEKS_PER_MONTH if unit == FrequencyUnit.WEEK else float(count)


def monthly_minutes(count: float, unit: str, minutes_each: float) -> float:
    # Multiplied in this order by the database too (toil.models.inventory), so they agree.
    per_occurrence = float(count) * float(minutes_each)
    return per_occurrence * 52.0 / 12.0 if unit == FrequencyUnit.WEEK else per_occurrence


def monthly_hours(count: float, unit: str, minutes_each: float) -> float:
    return monthly_minutes(count, unit, minutes_each) / 60


def roi_score(monthly_minutes: float, automation_potential: int) -> float:
    """Monthly minutes times automation potential: the bigger, the sooner to automate."""
    return monthly_minutes * automation_potential


def payback_months(effort_hours: float | None, monthly_hours_saved: float) -> float | None:
    """Months until automating pays for its effort; infinite when it saves nothing, None
    while the effort is not estimated."""
    if effort_hours is None:
        return None
    if monthly_hours_saved <= 0:
        return math.inf
    return float(effort_hours) / monthly_hours_saved


def characteristics_met(flags: Mapping[str, bool]) -> int:
    return sum(1 for name in CHARACTERISTIC_FIELDS if flags.get(name))


def may_not_be_toil(flags: Mapping[str, bool]) -> bool:
    return characteristics_met(flags) < TOIL_CHARACTERISTICS_NEEDED


# --- reading a toil spreadsheet ----------------------------------------------------------------

_FREQUENCY = re.compile(
    r"^\s*(?P<count>\d+)\s*(?:/|per|a|an|x|times\s+(?:a|per))\s*"
    r"(?P<unit>months?|mo|weeks?|wk)\s*$",
    re.IGNORECASE,
)


def parse_frequency(text: str) -> tuple[int, str]:
    """ "50/month", "3 / week", "4 per month" → (count, unit); ValueError otherwise."""
    match = _FREQUENCY.match(text or "")
    if not match:
        raise ValueError(
            f"“{text}” is not a frequency: write a whole number per week or month, "
            "like 50/month or 3/week."
        )
    count = int(match["count"])
    if count < 1:
        raise ValueError("A frequency must be at least once per week or month.")
    unit = FrequencyUnit.WEEK if match["unit"].lower().startswith("w") else FrequencyUnit.MONTH
    return count, unit


def format_frequency(count: int, unit: str) -> str:
    return f"{count}/{'week' if unit == FrequencyUnit.WEEK else 'month'}"


def potential_from_priority(text: str) -> int:
    """High, Medium, Low → 5, 3, 1; ValueError otherwise."""
    try:
        return PRIORITY_POTENTIAL[(text or "").strip().lower()]
    except KeyError:
        raise ValueError(f"“{text}” is not a priority: High, Medium or Low.") from None


def priority_from_potential(potential: int) -> str:
    return "High" if potential >= 4 else "Medium" if potential >= 2 else "Low"


# --- months ------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from ``first``'s to ``last``'s, both included."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def days_in_month(month: date) -> int:
    return (add_months(month, 1) - month_start(month)).days


def fraction_of_month_from(month: date, day: date) -> float:
    """How much of ``month`` lies on or after ``day``: 1 when it starts before the month,
    0 when it starts after."""
    month = month_start(month)
    following = add_months(month, 1)
    if day <= month:
        return 1.0
    if day >= following:
        return 0.0
    return (following - day).days / days_in_month(month)


# --- automation --------------------------------------------------------------------------------


def baseline_monthly_hours(
    *, estimated_hours: float, logged_hours_before: float | None, months_logged: int = 0
) -> float:
    """The monthly hours an item took before it was automated: the monthly average of the time
    logged in the last BASELINE_MONTHS months before (over the months since its first entry
    there, when that is fewer), else its estimate when no time was logged."""
    if logged_hours_before and months_logged > 0:
        return logged_hours_before / min(months_logged, BASELINE_MONTHS)
    return estimated_hours


def hours_saved(*, baseline_hours: float, fraction_automated: float, logged_since: float) -> float:
    """What automation saved in a month: the baseline for the part of the month it was
    automated, less what was still logged against it. Negative when it cost more than before:
    the truth, not clamped away."""
    return baseline_hours * fraction_automated - logged_since


def automation_coverage(automated_hours: float, identified_hours: float) -> float | None:
    """Automated toil hours ÷ all identified toil hours (automated ones included)."""
    if identified_hours <= 0:
        return None
    return automated_hours / identified_hours


# --- a team's month ----------------------------------------------------------------------------


def capacity_hours(engineers: int, hours_per_engineer: float) -> float:
    return engineers * hours_per_engineer


def toil_share(hours: float, capacity: float) -> float | None:
    """Toil hours ÷ capacity; None for a team without capacity (no engineers)."""
    if capacity <= 0:
        return None
    return max(hours, 0.0) / capacity


def is_over_cap(share: float | None, cap_percent: float) -> bool:
    return share is not None and share * 100 > cap_percent


@dataclass(frozen=True)
class TeamMonthInputs:
    """What a team's month is computed from: its engineers and their hours, the inventory's
    estimate and the time logged (by category), incident roles, and automation."""

    engineers: int
    hours_per_engineer: float
    estimated_by_category: Mapping[str, float] = field(default_factory=dict)
    logged_by_category: Mapping[str, float] = field(default_factory=dict)
    incident_hours: float = 0.0
    hours_saved: float = 0.0
    processes_automated: int = 0
    automated_hours: float = 0.0


@dataclass(frozen=True)
class TeamMonthFigures:
    """A team's toil in one month: estimated (the inventory) and measured (logged time and
    incident roles) side by side, each as hours and as a share of the team's capacity."""

    month: date
    cap_percent: float
    engineers: int
    hours_per_engineer: float
    capacity_hours: float
    estimated_hours: float
    logged_hours: float
    incident_hours: float
    measured_hours: float
    estimated_share: float | None
    share: float | None
    over_cap: bool
    by_category: dict[str, dict[str, float]]
    hours_saved: float
    processes_automated: int
    automated_hours: float
    identified_hours: float
    automation_coverage: float | None

    @property
    def estimate_gap_hours(self) -> float:
        """Measured minus estimated: positive when the inventory underestimates."""
        return self.measured_hours - self.estimated_hours


def team_month_figures(month: date, inputs: TeamMonthInputs, *, cap_percent: float):
    estimated = sum(inputs.estimated_by_category.values())
    logged = sum(inputs.logged_by_category.values())
    measured = logged + inputs.incident_hours
    capacity = capacity_hours(inputs.engineers, inputs.hours_per_engineer)
    share = toil_share(measured, capacity)
    by_category = {}
    for category in ToilCategory.values:
        measured_here = inputs.logged_by_category.get(category, 0.0)
        if category == ToilCategory.ON_CALL:
            measured_here += inputs.incident_hours
        by_category[category] = {
            "estimated": inputs.estimated_by_category.get(category, 0.0),
            "measured": measured_here,
        }
    identified = estimated + inputs.automated_hours
    return TeamMonthFigures(
        month=month_start(month),
        cap_percent=cap_percent,
        engineers=inputs.engineers,
        hours_per_engineer=inputs.hours_per_engineer,
        capacity_hours=capacity,
        estimated_hours=estimated,
        logged_hours=logged,
        incident_hours=inputs.incident_hours,
        measured_hours=measured,
        estimated_share=toil_share(estimated, capacity),
        share=share,
        over_cap=is_over_cap(share, cap_percent),
        by_category=by_category,
        hours_saved=inputs.hours_saved,
        processes_automated=inputs.processes_automated,
        automated_hours=inputs.automated_hours,
        identified_hours=identified,
        automation_coverage=automation_coverage(inputs.automated_hours, identified),
    )


def sum_figures(month: date, figures: Iterable[TeamMonthFigures], *, cap_percent: float):
    """Several teams' figures of a month as one (the organisation's): hours add up, shares
    are of the summed capacity, and "over the cap" is the organisation's own."""
    figures = list(figures)
    estimated_by_category: dict[str, float] = {}
    logged_by_category: dict[str, float] = {}
    for team in figures:
        for category, hours in team.by_category.items():
            estimated_by_category[category] = (
                estimated_by_category.get(category, 0.0) + hours["estimated"]
            )
            measured = hours["measured"]
            if category == ToilCategory.ON_CALL:
                measured -= team.incident_hours
            logged_by_category[category] = logged_by_category.get(category, 0.0) + measured
    engineers = sum(team.engineers for team in figures)
    capacity = sum(team.capacity_hours for team in figures)
    return team_month_figures(
        month,
        TeamMonthInputs(
            engineers=engineers,
            hours_per_engineer=capacity / engineers if engineers else 0.0,
            estimated_by_category=estimated_by_category,
            logged_by_category=logged_by_category,
            incident_hours=sum(team.incident_hours for team in figures),
            hours_saved=sum(team.hours_saved for team in figures),
            processes_automated=sum(team.processes_automated for team in figures),
            automated_hours=sum(team.automated_hours for team in figures),
        ),
        cap_percent=cap_percent,
    )
