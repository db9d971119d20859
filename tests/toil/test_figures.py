"""A team's monthly toil: the inventory's estimate, logged time, on-call time from incident
roles, capacity, the share against the cap, and what automation saved; kept as snapshots
that changes mark dirty and one recompute refreshes."""

import datetime as dt

import pytest
from django.conf import settings

from incidents.actions.incidents import (
    incident_assign_role,
    incident_change_status,
    incident_declare,
)
from incidents.choices import IncidentRole, IncidentStatus, Severity
from services.actions.catalog import membership_set
from services.choices import MembershipRole
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.conftest import NOW
from tests.toil.factories import ToilEntryFactory, ToilItemFactory
from toil.actions.toil import (
    team_capacity_set,
    toil_entry_delete,
    toil_entry_log,
    toil_item_update,
    toil_months_recompute_dirty,
    toil_months_refresh,
    toil_months_store,
)
from toil.choices.toil import ToilCategory, ToilStatus
from toil.models.inventory import TeamToilMonth, TeamToilMonthDirty
from toil.selectors.toil import (
    org_toil_month,
    team_toil_month,
    team_toil_months,
    toil_figures,
    toil_month_by_team,
)
from toil.tasks import toil as tasks

pytestmark = pytest.mark.django_db

MARCH, FEBRUARY = dt.date(2026, 3, 1), dt.date(2026, 2, 1)
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def now(frozen_time):
    return frozen_time


@pytest.fixture
def rings(monkeypatch):
    """The recomputes rung on commit, recorded (with their countdown) instead of sent."""
    calls = []
    monkeypatch.setattr(
        tasks.recompute_dirty_toil_months,
        "apply_async",
        lambda *args, **kwargs: calls.append(kwargs.get("countdown")),
    )
    return calls


def figures(team, month=MARCH):
    return toil_figures([month], team_ids=[team.pk], now=NOW)[(team.pk, month)]


# --- the estimate, logged time and capacity ----------------------------------------------------


def test_a_teams_month_adds_up_estimate_logged_time_and_capacity(payments, owner, teammate):
    deployments = ToilItemFactory(team=payments, task="Manual deployments")
    ToilItemFactory(
        team=payments,
        task="Log analysis",
        category=ToilCategory.INTERRUPTS,
        frequency=20,
        minutes_each=45,
    )
    ToilEntryFactory(item=deployments, user=owner, date=dt.date(2026, 3, 2), minutes=600)
    ToilEntryFactory(item=deployments, user=teammate, date=dt.date(2026, 3, 9), minutes=300)
    ToilEntryFactory(item=deployments, user=owner, date=dt.date(2026, 2, 27), minutes=999)

    march = figures(payments)

    assert march.engineers == 2  # the viewer is not counted
    assert march.capacity_hours == 2 * settings.TOIL_HOURS_PER_ENGINEER
    assert march.estimated_hours == 25 + 15
    assert march.logged_hours == 15
    assert march.by_category[ToilCategory.RELEASES] == {"estimated": 25, "measured": 15}
    assert march.by_category[ToilCategory.INTERRUPTS] == {"estimated": 15, "measured": 0}
    assert march.share == pytest.approx(15 / 280)
    assert not march.over_cap


def test_a_team_over_half_its_capacity_is_over_the_cap(payments, owner):
    item = ToilItemFactory(team=payments)
    for day in range(1, 10):
        ToilEntryFactory(item=item, user=owner, date=dt.date(2026, 3, day), minutes=8 * 60)

    march = figures(payments)  # one engineer: 72 h of 140 h

    assert march.share == pytest.approx(72 / 140)
    assert march.over_cap


def test_a_teams_own_capacity_replaces_the_default(payments, owner, rings):
    ToilEntryFactory(item=ToilItemFactory(team=payments), user=owner, minutes=20 * 60)
    team_capacity_set(team=payments, hours_per_engineer=30)

    march = figures(payments)

    assert march.capacity_hours == 30
    assert march.over_cap
    team_capacity_set(team=payments, hours_per_engineer=None)
    assert figures(payments).capacity_hours == settings.TOIL_HOURS_PER_ENGINEER


def test_a_team_without_engineers_has_no_share(search_team):
    march = figures(search_team)
    assert (march.engineers, march.share, march.over_cap) == (0, None, False)


