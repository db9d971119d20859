"""When checks are due: calendar periods in the portal's time zone, across month ends."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.compliance.choices import Frequency
from portal.compliance.schedule import (
    due_after_run,
    finding_due_date,
    is_due,
    next_period_start,
    period_start,
    previous_period_start,
)

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("frequency", "moment", "start", "following"),
    [
        (Frequency.DAILY, utc(2026, 1, 31, 23, 59), utc(2026, 1, 31), utc(2026, 2, 1)),
        (Frequency.MONTHLY, utc(2026, 1, 31, 23, 59), utc(2026, 1, 1), utc(2026, 2, 1)),
        (Frequency.MONTHLY, utc(2026, 2, 28, 12), utc(2026, 2, 1), utc(2026, 3, 1)),
        (Frequency.MONTHLY, utc(2028, 2, 29, 12), utc(2028, 2, 1), utc(2028, 3, 1)),
        (Frequency.MONTHLY, utc(2026, 12, 31, 8), utc(2026, 12, 1), utc(2027, 1, 1)),
        # ISO weeks run Monday to Sunday, straddling month ends: 2026-01-29 is a Thursday.
        (Frequency.WEEKLY, utc(2026, 1, 29, 10), utc(2026, 1, 26), utc(2026, 2, 2)),
        (Frequency.WEEKLY, utc(2026, 2, 1, 23, 59), utc(2026, 1, 26), utc(2026, 2, 2)),
        (Frequency.WEEKLY, utc(2026, 2, 2), utc(2026, 2, 2), utc(2026, 2, 9)),
    ],
)
def test_periods_start_and_end_on_calendar_boundaries(frequency, moment, start, following):
    assert period_start(frequency, moment, "UTC") == start
    assert next_period_start(frequency, moment, "UTC") == following


def test_months_end_at_midnight_in_the_portal_s_zone_not_utc(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    # 23:30 UTC on 31 January is already 1 February in Berlin.
    late = utc(2026, 1, 31, 23, 30)

    assert period_start(Frequency.MONTHLY, late) == datetime(2026, 2, 1, tzinfo=BERLIN)
    assert period_start(Frequency.MONTHLY, late) == utc(2026, 1, 31, 23)
    assert next_period_start(Frequency.MONTHLY, utc(2026, 3, 15)) == utc(2026, 3, 31, 22)


def test_the_previous_period_of_march_is_february_whatever_its_length():
    assert previous_period_start(Frequency.MONTHLY, utc(2026, 3, 1, 0, 1), "UTC") == utc(2026, 2, 1)
    assert previous_period_start(Frequency.WEEKLY, utc(2026, 3, 2), "UTC") == utc(2026, 2, 23)
    assert previous_period_start(Frequency.DAILY, utc(2026, 3, 1), "UTC") == utc(2026, 2, 28)


@pytest.mark.parametrize(
    ("frequency", "ran_at", "not_yet", "due"),
    [
        # A monthly check run on 31 January is due again on 1 February, not 28 days later.
        (Frequency.MONTHLY, utc(2026, 1, 31, 22), utc(2026, 1, 31, 23, 59), utc(2026, 2, 1)),
        (Frequency.MONTHLY, utc(2026, 1, 1, 0, 5), utc(2026, 1, 31, 23, 59), utc(2026, 2, 1)),
        (Frequency.WEEKLY, utc(2026, 1, 30, 9), utc(2026, 2, 1, 23), utc(2026, 2, 2)),
        (Frequency.DAILY, utc(2026, 2, 28, 23, 50), utc(2026, 2, 28, 23, 59), utc(2026, 3, 1)),
    ],
)
def test_a_conclusive_run_makes_the_check_due_when_the_next_period_starts(
    settings, frequency, ran_at, not_yet, due
):
    settings.TIME_ZONE = "UTC"
    due_at = due_after_run(frequency, True, ran_at)

    assert due_at == due
    assert not is_due(due_at, not_yet)
    assert is_due(due_at, due)


def test_an_error_is_tried_again_soon_but_never_after_the_next_period_starts(settings):
    settings.TIME_ZONE = "UTC"
    settings.COMPLIANCE_ERROR_RETRY_MINUTES = 60

    assert due_after_run(Frequency.MONTHLY, False, utc(2026, 1, 10, 8)) == utc(2026, 1, 10, 9)
    assert due_after_run(Frequency.DAILY, False, utc(2026, 1, 10, 23, 30)) == utc(2026, 1, 11)


def test_a_finding_is_due_after_the_days_its_severity_allows(settings):
    settings.TIME_ZONE = "UTC"
    settings.COMPLIANCE_FINDING_DUE_DAYS = {"critical": 7, "high": 14, "medium": 30, "low": 90}
    opened = utc(2026, 1, 25, 10)

    assert finding_due_date("critical", opened) == date(2026, 2, 1)
    assert finding_due_date("low", opened) == date(2026, 1, 25) + timedelta(days=90)
