"""What a report section is built for, and how a figure is written down."""

import datetime as dt
from dataclasses import dataclass, field

from portal.reports.months import Month


@dataclass(frozen=True)
class ReportScope:
    """What a section reports on: a team (None: the organisation), a month, when the report is
    made, and the figures of the previous month's report (for figures that only exist "now",
    such as budgets, whose last month's value is what last month's report said)."""

    team: object | None
    month: Month
    now: dt.datetime
    previous_figures: dict = field(default_factory=dict)
    #: What several sections read, read once per report (the scope's SLOs).
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def team_query(self) -> dict:
        return {"team": self.team.slug} if self.team else {}


def figure(label, value, previous, kind="count", better="lower") -> dict:
    """A figure beside the previous month's: ``kind`` says how it reads (count, percent of a
    fraction, duration in seconds, hours), ``better`` which way is good (higher, lower)."""
    return {"label": label, "value": value, "previous": previous, "kind": kind, "better": better}