# --- on-call time from incident roles ----------------------------------------------------------


def declared_at(at, time_machine, **fields):
    time_machine.move_to(at, tick=False)
    return incident_declare(title="Checkout fails", severity=Severity.SEV2, started_at=at, **fields)


def test_holding_an_incident_role_is_on_call_toil_for_the_persons_team(
    service, owner, teammate, payments, time_machine
):
    start = NOW - 10 * HOUR
    incident = declared_at(start, time_machine, services=[service], commander=owner)
    time_machine.move_to(start + 2 * HOUR, tick=False)
    incident_assign_role(incident=incident, role=IncidentRole.TECH_LEAD, user=teammate)
    time_machine.move_to(start + 5 * HOUR, tick=False)
    incident_change_status(incident=incident, status=IncidentStatus.RESOLVED)
    time_machine.move_to(NOW, tick=False)

    march = figures(payments)

    # The commander for five hours, the tech lead for the last three.
    assert march.incident_hours == pytest.approx(8)
    assert march.by_category[ToilCategory.ON_CALL]["measured"] == pytest.approx(8)
    assert march.measured_hours == pytest.approx(8)


def test_a_person_in_two_roles_at_once_counts_once(service, owner, payments, time_machine):
    start = NOW - 10 * HOUR
    incident = declared_at(start, time_machine, services=[service], commander=owner)
    incident_assign_role(incident=incident, role=IncidentRole.SCRIBE, user=owner)
    time_machine.move_to(start + 4 * HOUR, tick=False)
    incident_change_status(incident=incident, status=IncidentStatus.RESOLVED)
    time_machine.move_to(NOW, tick=False)

    assert figures(payments).incident_hours == pytest.approx(4)


def test_an_open_incident_counts_up_to_now(service, owner, payments, time_machine):
    declared_at(NOW - 6 * HOUR, time_machine, services=[service], commander=owner)
    time_machine.move_to(NOW, tick=False)

    assert figures(payments).incident_hours == pytest.approx(6)


def test_an_incident_spanning_months_is_split_between_them(service, owner, payments):
    IncidentFactory(
        services=[service],
        commander=owner,
        status=IncidentStatus.RESOLVED,
        started_at=dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.UTC),
        detected_at=dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.UTC),
        resolved_at=dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC),
    )

    both = toil_figures([FEBRUARY, MARCH], team_ids=[payments.pk], now=NOW)

    assert both[(payments.pk, FEBRUARY)].incident_hours == pytest.approx(4)
    assert both[(payments.pk, MARCH)].incident_hours == pytest.approx(3)


def test_a_role_holder_from_another_team_counts_for_their_own_team(
    service, outsider, payments, search_team
):
    IncidentFactory(
        services=[service],
        tech_lead=outsider,
        status=IncidentStatus.RESOLVED,
        started_at=NOW - 5 * HOUR,
        detected_at=NOW - 5 * HOUR,
        resolved_at=NOW - 3 * HOUR,
    )

    assert figures(payments).incident_hours == 0
    assert figures(search_team).incident_hours == pytest.approx(2)


def test_people_in_no_team_are_nobodys_toil(service, sre_lead, payments):
    IncidentFactory(services=[service], commander=sre_lead, started_at=NOW - 2 * HOUR)
    assert figures(payments).incident_hours == 0


# --- automation --------------------------------------------------------------------------------


def test_automating_an_item_keeps_its_baseline_from_the_last_three_months_of_logs(
    payments, owner, rings
):
    item = ToilItemFactory(team=payments, frequency=10, minutes_each=60)  # estimate 10 h
    for month in (12, 1, 2):
        year = 2025 if month == 12 else 2026
        ToilEntryFactory(item=item, user=owner, date=dt.date(year, month, 5), minutes=8 * 60)

    item = toil_item_update(item=item, status=ToilStatus.AUTOMATED, automated_on=MARCH)

    assert item.automated_on == MARCH
    assert item.baseline_monthly_hours == pytest.approx(8)


def test_without_logged_time_the_baseline_is_the_estimate(payments, rings):
    item = ToilItemFactory(team=payments, frequency=10, minutes_each=60)
    item = toil_item_update(item=item, status=ToilStatus.AUTOMATED)
    assert (item.automated_on, item.baseline_monthly_hours) == (dt.date(2026, 3, 10), 10)


