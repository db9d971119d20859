"""The metrics snapshots: the worker computes every team's and the organisation's figures for
each period, changes to incidents queue a recompute, and the metrics page reads the snapshot
(or, before the first one, computes the figures itself without storing them)."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from incidents import tasks
from incidents.actions.incidents import (
    incident_add_note,
    incident_assign_role,
    incident_change_severity,
    incident_change_status,
    incident_declare,
    incident_update,
)
from incidents.actions.metrics import (
    incident_metrics_changes_recompute,
    incident_metrics_snapshots_recompute,
    incident_metrics_sweep,
)
from incidents.choices import Severity
from incidents.metrics import PERIOD_MONTHS
from incidents.models.metrics import IncidentMetricsDirtyMark, IncidentMetricsSnapshot
from portal.timezones import COOKIE
from services.models.catalog import Team
from tests.factories import ServiceFactory, TeamFactory
from tests.incidents.factories import resolved_incident

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def as_user(request, client_for):
    def sign_in(name):
        return client_for(request.getfixturevalue(name))

    return sign_in


@pytest.fixture
def history(service, search_team):
    """Incidents of two teams over two years, and a third team without any."""
    search = ServiceFactory(name="Search API", owner_team=search_team)
    TeamFactory(name="Quiet", slug="quiet")
    for days, minutes, severity, hit in [
        (5, 30, Severity.SEV1, service),
        (40, 90, Severity.SEV2, service),
        (70, 20, Severity.SEV3, search),
        (200, 45, Severity.SEV2, search),
        (500, 60, Severity.SEV4, service),
    ]:
        resolved_incident(
            hit, started=NOW - dt.timedelta(days=days), minutes=minutes, severity=severity
        )


def recompute() -> int:
    return incident_metrics_snapshots_recompute(now=NOW)


# --- The worker's recompute -----------------------------------------------------------------


def test_the_recompute_writes_every_period_of_every_team_and_of_the_organisation(history):
    teams = Team.objects.count()
    assert recompute() == (teams + 1) * len(PERIOD_MONTHS)
    assert IncidentMetricsSnapshot.objects.count() == (teams + 1) * 4
    quiet = IncidentMetricsSnapshot.objects.get(team__slug="quiet", months=24)
    assert quiet.metrics().count == 0
    organisation = IncidentMetricsSnapshot.objects.get(team=None, months=24)
    assert (organisation.metrics().count, organisation.period_end) == (5, NOW)
    assert organisation.period_start == dt.datetime(2024, 4, 1, tzinfo=dt.UTC)


def test_each_snapshot_holds_its_teams_incidents_of_its_period(history, payments):
    recompute()
    counts = {
        (snapshot.team_id, snapshot.months): snapshot.metrics().count
        for snapshot in IncidentMetricsSnapshot.objects.all()
    }
    assert [counts[None, months] for months in PERIOD_MONTHS] == [2, 3, 4, 5]
    assert [counts[payments.pk, months] for months in PERIOD_MONTHS] == [2, 2, 2, 3]


def test_a_rerun_updates_the_snapshots_instead_of_adding_rows(history, service, time_machine):
    recompute()
    first = {snapshot.pk for snapshot in IncidentMetricsSnapshot.objects.all()}
    resolved_incident(service, started=NOW - dt.timedelta(days=1), minutes=10)
    later = NOW + dt.timedelta(minutes=5)
    incident_metrics_snapshots_recompute(now=later)
    assert {snapshot.pk for snapshot in IncidentMetricsSnapshot.objects.all()} == first
    organisation = IncidentMetricsSnapshot.objects.get(team=None, months=3)
    assert (organisation.metrics().count, organisation.computed_at) == (3, later)


def test_a_snapshot_names_only_the_services_and_teams_its_figures_show(history, payments, service):
    recompute()
    snapshot = IncidentMetricsSnapshot.objects.get(team=payments, months=3)
    assert snapshot.service_names == {str(service.pk): "Payments API"}
    assert snapshot.team_names == {str(payments.pk): "Payments"}


def test_the_task_recomputes_the_snapshots_and_beat_runs_it_every_five_minutes(history):
    tasks.recompute_incident_metrics()
    assert IncidentMetricsSnapshot.objects.filter(computed_at=NOW).count() == 4 * 4
    schedule = settings.CELERY_BEAT_SCHEDULE["recompute-incident-metrics"]
    assert schedule == {"task": "incidents.tasks.recompute_incident_metrics", "schedule": 300.0}


# --- What marks a recompute, and how marks coalesce ------------------------------------------


@pytest.fixture
def queue(redis_url):
    """The broker's default queue (the suite's real Redis), emptied: ``queue()`` lists the
    incident tasks rung since, with their countdown's ETA (other apps that follow incidents,
    such as toil, ring their own)."""
    client = redis.Redis.from_url(redis_url)
    client.delete("celery")

    def rung():
        messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
        return [
            (message["headers"]["task"], message["headers"]["eta"])
            for message in messages
            if message["headers"]["task"].startswith("incidents.")
        ]

    yield rung
    client.delete("celery")
    client.close()


def marked() -> list[int | None]:
    return sorted(
        IncidentMetricsDirtyMark.objects.values_list("team_id", flat=True),
        key=lambda team_id: team_id or 0,
    )


@pytest.fixture
def declared(service, teammate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        incident = incident_declare(
            title="Checkout fails", severity=Severity.SEV2, services=[service], declared_by=teammate
        )
    IncidentMetricsDirtyMark.objects.all().delete()
    return incident


def test_declaring_an_incident_marks_its_team_and_rings_the_recompute_after_the_delay(
    service, teammate, payments, queue, django_capture_on_commit_callbacks, settings
):
    settings.INCIDENT_METRICS_RECOMPUTE_DELAY = 30
    with django_capture_on_commit_callbacks(execute=True):
        incident_declare(
            title="Checkout fails", severity=Severity.SEV2, services=[service], declared_by=teammate
        )
    assert marked() == [payments.pk]
    [(task, eta)] = queue()
    assert task == tasks.recompute_changed_incident_metrics.name
    assert dt.datetime.fromisoformat(eta) == NOW + dt.timedelta(seconds=30)


@pytest.mark.parametrize(
    ("change", "marks"),
    [
        (
            lambda incident, by: incident_change_severity(
                incident=incident, severity="SEV1", by=by
            ),
            1,
        ),
        (
            lambda incident, by: incident_change_status(
                incident=incident, status="resolved", by=by
            ),
            1,
        ),
        (
            lambda incident, by: incident_change_status(
                incident=incident, status="identified", by=by
            ),
            0,
        ),
        (
            lambda incident, by: incident_update(
                incident=incident, by=by, started_at=NOW - dt.timedelta(hours=2)
            ),
            1,
        ),
        (
            lambda incident, by: incident_update(
                incident=incident, by=by, services=[ServiceFactory()]
            ),
            1,
        ),
        (
            lambda incident, by: incident_update(incident=incident, by=by, title="Renamed"),
            0,
        ),
        (
            lambda incident, by: incident_add_note(incident=incident, text="Looking.", by=by),
            0,
        ),
        (
            lambda incident, by: incident_assign_role(
                incident=incident, role="scribe", user=by, by=by
            ),
            0,
        ),
    ],
    ids=[
        "severity",
        "resolution",
        "status without a new timestamp",
        "start",
        "services",
        "title",
        "note",
        "role of an acknowledged incident",
    ],
)
def test_only_changes_to_what_the_metrics_read_mark_a_recompute(declared, teammate, change, marks):
    change(declared, teammate)
    assert len(marked()) == marks


def test_taking_command_of_an_unacknowledged_incident_marks_a_recompute(service, teammate):
    incident = incident_declare(title="Alert", severity=Severity.SEV3, services=[service])
    IncidentMetricsDirtyMark.objects.all().delete()
    incident_assign_role(incident=incident, role="commander", user=teammate, by=teammate)
    assert marked() == [incident.team_id]


def test_a_storm_of_changes_rings_the_recompute_once(
    declared, teammate, queue, django_capture_on_commit_callbacks
):
    for severity in ["SEV1", "SEV3", "SEV1", "SEV2"] * 10:
        with django_capture_on_commit_callbacks(execute=True):
            incident_change_severity(incident=declared, severity=severity, by=teammate)
    assert len(marked()) == 40
    assert [task for task, _ in queue()] == [tasks.recompute_changed_incident_metrics.name]


def test_the_recompute_takes_the_marks_and_writes_the_organisation_and_marked_teams(
    history, declared, teammate, payments, search_team, time_machine
):
    incident_change_severity(incident=declared, severity="SEV1", by=teammate)
    incident_change_severity(incident=declared, severity="SEV3", by=teammate)
    time_machine.move_to(NOW + dt.timedelta(minutes=1), tick=False)

    assert incident_metrics_changes_recompute() == 2 * len(PERIOD_MONTHS)

    assert marked() == []
    scopes = set(IncidentMetricsSnapshot.objects.values_list("team_id", flat=True))
    assert scopes == {None, payments.pk}
    organisation = IncidentMetricsSnapshot.objects.get(team=None, months=3)
    assert organisation.metrics().count == 3  # the history's two and the declared one
    # A duplicate ring, or a second one for marks already taken, does nothing.
    assert incident_metrics_changes_recompute() == 0


def test_a_change_after_the_marks_were_taken_keeps_its_mark_for_the_next_recompute(
    declared, teammate, queue, django_capture_on_commit_callbacks
):
    incident_change_severity(incident=declared, severity="SEV1", by=teammate)
    incident_metrics_changes_recompute()
    with django_capture_on_commit_callbacks(execute=True):
        incident_change_severity(incident=declared, severity="SEV3", by=teammate)
    assert marked() == [declared.team_id]
    assert len(queue()) == 1


def test_the_sweep_rings_for_marks_whose_ring_was_lost_when_they_are_due(
    declared, teammate, queue, time_machine, settings
):
    settings.INCIDENT_METRICS_RECOMPUTE_DELAY = 30
    assert incident_metrics_sweep() is False
    incident_change_severity(incident=declared, severity="SEV1", by=teammate)  # ring lost
    time_machine.move_to(NOW + dt.timedelta(seconds=10), tick=False)

    assert incident_metrics_sweep() is True
    [(task, eta)] = queue()
    assert task == tasks.recompute_changed_incident_metrics.name
    assert dt.datetime.fromisoformat(eta) == NOW + dt.timedelta(seconds=30)


def test_month_boundaries_are_the_portals_not_utcs(settings, service):
    """With the portal in Tokyo, an incident at 20:00 UTC on 28 February started on 1 March:
    the months of the metrics are the portal's whoever looks at them."""
    settings.TIME_ZONE = "Asia/Tokyo"
    resolved_incident(service, started=dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.UTC), minutes=30)
    recompute()
    snapshot = IncidentMetricsSnapshot.objects.get(team=None, months=3)
    by_month = snapshot.metrics().by_month
    assert by_month[dt.date(2026, 3, 1)]["SEV2"] == 1
    assert by_month[dt.date(2026, 2, 1)]["SEV2"] == 0
    assert snapshot.period_start == dt.datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))


