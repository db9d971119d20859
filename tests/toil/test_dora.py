"""DORA's four keys and the rework rate (toil.dora) against figures computed by hand, and the
snapshots a worker keeps of them: recomputed once for many changes (dirty months), when an
incident a deployment caused changes, and in a constant number of queries."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from incidents.choices import IncidentStatus, Severity
from tests.factories import ServiceFactory, TeamFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.change_factories import DeploymentFactory
from toil import dora
from toil.actions import deployments as deployments_actions
from toil.actions.deployments import (
    deployment_record,
    dora_dirty_recompute,
    dora_snapshots_recompute,
    incident_cause_set,
)
from toil.dora import DeploymentRecord, DoraFigures, dora_figures
from toil.models.deployments import DoraDirtyMonth, DoraSnapshot
from toil.selectors.deployments import dora_month, dora_series
from toil.tasks.changes import recompute_dora

UTC = dt.UTC
H = 3600.0
JAN, FEB = (2026, 1), (2026, 2)
NOW = dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def at(month, day, hour=12, minute=0) -> dt.datetime:
    return dt.datetime(2026 if month else 2025, month or 12, day, hour, minute, tzinfo=UTC)


def record(*args) -> DeploymentRecord:
    return dora.deployment_record(*args, zone=UTC)


# Services 1 and 2 belong to team 10, service 3 to team 20.
HISTORY = [
    record(1, 1, 10, at(1, 10), "succeeded", at(1, 9)),  # lead 24 h
    record(2, 1, 10, at(1, 15), "failed"),  # recovered by #3 after 2 h
    record(3, 1, 10, at(1, 15, 14), "succeeded", at(1, 15, 10)),  # lead 4 h, rework
    record(4, 1, 10, at(1, 20), "succeeded", at(1, 18)),  # lead 48 h, caused an incident
    record(5, 1, 10, at(2, 2), "succeeded", at(2, 2, 11)),  # lead 1 h, rework
    record(6, 2, 10, at(1, 31, 23, 30), "rolled_back"),  # recovered by #7 after 2 h
    record(7, 2, 10, at(2, 1, 1, 30), "succeeded"),  # no commits: no lead; rework
    record(8, 3, 20, at(0, 20), "failed"),  # December: only makes #9 rework
    record(9, 3, 20, at(1, 5), "succeeded", at(1, 4)),  # lead 24 h, rework
    record(10, 3, 20, at(2, 10), "failed"),  # never recovered
]
CAUSED = [
    dora.caused_incident(4, at(1, 20, 13), at(1, 20, 13, 30), zone=UTC)
]  # recovered in 30 min


@pytest.fixture
def figures():
    return dora_figures(HISTORY, CAUSED, months=[JAN, FEB], now=NOW, zone=UTC)


def test_a_service_month_by_hand(figures):
    january = figures["service", 1][JAN]
    assert (january.deployments, january.successful, january.failures, january.rework) == (
        4,
        3,
        2,
        1,
    )
    assert january.lead_time == 24 * H  # median of 24 h, 4 h, 48 h
    assert january.recovery_time == 1.25 * H  # median of 2 h (failed deploy), 0.5 h (incident)
    assert january.change_failure_rate == 0.5
    assert january.rework_rate == 0.25


def test_a_failure_recovered_next_month_counts_in_the_month_it_happened(figures):
    assert figures["service", 2][JAN].recovery_time == 2 * H
    assert figures["service", 2][FEB].recovery_time is None
    assert figures["service", 2][FEB].rework == 1


def test_a_failure_not_recovered_from_is_counted_apart(figures):
    february = figures["service", 3][FEB]
    assert (february.failures, february.unrecovered, february.recovery_time) == (1, 1, None)
    assert february.rework == 0  # the deployment before it succeeded


def test_teams_and_the_organisation_add_up_their_services(figures):
    team = figures["team", 10][JAN]
    assert (team.deployments, team.successful, team.failures, team.rework) == (5, 3, 3, 1)
    assert team.lead_time == 24 * H
    assert team.recovery_time == 2 * H  # median of 2 h, 0.5 h, 2 h
    organisation = figures[dora.ORGANISATION][JAN]
    assert (organisation.deployments, organisation.successful, organisation.failures) == (6, 4, 3)
    assert organisation.rework == 2
    assert organisation.change_failure_rate == 0.5
    assert organisation.deployment_frequency == pytest.approx(4 / 31)
    february = figures[dora.ORGANISATION][FEB]
    assert (february.deployments, february.successful, february.failures, february.rework) == (
        3,
        2,
        1,
        2,
    )
    assert february.lead_time == 1 * H
    assert february.days == 28


def test_the_bands_of_a_month_and_its_overall_band(figures):
    organisation = figures[dora.ORGANISATION][JAN]
    assert dora.bands(organisation) == {
        "deployment_frequency": "medium",  # 4 in 31 days: weekly to monthly
        "lead_time": "high",  # a day exactly is no longer elite
        "change_failure_rate": "low",
        "recovery_time": "high",
    }
    assert dora.overall_band(organisation) == "low"
    assert dora.overall_band(DoraFigures()) is None


@pytest.mark.parametrize(
    ("key", "value", "band"),
    [
        ("deployment_frequency", 3.0, "elite"),
        ("deployment_frequency", 1 / 7, "high"),
        ("deployment_frequency", 1 / 40, "low"),
        ("lead_time", 3 * H, "elite"),
        ("lead_time", 30 * 24 * H, "low"),
        ("change_failure_rate", 0.05, "elite"),
        ("change_failure_rate", 0.12, "medium"),
        ("recovery_time", 59 * 60, "elite"),
        ("recovery_time", 8 * 24 * H, "low"),
    ],
)
def test_the_band_thresholds(key, value, band):
    assert dora.band_of(key, value) == band


def test_the_current_month_counts_the_days_begun_so_far():
    assert dora.days_counted((2026, 3), NOW, UTC) == 5
    assert dora.days_counted((2026, 2), NOW, UTC) == 28
    paris = ZoneInfo("Europe/Paris")
    assert dora.month_of(dt.datetime(2026, 1, 31, 23, 30, tzinfo=UTC), paris) == (2026, 2)


# --- snapshots ---------------------------------------------------------------------------------


@pytest.fixture
def catalog(db):
    payments, search = TeamFactory(), TeamFactory()
    return {
        1: ServiceFactory(owner_team=payments),
        2: ServiceFactory(owner_team=payments),
        3: ServiceFactory(owner_team=search),
        "teams": (payments, search),
    }


def load_history(catalog):
    """HISTORY in the database: deployments of the catalog's services, and the incident #4
    caused."""
    deployments = {}
    for row in HISTORY:
        finished = dt.datetime.fromtimestamp(row.finished_at, UTC)
        deployments[row.id] = DeploymentFactory(
            service=catalog[row.service_id],
            finished_at=finished,
            started_at=finished - dt.timedelta(minutes=5),
            status=row.status,
            first_commit_at=dt.datetime.fromtimestamp(row.first_commit_at, UTC)
            if row.first_commit_at
            else None,
        )
    incident = IncidentFactory(
        services=[catalog[1]],
        severity=Severity.SEV2,
        status=IncidentStatus.RESOLVED,
        started_at=at(1, 20, 13),
        detected_at=at(1, 20, 13),
        resolved_at=at(1, 20, 13, 30),
    )
    incident_cause_set(incident=incident, deployment=deployments[4], by=None)
    return deployments, incident


def test_the_worker_stores_what_the_pure_figures_say(catalog, time_machine):
    time_machine.move_to(NOW, tick=False)
    load_history(catalog)
    written = dora_snapshots_recompute(now=NOW)
    assert written == 12 * (1 + 2 + 3)  # organisation, two teams, three services
    payments = catalog["teams"][0]
    january = dora_month(payments, dt.date(2026, 1, 17))
    assert (january.deployments, january.failures, january.lead_time) == (5, 3, 24 * H)
    assert january.recovery_time == 2 * H
    organisation = dora_month(None, dt.date(2026, 2, 1))
    assert (organisation.deployments, organisation.rework, organisation.unrecovered) == (3, 2, 1)
    series = dora_series(service=catalog[3], months=3, now=NOW)
    assert [series.figures[m].deployments for m in series.months] == [1, 1, 0]
    assert series.computed_at == NOW


def test_before_the_worker_has_run_the_figures_are_computed_for_the_request(catalog, time_machine):
    time_machine.move_to(NOW, tick=False)
    load_history(catalog)
    DoraSnapshot.objects.all().delete()
    series = dora_series(team=catalog["teams"][0], months=3, now=NOW)
    assert series.computed_at is None
    assert series.figures[JAN].deployments == 5


def test_many_deployments_mark_their_months_and_ring_once(
    catalog, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    with django_capture_on_commit_callbacks() as rings:
        for number in range(3):
            deployment_record(
                service=catalog[1],
                environment="production",
                version=f"2.0.{number}",
                started_at=at(2, 3 + number),
                finished_at=at(2, 3 + number, 13),
                status="succeeded",
                by=None,
            )
    assert list(DoraDirtyMonth.objects.values_list("month", flat=True)) == [dt.date(2026, 2, 1)]
    assert len(rings) == 1  # the first mark rings; the others join its recompute
    assert dora_dirty_recompute(now=NOW) == 1 + 2 + 1  # Feb for organisation, teams, service
    assert not DoraDirtyMonth.objects.exists()
    assert dora_dirty_recompute(now=NOW) == 0
    assert dora_month(None, dt.date(2026, 2, 1)).deployments == 3


def test_a_deployment_outside_production_marks_no_month(
    catalog, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    with django_capture_on_commit_callbacks() as rings:
        deployment_record(
            service=catalog[1],
            environment="staging",
            version="2.1.0",
            started_at=at(2, 3),
            finished_at=at(2, 3, 13),
            status="succeeded",
            by=None,
        )
    assert not DoraDirtyMonth.objects.exists()
    assert rings == []


def test_a_mark_made_while_a_recompute_runs_stays_for_the_next_one(
    catalog, time_machine, monkeypatch
):
    time_machine.move_to(NOW, tick=False)
    DoraDirtyMonth.objects.create(month=dt.date(2026, 2, 1), marked_at=NOW)
    DoraDirtyMonth.objects.create(month=dt.date(2026, 1, 1), marked_at=NOW)
    recompute = deployments_actions.dora_snapshots_recompute

    def while_a_deployment_arrives(**kwargs):
        written = recompute(**kwargs)
        # Another request marks February again while the figures are being computed.
        DoraDirtyMonth.objects.filter(month=dt.date(2026, 2, 1)).update(
            marked_at=NOW + dt.timedelta(seconds=1)
        )
        return written

    monkeypatch.setattr(deployments_actions, "dora_snapshots_recompute", while_a_deployment_arrives)
    dora_dirty_recompute(now=NOW)
    assert list(DoraDirtyMonth.objects.values_list("month", flat=True)) == [dt.date(2026, 2, 1)]


def dora_rings(rings) -> list:
    """The rings of the DORA recompute among those captured on commit (an incident's save
    also rings the toil inventory's own recompute)."""
    return [ring for ring in rings if ring.args[0] is recompute_dora]


def test_resolving_an_incident_a_deployment_caused_marks_its_month(
    catalog, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    _, incident = load_history(catalog)
    DoraDirtyMonth.objects.all().delete()
    unrelated = IncidentFactory(services=[catalog[2]], started_at=at(2, 20), detected_at=at(2, 20))
    DoraDirtyMonth.objects.all().delete()
    with django_capture_on_commit_callbacks() as rings:
        unrelated.title = "Renamed"
        unrelated.save()
    assert not DoraDirtyMonth.objects.exists() and not dora_rings(rings)
    with django_capture_on_commit_callbacks() as rings:
        incident.resolved_at = at(1, 20, 15)
        incident.save()
    assert list(DoraDirtyMonth.objects.values_list("month", flat=True)) == [dt.date(2026, 1, 1)]
    assert len(dora_rings(rings)) == 1
    dora_dirty_recompute(now=NOW)
    assert dora_month(catalog["teams"][0], dt.date(2026, 1, 1)).recovery_time == 2 * H
    service_january = dora_series(service=catalog[1], months=3, now=NOW).figures[JAN]
    assert service_january.recovery_time == 2 * H  # median of 2 h and the incident's 2 h now


@pytest.mark.parametrize("size", [1, 8])
def test_recomputing_takes_the_same_queries_at_any_size(
    db, time_machine, django_assert_max_num_queries, size
):
    time_machine.move_to(NOW, tick=False)
    for _ in range(size):
        service = ServiceFactory()
        for day in range(1, 4):
            DeploymentFactory(service=service, finished_at=at(2, day))
    # Deployments, caused incidents, teams; then the lock, the months' old rows deleted and the
    # new ones copied in, in a savepoint inside the test's transaction.
    with django_assert_max_num_queries(7):
        dora_snapshots_recompute(now=timezone.now())