def test_hours_saved_are_the_baseline_less_what_is_still_logged(payments, owner, rings):
    item = ToilItemFactory(team=payments, frequency=10, minutes_each=60)
    toil_item_update(item=item, status=ToilStatus.AUTOMATED, automated_on=dt.date(2026, 2, 1))
    ToilEntryFactory(item=item, user=owner, date=dt.date(2026, 2, 20), minutes=60)
    other = ToilItemFactory(team=payments, task="Still manual", frequency=30, minutes_each=60)

    february = figures(payments, FEBRUARY)

    assert february.hours_saved == pytest.approx(10 - 1)
    assert february.processes_automated == 1
    assert february.automated_hours == 10
    # Automated 10 h of the 40 h identified: the other item's 30 h a month are still manual.
    assert february.estimated_hours == 30
    assert february.automation_coverage == pytest.approx(10 / 40)
    # This month's savings so far: ten of March's 31 days.
    march = figures(payments)
    assert march.hours_saved == pytest.approx(10 * 10 / 31)
    assert march.processes_automated == 0
    assert other.status == ToilStatus.MANUAL


def test_an_item_automated_part_way_through_a_month_is_estimated_for_the_days_before(
    payments, rings
):
    item = ToilItemFactory(team=payments, frequency=31, minutes_each=60)
    toil_item_update(item=item, status=ToilStatus.AUTOMATED, automated_on=dt.date(2026, 3, 6))
    assert figures(payments).estimated_hours == pytest.approx(5)


def test_going_back_to_manual_clears_the_automation(payments, rings):
    item = toil_item_update(item=ToilItemFactory(team=payments), status=ToilStatus.AUTOMATED)
    item = toil_item_update(item=item, status=ToilStatus.MANUAL)
    assert (item.automated_on, item.baseline_monthly_hours) == (None, None)


# --- snapshots, marks and the recompute --------------------------------------------------------


def test_logging_time_marks_its_month_and_rings_one_delayed_recompute(
    payments, owner, rings, django_capture_on_commit_callbacks
):
    item = ToilItemFactory(team=payments)
    TeamToilMonthDirty.objects.all().delete()  # the memberships' marks
    with django_capture_on_commit_callbacks(execute=True):
        toil_entry_log(item=item, user=owner, date=dt.date(2026, 2, 3), minutes=30)
    assert rings == [10]
    assert set(TeamToilMonthDirty.objects.values_list("team_id", "month")) == {
        (payments.pk, FEBRUARY)
    }


def test_the_recompute_does_each_marked_month_once_and_clears_its_marks(
    payments, search_team, owner, rings
):
    item = ToilItemFactory(team=payments)
    for day in (2, 3, 4):
        toil_entry_log(item=item, user=owner, date=dt.date(2026, 3, day), minutes=60)

    tasks.recompute_dirty_toil_months()

    assert not TeamToilMonthDirty.objects.exists()
    stored = TeamToilMonth.objects.get(team=payments, month=MARCH)
    assert (stored.logged_hours, stored.computed_at) == (3, NOW)
    # Every team of the month is stored, so the organisation's figures are whole.
    assert TeamToilMonth.objects.filter(team=search_team, month=MARCH).exists()
    assert TeamToilMonth.objects.get(team=None, month=MARCH).logged_hours == 3


def test_a_mark_made_again_during_a_recompute_is_kept_for_the_next(payments, owner, rings):
    item = ToilItemFactory(team=payments)
    toil_entry_log(item=item, user=owner, date=dt.date(2026, 3, 2), minutes=60)
    mark = TeamToilMonthDirty.objects.get()
    TeamToilMonthDirty.objects.filter(pk=mark.pk).update(marked_at=NOW + HOUR)

    # The recompute read the mark as it was: it is marked again meanwhile.
    original = TeamToilMonthDirty.objects.values_list

    def stale_marks(*fields, **kwargs):
        return [(mark.pk, payments.pk, MARCH, mark.marked_at)]

    TeamToilMonthDirty.objects.values_list = stale_marks
    try:
        assert toil_months_recompute_dirty(now=NOW) == 0
    finally:
        TeamToilMonthDirty.objects.values_list = original
    assert TeamToilMonthDirty.objects.filter(pk=mark.pk).exists()