# --- The metrics page -----------------------------------------------------------------------


PAGE_FIGURES = [
    "figures",
    "start",
    "end",
    "team",
    "month_rows",
    "service_rows",
    "team_rows",
    "chart",
]


@pytest.mark.parametrize(
    "query",
    [{}, {"months": 3}, {"months": 24}, {"team": "payments"}, {"team": "quiet", "months": 6}],
)
def test_the_snapshot_and_the_inline_computation_show_the_same_figures(history, as_user, query):
    client = as_user("viewer")
    inline = client.get(reverse("incident_metrics"), query)
    assertContains(inline, "Computed just now: the background worker has not stored")
    recompute()
    stored = client.get(reverse("incident_metrics"), query)
    assertContains(stored, "Computed at <time")
    assertNotContains(stored, "Computed just now")
    for name in PAGE_FIGURES:
        assert stored.context[name] == inline.context[name], name


def test_without_a_snapshot_the_page_stores_nothing(history, as_user):
    assert as_user("viewer").get(reverse("incident_metrics")).status_code == 200
    assert not IncidentMetricsSnapshot.objects.exists()


def test_the_page_shows_the_snapshots_figures_and_when_they_were_computed(
    history, as_user, client_for, viewer
):
    recompute()
    client = client_for(viewer)
    client.cookies[COOKIE] = "Europe/Berlin"
    response = client.get(reverse("incident_metrics"), {"months": 3})
    assertContains(response, ": <strong>2</strong>")
    assertContains(response, "10 Mar 2026, 13:00 CET")


