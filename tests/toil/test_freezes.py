"""Freeze windows: one-off and recurring (RFC 5545 rules in a time zone, across daylight-saving
changes), how they are validated, and what the service page says about them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tests.factories import ServiceFactory, TeamFactory
from tests.toil.change_factories import FreezeFactory
from toil.choices.changes import FreezeScope
from toil.freezes import FreezeRule, active_at, frozen_until, occurrences, recurrence_error
from toil.selectors.freezes import service_freeze_state

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


# Every Friday 16:00 to Monday 08:00 in Paris, from Friday 6 March 2026.
WEEKEND = FreezeRule(
    key="weekend",
    start=paris(2026, 3, 6, 16, 0).astimezone(UTC),
    end=paris(2026, 3, 9, 8, 0).astimezone(UTC),
    time_zone="Europe/Paris",
    recurrence="FREQ=WEEKLY;BYDAY=FR",
)


def test_a_weekly_freeze_keeps_its_wall_clock_hours_across_the_spring_change():
    # Clocks go forward on Sunday 29 March 2026 in Paris: that weekend lasts 63 hours.
    found = occurrences(
        WEEKEND, paris(2026, 3, 26).astimezone(UTC), paris(2026, 4, 4).astimezone(UTC)
    )
    start, end = found[0]
    assert start.astimezone(PARIS) == paris(2026, 3, 27, 16, 0)
    assert end.astimezone(PARIS) == paris(2026, 3, 30, 8, 0)
    assert start == dt.datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert end - start == dt.timedelta(hours=63)


def test_a_weekly_freeze_keeps_its_wall_clock_hours_across_the_autumn_change():
    # Clocks go back on Sunday 25 October 2026: that weekend lasts 65 hours.
    found = occurrences(
        WEEKEND, paris(2026, 10, 22).astimezone(UTC), paris(2026, 10, 28).astimezone(UTC)
    )
    start, end = found[0]
    assert (start.astimezone(PARIS), end.astimezone(PARIS)) == (
        paris(2026, 10, 23, 16, 0),
        paris(2026, 10, 26, 8, 0),
    )
    assert end - start == dt.timedelta(hours=65)


@pytest.mark.parametrize(
    ("moment", "frozen"),
    [
        (paris(2026, 3, 27, 15, 59), False),
        (paris(2026, 3, 27, 16, 0), True),
        (paris(2026, 3, 29, 3, 30), True),  # the hour that does not exist in Paris, seen in UTC
        (paris(2026, 3, 30, 7, 59), True),
        (paris(2026, 3, 30, 8, 0), False),
        (paris(2026, 3, 4, 12, 0), False),  # before the first occurrence
    ],
)
def test_a_recurring_freeze_is_in_force_between_its_local_hours(moment, frozen):
    assert bool(active_at([WEEKEND], moment.astimezone(UTC))) is frozen


def test_until_when_chains_back_to_back_freezes():
    holiday = FreezeRule(
        key="holiday",
        start=paris(2026, 3, 30, 8, 0).astimezone(UTC),
        end=paris(2026, 3, 31, 18, 0).astimezone(UTC),
        time_zone="Europe/Paris",
    )
    until = frozen_until([WEEKEND, holiday], paris(2026, 3, 28, 12, 0).astimezone(UTC))
    assert until.astimezone(PARIS) == paris(2026, 3, 31, 18, 0)
    assert frozen_until([WEEKEND], paris(2026, 3, 31, 12, 0).astimezone(UTC)) is None


def test_an_until_in_the_rule_ends_the_repetition():
    rule = FreezeRule(
        key="x",
        start=WEEKEND.start,
        end=WEEKEND.end,
        time_zone="Europe/Paris",
        recurrence="FREQ=WEEKLY;BYDAY=FR;UNTIL=20260314T000000Z",
    )
    found = occurrences(rule, WEEKEND.start, WEEKEND.start + dt.timedelta(days=60))
    assert [start.astimezone(PARIS).day for start, _ in found] == [6, 13]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", None),
        ("FREQ=WEEKLY;BYDAY=FR", None),
        ("FREQ=DAILY;COUNT=5", None),
        ("FREQ=MINUTELY", "repeats daily, weekly, monthly or yearly"),
        ("RRULE:FREQ=WEEKLY", "no RRULE: prefix"),
        ("FREQ=SOMETIMES", "Not an RFC 5545 recurrence rule"),
        ("BYDAY=XX", "Not an RFC 5545 recurrence rule"),
    ],
)
def test_recurrence_rules_are_checked(text, error):
    message = recurrence_error(text)
    assert (message is None) if error is None else (error in message)


@pytest.mark.django_db
def test_a_freeze_that_ends_before_it_starts_or_names_the_wrong_target_is_refused(payments):
    start = dt.datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    freeze = FreezeFactory.build(
        start=start, end=start - dt.timedelta(hours=1), time_zone="Mars/Base"
    )
    with pytest.raises(ValidationError) as refused:
        freeze.full_clean()
    assert set(refused.value.message_dict) >= {"end", "time_zone"}
    team_freeze = FreezeFactory.build(scope=FreezeScope.TEAM, recurrence="FREQ=HOURLY")
    with pytest.raises(ValidationError) as refused:
        team_freeze.full_clean()
    assert set(refused.value.message_dict) >= {"team", "recurrence"}


@pytest.mark.django_db
def test_the_service_page_says_whether_it_is_frozen_and_until_when(time_machine, payments):
    time_machine.move_to(paris(2026, 3, 28, 12, 0), tick=False)
    service = ServiceFactory(owner_team=payments)
    other_team = TeamFactory()
    weekend = FreezeFactory(
        name="Weekend",
        scope=FreezeScope.TEAM,
        team=payments,
        start=WEEKEND.start,
        end=WEEKEND.end,
        time_zone="Europe/Paris",
        recurrence="FREQ=WEEKLY;BYDAY=FR",
    )
    FreezeFactory(
        scope=FreezeScope.TEAM,
        team=other_team,
        start=WEEKEND.start,
        end=WEEKEND.end + dt.timedelta(days=30),
    )
    state = service_freeze_state(service, now=dt.datetime.now(UTC))
    assert state.until.astimezone(PARIS) == paris(2026, 3, 30, 8, 0)
    assert [freeze.pk for freeze in state.freezes] == [weekend.pk]

    time_machine.move_to(paris(2026, 3, 31, 12, 0), tick=False)
    state = service_freeze_state(service, now=dt.datetime.now(UTC))
    assert state.until is None
    assert state.next_start.astimezone(PARIS) == paris(2026, 4, 3, 16, 0)
    assert state.next_freeze == weekend
