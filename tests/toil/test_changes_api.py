"""The change request API: writing, editing drafts, moves and decisions as POST actions, the
checklist and timeline, filters, and freezes, with the UI's rights and 400s naming fields."""

import datetime as dt

import pytest

from incidents.choices import Severity
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.change_factories import ChangeFactory, FreezeFactory, make_change_approver
from toil.freezes import scope_errors
from toil.models.changes import ChangeRequest, FreezeWindow

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


def payload(**fields):
    return {
        "title": "Move the card vault to the new cluster",
        "category": "standard",
        "services": ["payments-api"],
        "window_start": "2026-03-11T09:00:00+01:00",
        "window_end": "2026-03-11T11:00:00+01:00",
        "time_zone": "Europe/Paris",
        "rollback_plan": "Point the DNS back.",
        "customer_facing": True,
        **fields,
    }


@pytest.fixture
def api(api_client_for, owner):
    return api_client_for(owner)


def test_an_engineer_writes_a_change_request_as_a_draft(api, service):
    response = api.post("/api/changes/", payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["author"], body["team"]) == ("draft", "olivia", "payments")
    assert body["window_start"] == "2026-03-11T08:00:00Z"
    assert body["risk_level"] == "medium" and body["risk_score"] == 2 + 2 + 2 + 1
    assert body["approvals_required"] == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"window_end": "2026-03-11T08:00:00+01:00"}, "window_end"),
        ({"category": "emergency"}, "incident"),
        ({"rollback_plan": ""}, "rollback_plan"),
        ({"services": ["nope"]}, "services"),
        ({"services": []}, "services"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"category": "whenever"}, "category"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(api, service, fields, field):
    response = api.post("/api/changes/", payload(**fields), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not ChangeRequest.objects.exists()


def test_a_low_risk_change_needs_no_rollback_plan(api, service):
    response = api.post(
        "/api/changes/", payload(category="low-risk", rollback_plan=""), format="json"
    )
    assert response.status_code == 201


def test_an_emergency_change_names_its_incident_by_reference(api, service):
    incident = IncidentFactory(services=[service], severity=Severity.SEV1)
    response = api.post(
        "/api/changes/",
        payload(category="emergency", incident=incident.reference),
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["incident"] == incident.reference


@pytest.mark.parametrize("user", ["viewer", "outsider"])
def test_viewers_and_other_teams_do_not_write_changes_to_a_service(
    request, api_client_for, service, user
):
    response = api_client_for(request.getfixturevalue(user)).post(
        "/api/changes/", payload(), format="json"
    )
    assert response.status_code in (400, 403)
    assert not ChangeRequest.objects.exists()


def test_a_draft_is_edited_and_deleted_but_not_once_submitted(api, service, owner):
    change = api.post("/api/changes/", payload(), format="json").json()
    url = f"/api/changes/{change['id']}/"
    response = api.patch(url, {"title": "Move the vault", "data_migration": True}, format="json")
    assert response.status_code == 200
    assert response.json()["risk_score"] == change["risk_score"] + 3
    assert api.post(f"{url}submit/").status_code == 200
    response = api.patch(url, {"title": "Too late"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    assert api.delete(url).status_code == 400
    assert ChangeRequest.objects.filter(pk=change["id"]).exists()


def test_the_whole_life_of_a_standard_change_through_the_api(
    api, api_client_for, service, sre_lead
):
    change = api.post("/api/changes/", payload(), format="json").json()
    url = f"/api/changes/{change['id']}/"
    assert api.post(f"{url}submit/").json()["status"] == "submitted"
    first, second = make_change_approver(UserFactory()), api_client_for(sre_lead)
    assert api_client_for(first).post(f"{url}approve/", {"comment": "ok"}).status_code == 200
    body = second.post(f"{url}approve/").json()
    assert body["status"] == "approved"
    assert [a["role"] for a in body["approvals"]] == ["change_approver", "sre_lead"]
    for move, status in [
        ("schedule", "scheduled"),
        ("start", "in_progress"),
        ("roll-back", "rolled_back"),
    ]:
        response = api.post(f"{url}{move}/", format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == status
    response = api.post(f"{url}review/", {"review": "Replication was not ready."}, format="json")
    assert response.json()["status"] == "reviewed"
    events = api.get(f"{url}events/").json()["results"]
    assert [e["to_status"] for e in events if e["kind"] == "transition"] == [
        "submitted",
        "approved",
        "scheduled",
        "in_progress",
        "rolled_back",
        "reviewed",
    ]


def test_approving_ones_own_change_or_out_of_turn_is_a_400(api, service, owner):
    change = ChangeFactory(services=[service], author=owner, status="submitted")
    response = api.post(f"/api/changes/{change.pk}/approve/")
    assert response.status_code == 400
    assert response.json() == {"decision": ["Nobody approves their own change."]}
    response = api.post(f"/api/changes/{change.pk}/start/")
    assert response.status_code == 400 and "status" in response.json()


def test_a_rejection_without_a_comment_is_a_400(api_client_for, service, owner):
    change = ChangeFactory(services=[service], author=owner, status="submitted")
    approver = api_client_for(make_change_approver(UserFactory()))
    response = approver.post(f"/api/changes/{change.pk}/reject/", {"comment": ""})
    assert response.status_code == 400 and "comment" in response.json()
    response = approver.post(f"/api/changes/{change.pk}/reject/", {"comment": "Not now."})
    assert response.json()["status"] == "rejected"


def test_scheduling_into_a_freeze_answers_the_conflicts(api, api_client_for, service, owner):
    change = ChangeFactory(
        services=[service],
        author=owner,
        status="approved",
        approved_at=NOW,
        window_start=NOW + dt.timedelta(hours=1),
        window_end=NOW + dt.timedelta(hours=2),
    )
    FreezeFactory(name="Board meeting", start=NOW, end=NOW + dt.timedelta(hours=3))
    response = api.post(f"/api/changes/{change.pk}/schedule/")
    assert response.status_code == 400
    assert "Board meeting" in response.json()["conflicts"][0]
    response = api.post(
        f"/api/changes/{change.pk}/schedule/", {"acknowledge_conflicts": True}, format="json"
    )
    assert response.status_code == 400  # only SRE leads and the freeze's named people


def test_the_checklist_is_ticked_through_the_api(api, service, owner):
    change = ChangeFactory(services=[service], author=owner)
    response = api.post(
        f"/api/changes/{change.pk}/checklist/", {"item": "canary", "done": True}, format="json"
    )
    assert response.status_code == 200
    assert list(response.json()["checklist"]) == ["canary"]
    response = api.post(f"/api/changes/{change.pk}/checklist/", {"item": "vibes"}, format="json")
    assert response.status_code == 400 and "item" in response.json()


def test_others_may_not_move_a_teams_change(api_client_for, service, owner, outsider, viewer):
    change = ChangeFactory(services=[service], author=owner)
    for person in (outsider, viewer):
        assert api_client_for(person).post(f"/api/changes/{change.pk}/submit/").status_code == 403


def test_the_list_filters_like_the_ui(api_client_for, viewer, service, payments):
    other = ServiceFactory(owner_team=TeamFactory(), slug="search-api")
    ChangeFactory(services=[service], category="emergency-less", title="Alpha")
    ChangeFactory(services=[other], title="Beta", status="submitted")
    client = api_client_for(viewer)
    assert [
        c["title"] for c in client.get("/api/changes/", {"service": "search-api"}).json()["results"]
    ] == ["Beta"]
    assert client.get("/api/changes/", {"status": "submitted"}).json()["count"] == 1
    assert client.get("/api/changes/", {"q": "alp"}).json()["count"] == 1
    assert client.get("/api/changes/", {"team": "payments"}).json()["count"] == 1
    assert client.get("/api/changes/", {"status": "nonsense"}).status_code == 400
    beta = ChangeRequest.objects.get(title="Beta")
    day = beta.window_start.astimezone(dt.UTC).date()

    def running_on(day):
        answer = client.get("/api/changes/", {"runs_on": day.isoformat()}).json()
        return [change["title"] for change in answer["results"]]

    assert "Beta" in running_on(day)
    assert "Beta" not in running_on(day + dt.timedelta(days=30))
    refused = client.get("/api/changes/", {"runs_on": "not-a-day"})
    assert refused.status_code == 400 and "runs_on" in refused.json()


@pytest.mark.parametrize("size", [2, 20])
def test_the_list_takes_the_same_queries_at_any_size(
    api_client_for, viewer, service, django_assert_max_num_queries, size
):
    incident = IncidentFactory(services=[service])
    for _ in range(size):
        # Every row names an implementer and an incident too.
        ChangeFactory(
            services=[service], author=viewer, implementer=UserFactory(), incident=incident
        )
    client = api_client_for(viewer)
    with django_assert_max_num_queries(6):
        assert client.get("/api/changes/").json()["count"] == size


# --- freezes ----------------------------------------------------------------------------------


def freeze_payload(**fields):
    return {
        "name": "Weekends",
        "scope": "service",
        "service": "payments-api",
        "start": "2026-03-13T16:00:00+01:00",
        "end": "2026-03-16T08:00:00+01:00",
        "time_zone": "Europe/Paris",
        "recurrence": "FREQ=WEEKLY;BYDAY=FR",
        **fields,
    }


def test_engineers_freeze_their_services_and_sre_leads_the_organisation(
    api, api_client_for, service, sre_lead
):
    response = api.post("/api/freeze-windows/", freeze_payload(), format="json")
    assert response.status_code == 201, response.json()
    response = api.post(
        "/api/freeze-windows/", freeze_payload(scope="organisation", service=None), format="json"
    )
    assert response.status_code == 403
    response = api_client_for(sre_lead).post(
        "/api/freeze-windows/", freeze_payload(scope="organisation", service=None), format="json"
    )
    assert response.status_code == 201
    assert FreezeWindow.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"end": "2026-03-13T15:00:00+01:00"}, "end"),
        ({"recurrence": "FREQ=SECONDLY"}, "recurrence"),
        ({"scope": "team", "service": None}, "team"),
    ],
)
def test_a_bad_freeze_is_a_400_naming_the_field(api, service, fields, field):
    response = api.post("/api/freeze-windows/", freeze_payload(**fields), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_freeze_lacking_its_target_is_told_so_in_the_words_of_the_page(api, service):
    """The model, the form and the API read a freeze's scope with one rule
    (toil.freezes.scope_errors): the same field, the same words."""
    for scope, field in (("team", "team"), ("service", "service")):
        sent = freeze_payload(scope=scope, team=None, service=None)
        response = api.post("/api/freeze-windows/", sent, format="json")
        assert response.status_code == 400
        assert response.json()[field] == [scope_errors(scope, team=None, service=None)[field]]


def test_others_may_not_change_a_teams_freeze(api_client_for, service, outsider):
    freeze = FreezeFactory(scope="service", service=service)
    response = api_client_for(outsider).patch(
        f"/api/freeze-windows/{freeze.pk}/", {"name": "Mine now"}, format="json"
    )
    assert response.status_code == 403


def test_the_list_shows_what_awaits_the_person_asking(api_client_for, owner, service):
    from tests.toil.change_factories import make_change_approver
    from toil.choices.changes import ChangeStatus

    approver = make_change_approver(UserFactory(username="cara"))
    waiting = ChangeFactory(
        services=[service], author=owner, status=ChangeStatus.SUBMITTED, title="Rotate keys"
    )
    ChangeFactory(services=[service], author=owner, title="Still a draft")
    mine = api_client_for(approver).get("/api/changes/", {"awaiting": "true"}).json()
    assert [row["title"] for row in mine["results"]] == [waiting.title]
    theirs = api_client_for(owner).get("/api/changes/", {"awaiting": "true"}).json()
    assert theirs["count"] == 0  # nobody approves their own change
    others = api_client_for(approver).get("/api/changes/", {"awaiting": "false"}).json()
    assert [row["title"] for row in others["results"]] == ["Still a draft"]