def test_the_team_filter_and_the_period_pick_their_snapshot(history, as_user):
    recompute()
    client = as_user("viewer")
    assertContains(client.get(reverse("incident_metrics"), {"months": 3}), ": <strong>2</strong>")
    assertContains(client.get(reverse("incident_metrics"), {"months": 24}), ": <strong>5</strong>")
    assertContains(
        client.get(reverse("incident_metrics"), {"team": "search"}), ": <strong>2</strong>"
    )
    assertContains(
        client.get(reverse("incident_metrics"), {"team": "payments", "months": 24}),
        ": <strong>3</strong>",
    )


@pytest.mark.parametrize("count", [2, 40])
def test_with_a_snapshot_the_page_takes_the_same_few_queries_at_any_size(
    service, as_user, django_assert_max_num_queries, count
):
    for number in range(count):
        resolved_incident(
            ServiceFactory(owner_team=service.owner_team),
            started=NOW - dt.timedelta(days=number + 1),
            minutes=20,
        )
    recompute()
    client = as_user("viewer")
    # Session, user, the team asked for, the snapshot, the SRE-lead check, the team choices.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("incident_metrics"), {"team": "payments"})
    assert response.context["figures"].count == count


@pytest.mark.parametrize("user", ["owner", "outsider", "viewer", "sre_lead"])
def test_every_signed_in_user_sees_the_stored_figures(history, as_user, user):
    recompute()
    assertContains(as_user(user).get(reverse("incident_metrics")), "Computed at")


def test_signed_out_visitors_are_sent_to_sign_in(history, client):
    recompute()
    response = client.get(reverse("incident_metrics"))
    assert response.status_code == 302
