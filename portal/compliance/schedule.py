"""When a check is due: pure rules over calendar periods in the portal's time zone.

A check runs once per period of its frequency — a day, an ISO week (Monday to Sunday) or a
calendar month — counted in settings.TIME_ZONE, never in the viewer's zone. A conclusive run
(pass, fail, not applicable) makes the check due again when the next period starts; an error
is tried again sooner (settings.COMPLIANCE_ERROR_RETRY_MINUTES).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from portal.compliance.choices import Frequency, Severity


def _zone(zone: str | None) -> ZoneInfo:
    return ZoneInfo(zone or settings.TIME_ZONE)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def period_start(frequency: str, moment: datetime, zone: str | None = None) -> datetime:
    """The start of the period that contains `moment` (an aware datetime)."""
    tz = _zone(zone)
    day = moment.astimezone(tz).date()
    if frequency == Frequency.WEEKLY:
        day -= timedelta(days=day.weekday())
    elif frequency == Frequency.MONTHLY:
        day = day.replace(day=1)
    return _midnight(day, tz)


def next_period_start(frequency: str, moment: datetime, zone: str | None = None) -> datetime:
    """The start of the period after the one containing `moment`."""
    tz = _zone(zone)
    start = period_start(frequency, moment, zone).date()
    if frequency == Frequency.DAILY:
        following = start + timedelta(days=1)
    elif frequency == Frequency.WEEKLY:
        following = start + timedelta(days=7)
    else:
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return _midnight(following, tz)


def previous_period_start(frequency: str, moment: datetime, zone: str | None = None) -> datetime:
    """The start of the period before the one containing `moment`."""
    start = period_start(frequency, moment, zone)
    return period_start(frequency, start - timedelta(microseconds=1), zone)


def is_due(due_at: datetime | None, now: datetime) -> bool:
    return due_at is None or due_at <= now


def due_after_run(frequency: str, conclusive: bool, now: datetime) -> datetime:
    """When a check that just ran is due again: the next period after a conclusive result,
    a retry soon after an error (never later than the next period)."""
    following = next_period_start(frequency, now)
    if conclusive:
        return following
    return min(now + timedelta(minutes=settings.COMPLIANCE_ERROR_RETRY_MINUTES), following)


def finding_due_date(severity: str, opened: datetime) -> date:
    """The day by which a finding of this severity is to be dealt with (settings'
    COMPLIANCE_FINDING_DUE_DAYS), counted from the day it opened in the portal's zone."""
    days = settings.COMPLIANCE_FINDING_DUE_DAYS.get(str(severity))
    if days is None:
        days = settings.COMPLIANCE_FINDING_DUE_DAYS.get(Severity.MEDIUM, 30)
    return opened.astimezone(_zone(None)).date() + timedelta(days=days)


def local_today(now: datetime) -> date:
    return now.astimezone(_zone(None)).date()
