"""The admin pages of change approvals: open to SRE leads only, saving through the actions (the
same rules, timeline and recomputes as the portal), lists cheap at any size; and the sweep that
rings again for recorded work."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.choices import Severity
from portal import doorbell
from tests.factories import UserFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.change_factories import (
    ChangeFactory,
    DeploymentFactory,
    FreezeFactory,
    make_change_approver,
)
from toil.actions.changes import change_move
from toil.actions.deployments import dora_snapshots_recompute
from toil.actions.gate import gate_evaluate
from toil.models.changes import ChangeNotification, ChangeRequest, FreezeWindow, GateOverride
from toil.models.deployments import Deployment, DoraDirtyMonth, DoraSnapshot, IncidentCause
from toil.tasks import changes as tasks

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "toil/changerequest",
    "toil/changenotification",
    "toil/freezewindow",
    "toil/gatedecision",
    "toil/gateoverride",
    "toil/deployment",
    "toil/incidentcause",
    "toil/dorasnapshot",
]


@pytest.fixture
def records(service, owner, sre_lead):
    change = change_move(
        change=ChangeFactory(services=[service], author=owner), move="submit", by=owner
    )
    deployment = DeploymentFactory(
        service=service, finished_at=timezone.now() - dt.timedelta(hours=2)
    )
    incident = IncidentFactory(services=[service], severity=Severity.SEV2)
    decision, _ = gate_evaluate(services=[service], category="low-risk", change=None, by=owner)
    dora_snapshots_recompute(now=timezone.now())
    return {
        "toil/changerequest": change,
        "toil/changenotification": ChangeNotification.objects.get(),
        "toil/freezewindow": FreezeFactory(),
        "toil/gatedecision": decision,
        "toil/gateoverride": GateOverride.objects.create(
            service=service,
            reason="Hotfix",
            created_by=sre_lead,
            expires_at=timezone.now() + dt.timedelta(hours=1),
        ),
        "toil/deployment": deployment,
        "toil/incidentcause": IncidentCause.objects.create(
            incident=incident, deployment=deployment
        ),
        "toil/dorasnapshot": DoraSnapshot.objects.first(),
    }


@pytest.mark.parametrize("model", ADMIN_PAGES)
def test_an_sre_lead_opens_the_list_and_change_pages(model, records, sre_lead, client_for):
    client = client_for(sre_lead)
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/{records[model].pk}/change/").status_code == 200


@pytest.mark.parametrize("user", ["owner", "viewer"])
def test_the_admin_is_for_sre_leads_only(request, records, client_for, user):
    client = client_for(request.getfixturevalue(user))
    assert client.get("/admin/toil/changerequest/").status_code == 302


def test_a_freeze_saved_in_the_admin_is_validated_like_anywhere(sre_lead, client_for):
    client = client_for(sre_lead)
    response = client.post(
        "/admin/toil/freezewindow/add/",
        {
            "name": "Hourly nonsense",
            "scope": "organisation",
            "start_0": "2026-03-10",
            "start_1": "12:00:00",
            "end_0": "2026-03-10",
            "end_1": "13:00:00",
            "time_zone": "UTC",
            "recurrence": "FREQ=HOURLY",
        },
    )
    assert response.status_code == 200
    assert "repeats daily, weekly, monthly or yearly" in response.content.decode()
    assert not FreezeWindow.objects.exists()


def test_a_submitted_change_is_read_only_in_the_admin_and_a_draft_is_not(
    records, service, owner, sre_lead, client_for
):
    client = client_for(sre_lead)
    submitted = records["toil/changerequest"]
    page = client.get(f"/admin/toil/changerequest/{submitted.pk}/change/").content.decode()
    assert 'name="title"' not in page and submitted.title in page
    draft = ChangeFactory(services=[service], author=owner)
    page = client.get(f"/admin/toil/changerequest/{draft.pk}/change/").content.decode()
    assert 'name="title"' in page


def test_deleting_a_deployment_in_the_admin_marks_its_month(records, sre_lead, client_for):
    DoraDirtyMonth.objects.all().delete()
    deployment = records["toil/deployment"]
    client = client_for(sre_lead)
    response = client.post(f"/admin/toil/deployment/{deployment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Deployment.objects.filter(pk=deployment.pk).exists()
    assert DoraDirtyMonth.objects.exists()


def test_a_submitted_change_offers_no_delete_in_the_admin_and_cannot_be_deleted(
    records, sre_lead, client_for
):
    submitted = records["toil/changerequest"]
    client = client_for(sre_lead)
    response = client.post(f"/admin/toil/changerequest/{submitted.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ChangeRequest.objects.filter(pk=submitted.pk).exists()


def test_deleting_selected_changes_in_the_admin_is_all_or_nothing_and_drafts_only(
    records, service, owner, sre_lead, client_for
):
    submitted = records["toil/changerequest"]
    draft = ChangeFactory(services=[service], author=owner)
    client = client_for(sre_lead)
    both = {"action": "delete_selected", "_selected_action": [submitted.pk, draft.pk]}
    response = client.post("/admin/toil/changerequest/", {**both, "post": "yes"})
    assert response.status_code == 403
    assert ChangeRequest.objects.filter(pk__in=[submitted.pk, draft.pk]).count() == 2
    only_draft = {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"}
    client.post("/admin/toil/changerequest/", only_draft)
    assert not ChangeRequest.objects.filter(pk=draft.pk).exists()


def test_correcting_a_deployment_in_the_admin_keeps_what_it_is_and_its_commits(
    records, sre_lead, client_for
):
    deployment = records["toil/deployment"]
    deployment.commits = [{"sha": "abc123", "at": "2026-11-30T10:00:00+00:00"}]
    deployment.save()
    DoraDirtyMonth.objects.all().delete()
    client = client_for(sre_lead)
    page = client.get(f"/admin/toil/deployment/{deployment.pk}/change/").content.decode()
    assert 'name="version"' not in page and 'name="commits"' not in page
    finished = deployment.finished_at.astimezone(dt.UTC)
    response = client.post(
        f"/admin/toil/deployment/{deployment.pk}/change/",
        {
            "started_at_0": (finished - dt.timedelta(minutes=5)).strftime("%Y-%m-%d"),
            "started_at_1": (finished - dt.timedelta(minutes=5)).strftime("%H:%M:%S"),
            "finished_at_0": finished.strftime("%Y-%m-%d"),
            "finished_at_1": finished.strftime("%H:%M:%S"),
            "status": "failed",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Deployment.objects.count() == 1
    deployment.refresh_from_db()
    assert deployment.status == "failed"
    assert deployment.commits == [{"sha": "abc123", "at": "2026-11-30T10:00:00+00:00"}]
    assert DoraDirtyMonth.objects.exists()


def test_deleting_selected_incident_causes_in_the_admin_marks_their_months(
    records, sre_lead, client_for
):
    cause = records["toil/incidentcause"]
    DoraDirtyMonth.objects.all().delete()
    client = client_for(sre_lead)
    selected = {"action": "delete_selected", "_selected_action": [cause.pk], "post": "yes"}
    client.post("/admin/toil/incidentcause/", selected)
    assert not IncidentCause.objects.exists()
    assert DoraDirtyMonth.objects.exists()


@pytest.mark.parametrize("size", [2, 20])
def test_the_change_list_in_the_admin_takes_the_same_queries_at_any_size(
    service, owner, sre_lead, client_for, django_assert_max_num_queries, size
):
    for _ in range(size):
        ChangeFactory(services=[service], author=owner)
    client = client_for(sre_lead)
    # Session, user, SRE-lead group, counts and rows, and the sidebar's team filter.
    with django_assert_max_num_queries(10):
        assert client.get("/admin/toil/changerequest/").status_code == 200


def test_the_sweep_rings_again_for_unsent_emails_and_dirty_months(records, monkeypatch):
    rung = []
    monkeypatch.setattr(
        doorbell, "ring", lambda task, *args, **kwargs: rung.append((task.name, args))
    )
    DoraDirtyMonth.objects.create(month=dt.date(2026, 3, 1), marked_at=timezone.now())
    tasks.sweep_changes()
    notification = records["toil/changenotification"]
    assert ("toil.tasks.changes.send_change_notification", (notification.pk,)) in rung
    assert ("toil.tasks.changes.recompute_dora", ()) in rung


def test_the_tasks_call_their_actions(records, smtp_sink):
    make_change_approver(UserFactory(email="ada@example.test"))
    notification = records["toil/changenotification"]
    tasks.send_change_notification(notification.pk)
    tasks.send_change_notification(notification.pk)
    assert len(smtp_sink.delivered) == 1
    DoraDirtyMonth.objects.create(month=dt.date(2026, 3, 1), marked_at=timezone.now())
    tasks.recompute_dora()
    assert not DoraDirtyMonth.objects.exists()


@pytest.mark.parametrize(
    "commits", [None, -1, "abc", [1], [{"committed_at": None}], [{"sha": 7}], {"sha": "abc"}]
)
def test_a_deployment_refuses_commits_of_the_wrong_shape(service, commits):
    """The admin takes any JSON; the model says what the commits must be."""
    deployment = DeploymentFactory.build(service=service, commits=commits)
    with pytest.raises(ValidationError) as refused:
        deployment.full_clean()
    assert set(refused.value.message_dict) == {"commits"}
