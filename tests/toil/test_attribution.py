"""On-call toil from incident roles (toil.attribution): overlapping roles count once, open
incidents count up to now, and incidents spanning months are split at the month boundary in
the organisation's time zone."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from toil.attribution import (
    IncidentRoles,
    hours_by_month,
    incident_hours_by_team_month,
    person_spans,
    team_of_person,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
ALICE, BOB = 1, 2
PAYMENTS, SEARCH = 10, 20


def incident(*changes, opened=T0, closed=T0 + timedelta(hours=4), team=PAYMENTS):
    return IncidentRoles(
        incident_id=1,
        team_id=team,
        opened=opened,
        closed=closed,
        changes=tuple((at, frozenset(holders)) for at, holders in changes),
    )


def total_hours(spans):
    return sum((stop - start).total_seconds() / 3600 for start, stop in spans)


def test_a_person_holding_two_roles_at_once_is_counted_once():
    spans = person_spans(incident((T0, {ALICE})), now=NOW)
    assert {person: total_hours(s) for person, s in spans.items()} == {ALICE: 4}


def test_role_changes_hand_the_time_over_and_overlaps_count_for_each_person():
    spans = person_spans(
        incident(
            (T0, {ALICE}),
            (T0 + timedelta(hours=1), {ALICE, BOB}),
            (T0 + timedelta(hours=3), {BOB}),
        ),
        now=NOW,
    )
    assert total_hours(spans[ALICE]) == 3
    assert total_hours(spans[BOB]) == 3
    # Alice's two consecutive spans are one.
    assert len(spans[ALICE]) == 1


def test_the_first_holders_count_from_the_start_even_when_recorded_later():
    spans = person_spans(incident((T0 + timedelta(hours=2), {ALICE})), now=NOW)
    assert total_hours(spans[ALICE]) == 4


def test_changes_after_resolution_are_ignored():
    spans = person_spans(
        incident((T0, {ALICE}), (T0 + timedelta(days=3), {BOB})),
        now=NOW,
    )
    assert set(spans) == {ALICE}


def test_an_open_incident_counts_up_to_now():
    spans = person_spans(incident((T0, {ALICE}), closed=None), now=T0 + timedelta(hours=7))
    assert total_hours(spans[ALICE]) == 7


def test_an_incident_without_role_holders_is_nobodys_toil():
    assert person_spans(incident((T0, set())), now=NOW) == {}


def test_an_incident_spanning_months_is_split_at_midnight_in_the_organisations_zone():
    berlin = ZoneInfo("Europe/Berlin")
    # 22:00 UTC on 31 March is already April in Berlin (UTC+2 in summer time).
    start = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    end = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    assert hours_by_month(start, end, berlin) == {date(2026, 3, 1): 2, date(2026, 4, 1): 4}
    assert hours_by_month(start, end, UTC) == {date(2026, 3, 1): 4, date(2026, 4, 1): 2}


def test_a_span_over_the_daylight_saving_change_has_its_real_length():
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 28, 12, 0, tzinfo=berlin)
    end = datetime(2026, 3, 29, 12, 0, tzinfo=berlin)  # clocks went forward in between
    assert hours_by_month(start, end, berlin) == {date(2026, 3, 1): 23}


def test_time_goes_to_the_incidents_team_when_the_person_is_in_it_else_their_first_team():
    assert team_of_person(ALICE, PAYMENTS, {ALICE: [SEARCH, PAYMENTS]}) == PAYMENTS
    assert team_of_person(ALICE, None, {ALICE: [SEARCH, PAYMENTS]}) == SEARCH
    assert team_of_person(ALICE, PAYMENTS, {ALICE: [SEARCH]}) == SEARCH
    assert team_of_person(ALICE, PAYMENTS, {}) is None


def test_hours_by_team_and_month():
    spanning = incident(
        (datetime(2026, 2, 28, 22, 0, tzinfo=UTC), {ALICE, BOB}),
        opened=datetime(2026, 2, 28, 22, 0, tzinfo=UTC),
        closed=datetime(2026, 3, 1, 1, 0, tzinfo=UTC),
    )
    totals = incident_hours_by_team_month(
        [spanning], {ALICE: [PAYMENTS], BOB: [SEARCH]}, now=NOW, zone=UTC
    )
    assert totals == {
        (PAYMENTS, date(2026, 2, 1)): 2,
        (PAYMENTS, date(2026, 3, 1)): 1,
        (SEARCH, date(2026, 2, 1)): 2,
        (SEARCH, date(2026, 3, 1)): 1,
    }


@pytest.mark.parametrize("closed", [T0, T0 - timedelta(hours=1)])
def test_an_incident_resolved_at_or_before_its_start_counts_nothing(closed):
    assert person_spans(incident((T0, {ALICE}), closed=closed), now=NOW) == {}
