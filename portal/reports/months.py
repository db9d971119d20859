"""Calendar months as reports count them: in the portal's time zone (TIME_ZONE)."""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from portal.timezones import portal_zone

MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    """A calendar month: its first day, and its bounds [start, end) in a time zone."""

    first_day: dt.date
    start: dt.datetime
    end: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.first_day:%Y-%m}"

    @property
    def last_day(self) -> dt.date:
        return _next(self.first_day) - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.first_day:%B %Y}"

    def previous(self) -> "Month":
        return month_of(_shift(self.first_day, -1), self.start.tzinfo)

    def shifted(self, months: int) -> "Month":
        return month_of(_shift(self.first_day, months), self.start.tzinfo)


def _shift(first_day: dt.date, months: int) -> dt.date:
    index = first_day.year * 12 + first_day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _next(first_day: dt.date) -> dt.date:
    return _shift(first_day, 1)


def month_of(day: dt.date, zone=None) -> Month:
    """The month holding ``day``, bounded at local midnights in ``zone`` (TIME_ZONE)."""
    zone = zone or portal_zone()
    first = day.replace(day=1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(_next(first), dt.time(), tzinfo=zone)
    return Month(first, start, end)


def last_full_month(now: dt.datetime) -> Month:
    """The calendar month before the one ``now`` falls in, on the portal's calendar."""
    zone = portal_zone()
    return month_of(now.astimezone(zone).date(), zone).previous()


def parse_month(key: str, *, now: dt.datetime | None = None) -> Month:
    """A month from "YYYY-MM"; a ValidationError says what is wrong (a malformed key, a
    month that does not exist, or with ``now`` one that is not over yet)."""
    match = MONTH_KEY.match(key or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise ValidationError({"month": f"“{key}” is not a month: write YYYY-MM, e.g. 2026-05."})
    month = month_of(dt.date(int(match.group(1)), int(match.group(2)), 1))
    if now is not None and month.end > now:
        raise ValidationError({"month": f"{month.label} is not over yet."})
    return month
