"""Sections from the selectors of other apps, with no build function of their own: each is
one line in portal.reports.sections.SECTIONS, e.g.

    Section("dora", "Deployments and DORA's keys", scoped_figures("toil.selectors.dora_month",
            [Field("deployments", "Deployments"), Field("change_failure_rate", ...)])),
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string

from portal.reports.months import Month
from portal.reports.scope import ReportScope, figure
from services.selectors import catalog as service_selectors


@dataclass(frozen=True)
class Field:
    """A figure an adapter reads from a record (an attribute or a dict key)."""

    name: str
    label: str
    kind: str = "count"
    better: str = "higher"


def _read(record, name):
    if record is None:
        return None
    if isinstance(record, dict):
        return record.get(name)
    return getattr(record, name, None)


def _number(value):
    """JSON keeps floats and ints; Decimals and durations become them."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return float(value)


def scoped_figures(selector: str, fields: list[Field]) -> Callable:
    """A section from a selector ``f(team or None, first day of month)`` returning the figures
    of that scope and month (``dora_month(team, month)``), None when there are none."""

    def build(scope: ReportScope) -> dict | None:
        function = import_string(selector)
        current = function(scope.team, scope.month.first_day)
        if current is None:
            return None
        previous = function(scope.team, scope.month.previous().first_day)
        return {
            "figures": [
                figure(
                    item.label,
                    _number(_read(current, item.name)),
                    _number(_read(previous, item.name)),
                    item.kind,
                    item.better,
                )
                for item in fields
            ]
        }

    return build


def team_rows(
    selector: str, fields: list[Field], *, monthly: bool = True, flag: Field | None = None
) -> Callable:
    """A section from a selector returning one row per team (each with ``team_id``): of a month
    (``toil_month_by_team(first day of month)``) or, with ``monthly`` False, as things stand
    (``maturity_levels_by_team()``). A team's report shows its row; the organisation's every
    row, with the sums of count and hour fields. ``flag`` names a true/false field marking a
    row (e.g. over the toil cap), counted in the summary."""

    def build(scope: ReportScope) -> dict | None:
        function = import_string(selector)

        def rows_of(month: Month | None):
            rows = list(function(month.first_day) if month else function())
            if scope.team is not None:
                rows = [row for row in rows if _read(row, "team_id") == scope.team.pk]
            return {_read(row, "team_id"): row for row in rows}

        current = rows_of(scope.month if monthly else None)
        if not current:
            return None
        previous = rows_of(scope.month.previous()) if monthly else {}
        names = {pk: name for pk, _slug, name in service_selectors.team_choices()}
        table = [
            {
                "team": names.get(team_id, "—"),
                "flagged": bool(flag and _read(row, flag.name)),
                "values": [
                    figure(
                        item.label,
                        _number(_read(row, item.name)),
                        _number(_read(previous.get(team_id), item.name)),
                        item.kind,
                        item.better,
                    )
                    for item in fields
                ],
            }
            for team_id, row in sorted(
                current.items(), key=lambda item: (names.get(item[0], "").casefold(), item[0])
            )
        ]
        summable = [item for item in fields if item.kind in ("count", "hours")]

        def total(rows, item):
            values = [_number(_read(row, item.name)) for row in rows.values()]
            values = [value for value in values if value is not None]
            return sum(values) if values else None

        flagged = [row["team"] for row in table if row["flagged"]]
        data = {
            "columns": [item.label for item in fields],
            "rows": table,
            "figures": [
                figure(
                    item.label,
                    total(current, item),
                    total(previous, item) if previous else None,
                    item.kind,
                    item.better,
                )
                for item in summable
            ],
        }
        if flag is not None:
            data["summary"] = (
                f"{len(flagged)} team{'s' if len(flagged) != 1 else ''} {flag.label}"
                + (f": {', '.join(flagged)}." if flagged else ".")
            )
        return data

    return build
