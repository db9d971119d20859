"""Deployments as pipelines report them (idempotent on service, environment and version), the
incidents they caused, and DORA's figures through the API."""

import datetime as dt

import pytest

from incidents.choices import IncidentStatus, Severity
from tests.factories import ServiceFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.change_factories import DeploymentFactory
from toil.actions.deployments import dora_snapshots_recompute
from toil.models.deployments import Deployment, DoraDirtyMonth, IncidentCause

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def pipeline(api_client_for, owner):
    return api_client_for(owner)


def report(**fields):
    return {
        "service": "payments-api",
        "environment": "production",
        "version": "1.4.2",
        "started_at": "2026-03-10T11:40:00Z",
        "finished_at": "2026-03-10T11:50:00Z",
        "status": "succeeded",
        "commits": [
            {"sha": "a1b2c3d4", "committed_at": "2026-03-09T15:00:00Z"},
            {"sha": "e5f6a7b8", "committed_at": "2026-03-08T10:00:00Z"},
        ],
        **fields,
    }


def test_a_pipeline_reports_a_deployment_with_its_lead_time(pipeline, service):
    response = pipeline.post("/api/deployments/", report(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["first_commit_at"] == "2026-03-08T10:00:00Z"
    assert body["lead_time_seconds"] == (dt.timedelta(days=2, hours=1, minutes=50)).total_seconds()
    assert body["created_by"] == "olivia"
    assert DoraDirtyMonth.objects.filter(month=dt.date(2026, 3, 1)).exists()


def test_reporting_the_same_deployment_again_updates_it_and_never_counts_twice(pipeline, service):
    first = pipeline.post("/api/deployments/", report(), format="json")
    again = pipeline.post("/api/deployments/", report(), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    failed = pipeline.post(
        "/api/deployments/",
        report(status="rolled_back", finished_at="2026-03-10T11:58:00Z"),
        format="json",
    )
    assert failed.status_code == 200 and failed.json()["status"] == "rolled_back"
    assert Deployment.objects.count() == 1
    # Another environment is another deployment.
    staging = pipeline.post("/api/deployments/", report(environment="staging"), format="json")
    assert staging.status_code == 201
    assert Deployment.objects.count() == 2


def test_first_commit_at_may_stand_for_the_commits(pipeline, service):
    response = pipeline.post(
        "/api/deployments/",
        report(commits=[], first_commit_at="2026-03-10T09:50:00Z"),
        format="json",
    )
    assert response.json()["lead_time_seconds"] == 2 * 3600


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"finished_at": "2026-03-10T11:00:00Z"}, "finished_at"),
        ({"finished_at": "2026-03-11T11:00:00Z"}, "finished_at"),
        ({"service": "ghost"}, "service"),
        ({"status": "meh"}, "status"),
        ({"commits": [{"sha": "not a sha!"}]}, "commits"),
        ({"commits": [{"sha": "abcdef1"}] * 501}, "commits"),
        ({"first_commit_at": "2026-03-10T12:30:00Z", "commits": []}, "first_commit_at"),
        ({"version": ""}, "version"),
    ],
)
def test_bad_deployments_are_a_400_naming_the_field_and_nothing_is_written(
    pipeline, service, fields, field
):
    response = pipeline.post("/api/deployments/", report(**fields), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("user", ["outsider", "viewer"])
def test_only_the_services_team_reports_its_deployments(request, api_client_for, service, user):
    response = api_client_for(request.getfixturevalue(user)).post(
        "/api/deployments/", report(), format="json"
    )
    assert response.status_code == 403
    assert not Deployment.objects.exists()


def test_deployments_are_listed_with_the_uis_filters(api_client_for, viewer, payments, service):
    other = ServiceFactory(owner_team=payments, slug="refunds")
    DeploymentFactory(service=service, status="failed")
    DeploymentFactory(service=other)
    DeploymentFactory(service=other, environment="staging")
    client = api_client_for(viewer)
    assert client.get("/api/deployments/", {"service": "refunds"}).json()["count"] == 2
    assert client.get("/api/deployments/", {"status": "failed"}).json()["count"] == 1
    assert client.get("/api/deployments/", {"team": "payments"}).json()["count"] == 3
    assert client.get("/api/deployments/", {"environment": "staging"}).json()["count"] == 1


@pytest.mark.parametrize("size", [2, 20])
def test_the_deployment_list_takes_the_same_queries_at_any_size(
    api_client_for, viewer, service, django_assert_max_num_queries, size
):
    for _ in range(size):
        DeploymentFactory(service=service)
    client = api_client_for(viewer)
    with django_assert_max_num_queries(4):
        assert client.get("/api/deployments/").json()["count"] == size


# --- incident causes ------------------------------------------------------------------------


@pytest.fixture
def incident(service):
    return IncidentFactory(
        services=[service],
        severity=Severity.SEV2,
        status=IncidentStatus.RESOLVED,
        started_at=NOW - dt.timedelta(hours=1),
        detected_at=NOW - dt.timedelta(hours=1),
        resolved_at=NOW - dt.timedelta(minutes=20),
    )


def test_the_incidents_team_says_which_deployment_caused_it(pipeline, service, incident):
    deployment = DeploymentFactory(service=service, finished_at=NOW - dt.timedelta(hours=2))
    response = pipeline.post(
        "/api/incident-causes/",
        {"incident": incident.reference, "deployment": deployment.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert IncidentCause.objects.get().deployment == deployment
    # Posting again replaces the cause: an incident has one.
    later = DeploymentFactory(service=service, finished_at=NOW - dt.timedelta(hours=1, minutes=30))
    pipeline.post(
        "/api/incident-causes/",
        {"incident": incident.reference, "deployment": later.pk},
        format="json",
    )
    assert IncidentCause.objects.get().deployment == later
    cause = IncidentCause.objects.get()
    assert pipeline.delete(f"/api/incident-causes/{cause.pk}/").status_code == 204
    assert not IncidentCause.objects.exists()


def test_a_deployment_after_the_incident_began_cannot_have_caused_it(pipeline, service, incident):
    deployment = DeploymentFactory(service=service, finished_at=NOW)
    response = pipeline.post(
        "/api/incident-causes/",
        {"incident": incident.reference, "deployment": deployment.pk},
        format="json",
    )
    assert response.status_code == 400 and "deployment" in response.json()


def test_others_do_not_say_what_caused_an_incident(api_client_for, viewer, service, incident):
    deployment = DeploymentFactory(service=service, finished_at=NOW - dt.timedelta(hours=2))
    response = api_client_for(viewer).post(
        "/api/incident-causes/",
        {"incident": incident.reference, "deployment": deployment.pk},
        format="json",
    )
    assert response.status_code == 403


# --- DORA -----------------------------------------------------------------------------------


def test_dora_figures_per_service_team_and_organisation(
    api_client_for, viewer, payments, service, incident
):
    deployment = DeploymentFactory(
        service=service,
        finished_at=NOW - dt.timedelta(hours=2),
        first_commit_at=NOW - dt.timedelta(hours=8),
    )
    IncidentCause.objects.create(incident=incident, deployment=deployment)
    DeploymentFactory(service=service, finished_at=NOW - dt.timedelta(hours=3), status="failed")
    dora_snapshots_recompute(now=NOW)
    client = api_client_for(viewer)
    months = client.get("/api/dora/", {"service": "payments-api"}).json()
    assert len(months) == 12
    march = months[0]
    assert (march["month"], march["scope"], march["deployments"]) == (
        "2026-03",
        "service:payments-api",
        2,
    )
    assert march["change_failure_rate"] == 1.0
    assert march["lead_time_seconds"] == 6 * 3600
    # The failure recovered by the next deployment after 1 h, the incident resolved in 40 min.
    assert march["recovery_time_seconds"] == 50 * 60
    assert (march["recovered"], march["unrecovered"]) == (2, 0)
    assert march["rework_rate"] == 0.5
    assert march["bands"]["change_failure_rate"] == "low"
    [team] = client.get("/api/dora/", {"team": "payments", "month": "2026-03"}).json()
    assert team["scope"] == "team:payments" and team["deployments"] == 2
    [organisation] = client.get("/api/dora/", {"month": "2026-02"}).json()
    assert organisation["deployments"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "March"}, "month"),
        ({"team": "ghosts"}, "team"),
        ({"team": "payments", "service": "payments-api"}, "service"),
    ],
)
def test_bad_dora_queries_are_a_400_naming_the_field(api_client_for, viewer, service, query, field):
    response = api_client_for(viewer).get("/api/dora/", query)
    assert response.status_code == 400 and field in response.json()


def test_the_dora_api_reads_one_snapshot_query(
    api_client_for, viewer, service, django_assert_max_num_queries
):
    DeploymentFactory(service=service, finished_at=NOW - dt.timedelta(hours=2))
    dora_snapshots_recompute(now=NOW)
    client = api_client_for(viewer)
    # The token, the service, the snapshots.
    with django_assert_max_num_queries(4):
        assert client.get("/api/dora/", {"service": "payments-api"}).status_code == 200