def test_deleting_an_entry_marks_its_month(payments, owner, rings):
    entry = ToilEntryFactory(item=ToilItemFactory(team=payments), user=owner)
    toil_entry_delete(entry=entry)
    assert TeamToilMonthDirty.objects.filter(team=payments, month=MARCH).exists()


def test_an_incident_change_marks_its_months_for_every_team(
    service, owner, payments, search_team, rings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        IncidentFactory(services=[service], commander=owner, started_at=NOW - 2 * HOUR)
    assert set(TeamToilMonthDirty.objects.values_list("team_id", "month")) == {
        (payments.pk, MARCH),
        (search_team.pk, MARCH),
    }
    assert rings


def test_a_membership_change_marks_the_teams_month(payments, rings):
    membership_set(team=payments, user=UserFactory(), role=MembershipRole.ENGINEER)
    assert TeamToilMonthDirty.objects.filter(team=payments, month=MARCH).exists()


def test_deleting_a_team_with_members_and_toil_leaves_no_mark_behind(rings):
    team = TeamFactory()
    MembershipFactory(team=team)
    ToilEntryFactory(item=ToilItemFactory(team=team))
    team.delete()
    assert not TeamToilMonthDirty.objects.exists()


def test_the_refresh_stores_a_year_of_every_team_and_then_only_this_month(payments, rings):
    toil_months_refresh(now=NOW)
    assert TeamToilMonth.objects.filter(team=payments).count() == 12
    assert TeamToilMonth.objects.filter(team=None).count() == 12

    later = NOW + HOUR
    toil_months_refresh(now=later)
    assert set(TeamToilMonth.objects.filter(computed_at=later).values_list("month", flat=True)) == {
        MARCH
    }
    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-toil-months"]
    assert schedule == {"task": "toil.tasks.toil.refresh_toil_months", "schedule": 600.0}
    assert "toil.tasks.toil.recompute_dirty_toil_months" in settings.PORTAL_SWEEPS


def test_last_months_figures_are_finished_once_after_it_ended(payments, rings, time_machine):
    toil_months_store(months=[FEBRUARY], now=dt.datetime(2026, 2, 28, 23, 55, tzinfo=dt.UTC))
    toil_months_refresh(now=NOW)
    assert TeamToilMonth.objects.get(team=payments, month=FEBRUARY).computed_at == NOW


# --- reading the figures -----------------------------------------------------------------------


def test_reads_come_from_the_snapshot_in_one_query(
    payments, owner, rings, django_assert_num_queries
):
    ToilEntryFactory(item=ToilItemFactory(team=payments), user=owner, minutes=120)
    toil_months_store(months=[MARCH], now=NOW)
    with django_assert_num_queries(1):
        toil = team_toil_month(payments, dt.date(2026, 3, 17))
    assert (toil.figures.logged_hours, toil.computed_at) == (2, NOW)


def test_before_the_worker_stored_a_month_it_is_computed_and_not_stored(payments, owner):
    ToilEntryFactory(item=ToilItemFactory(team=payments), user=owner, minutes=120)
    toil = team_toil_month(payments, MARCH)
    assert (toil.figures.logged_hours, toil.computed_at) == (2, None)
    assert not TeamToilMonth.objects.exists()


def test_the_monthly_reports_selectors_give_every_team_and_the_organisation(
    payments, search_team, owner, outsider, rings
):
    item = ToilItemFactory(team=payments)
    for day in range(1, 6):
        ToilEntryFactory(item=item, user=owner, date=dt.date(2026, 3, day), minutes=20 * 60)
    ToilEntryFactory(item=ToilItemFactory(team=search_team), user=outsider, minutes=60)
    toil_months_store(months=[MARCH], team_ids=[payments.pk], now=NOW)

    by_team = toil_month_by_team(MARCH)

    assert [toil.team for toil in by_team.values()] == [payments, search_team]
    assert by_team[payments.pk].figures.over_cap
    assert not by_team[search_team.pk].figures.over_cap
    organisation = org_toil_month(MARCH)
    assert organisation.team is None
    assert organisation.figures.logged_hours == 101
    history = team_toil_months(payments, [FEBRUARY, MARCH])
    assert [toil.figures.month for toil in history] == [FEBRUARY, MARCH]
    assert [toil.computed_at for toil in history] == [None, NOW]  # February: not stored
