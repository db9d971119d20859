"""The incident admin pages: open to SRE leads only, the timeline append-only there too,
history kept, lists cheap at any size."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.actions.metrics import incident_metrics_snapshots_recompute
from incidents.models.incidents import Incident, SeverityLevel, TimelineEntry
from incidents.models.metrics import IncidentMetricsDirtyMark, IncidentMetricsSnapshot
from incidents.models.postmortems import PostMortem
from tests.incidents.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    StatusUpdateFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "incidents/severitylevel",
    "incidents/incident",
    "incidents/statusupdate",
    "incidents/postmortem",
    "incidents/actionitem",
    "incidents/incidentmetricssnapshot",
]


@pytest.fixture
def records(service, owner):
    incident = IncidentFactory(services=[service], commander=owner)
    TimelineEntryFactory(incident=incident, author=owner)
    incident.alerts.create(
        fingerprint="abc", labels={"alertname": "Down"}, starts_at=incident.started_at
    )
    postmortem = PostMortemFactory(incident=incident, author=owner)
    incident_metrics_snapshots_recompute(now=timezone.now())
    return {
        "incidents/severitylevel": SeverityLevel.objects.get(code="SEV1"),
        "incidents/incident": incident,
        "incidents/statusupdate": StatusUpdateFactory(incident=incident, created_by=owner),
        "incidents/postmortem": postmortem,
        "incidents/actionitem": ActionItemFactory(postmortem=postmortem, owner=owner),
        "incidents/incidentmetricssnapshot": IncidentMetricsSnapshot.objects.get(
            team=None, months=12
        ),
    }


def change_url(model, record):
    return f"/admin/{model}/{record.pk}/change/"


@pytest.mark.parametrize("model", ADMIN_PAGES)
def test_an_sre_lead_opens_the_list_and_change_pages(model, records, sre_lead, client_for):
    client = client_for(sre_lead)
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(change_url(model, records[model])).status_code == 200


@pytest.mark.parametrize("model", ["incidents/incident", "incidents/postmortem"])
def test_history_pages_are_open_to_sre_leads(model, records, sre_lead, client_for):
    response = client_for(sre_lead).get(f"/admin/{model}/{records[model].pk}/history/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "model",
    [
        "incidents/severitylevel",
        "incidents/incident",
        "incidents/statusupdate",
        "incidents/incidentmetricssnapshot",
    ],
)
def test_records_made_by_the_portal_are_not_added_in_the_admin(model, sre_lead, client_for):
    assert client_for(sre_lead).get(f"/admin/{model}/add/").status_code == 403


@pytest.mark.parametrize("who", ["owner", "viewer"])
@pytest.mark.parametrize("model", ADMIN_PAGES)
def test_engineers_and_viewers_are_sent_to_the_admin_login(
    who, model, records, request, client_for
):
    response = client_for(request.getfixturevalue(who)).get(change_url(model, records[model]))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_sre_lead_edits_a_severitys_response_time(sre_lead, client_for):
    response = client_for(sre_lead).post(
        "/admin/incidents/severitylevel/SEV3/change/",
        {"name": "Minor", "description": "Partly broken.", "response_minutes": 30},
    )
    assert response.status_code == 302
    assert SeverityLevel.objects.get(code="SEV3").response_minutes == 30


def incident_form(incident, entry, **changes):
    """The incident change form as the admin posts it, with its timeline inline."""
    data = {
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity,
        "services": [service.pk for service in incident.services.all()],
        "team": incident.team_id,
        "commander": incident.commander_id or "",
        "started_at_0": incident.started_at.strftime("%Y-%m-%d"),
        "started_at_1": incident.started_at.strftime("%H:%M:%S"),
        "detected_at_0": incident.detected_at.strftime("%Y-%m-%d"),
        "detected_at_1": incident.detected_at.strftime("%H:%M:%S"),
        "alert_group_key": "",
        "timeline_entries-TOTAL_FORMS": 1,
        "timeline_entries-INITIAL_FORMS": 1,
        "timeline_entries-0-id": entry.pk,
        "timeline_entries-0-incident": incident.pk,
        "alerts-TOTAL_FORMS": 0,
        "alerts-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return data


def test_the_timeline_inline_pins_entries_and_changes_nothing_else(records, sre_lead, client_for):
    incident = records["incidents/incident"]
    entry = incident.timeline_entries.get()
    response = client_for(sre_lead).post(
        change_url("incidents/incident", incident),
        incident_form(incident, entry, title="Renamed", **{"timeline_entries-0-pinned": "on"}),
    )
    assert response.status_code == 302, response.context["errors"]
    entry = TimelineEntry.objects.get(pk=entry.pk)
    assert entry.pinned
    assert Incident.objects.get(pk=incident.pk).title == "Renamed"
    latest = incident.history.first()
    assert (latest.title, latest.history_user) == ("Renamed", sre_lead)


def test_the_admin_keeps_the_timestamps_in_order(records, sre_lead, client_for):
    incident = records["incidents/incident"]
    entry = incident.timeline_entries.get()
    # An hour before, whatever the hour (replacing the hour wrapped to a later time near
    # midnight, and the test failed for an hour every night).
    earlier = incident.started_at - dt.timedelta(hours=1)
    data = incident_form(incident, entry)
    data["detected_at_0"], data["detected_at_1"] = (
        earlier.strftime("%Y-%m-%d"),
        earlier.strftime("%H:%M:%S"),
    )
    response = client_for(sre_lead).post(change_url("incidents/incident", incident), data)
    assert response.status_code == 200
    assert "cannot be before the started at time" in response.content.decode()


@pytest.mark.parametrize("count", [2, 20])
def test_the_incident_list_costs_the_same_for_few_and_many(
    count, service, owner, sre_lead, client_for, django_assert_max_num_queries
):
    for _ in range(count):
        IncidentFactory(services=[service], commander=owner)
    client = client_for(sre_lead)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/incidents/incident/").status_code == 200


def test_metrics_snapshots_are_read_only_in_the_admin(records, sre_lead, client_for):
    snapshot = records["incidents/incidentmetricssnapshot"]
    client = client_for(sre_lead)
    response = client.post(change_url("incidents/incidentmetricssnapshot", snapshot), {"months": 3})
    assert response.status_code == 403
    delete = f"/admin/incidents/incidentmetricssnapshot/{snapshot.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert IncidentMetricsSnapshot.objects.get(pk=snapshot.pk).months == 12


def test_saving_an_incident_in_the_admin_has_the_effects_of_the_ui(
    records, sre_lead, teammate, client_for
):
    """Corrections, a new severity and a role go through the actions: timeline entries,
    history and the metrics marked, as in the UI."""
    incident = records["incidents/incident"]
    entry = incident.timeline_entries.get()
    IncidentMetricsDirtyMark.objects.all().delete()
    earlier = incident.started_at - dt.timedelta(minutes=10)
    data = incident_form(incident, entry, title="Renamed", severity="SEV1", tech_lead=teammate.pk)
    data["started_at_0"], data["started_at_1"] = (
        earlier.strftime("%Y-%m-%d"),
        earlier.strftime("%H:%M:%S"),
    )

    response = client_for(sre_lead).post(change_url("incidents/incident", incident), data)

    assert response.status_code == 302, response.context["errors"]
    incident = Incident.objects.get(pk=incident.pk)
    assert (incident.title, incident.severity, incident.tech_lead) == ("Renamed", "SEV1", teammate)
    texts = list(
        incident.timeline_entries.exclude(pk=entry.pk).order_by("id").values_list("text", flat=True)
    )
    assert texts == [
        "Corrected in the admin: title, started at (Sasha Lead).",
        "Severity: SEV3 → SEV1 (Sasha Lead).\n\nIn the admin.",
        "Tom Teammate is now tech lead (Sasha Lead).",
    ]
    assert teammate in incident.subscribers.all()
    assert incident.history.first().history_user == sre_lead
    assert set(IncidentMetricsDirtyMark.objects.values_list("team_id", flat=True)) == {
        incident.team_id
    }


def test_the_admin_gives_a_role_only_to_someone_who_may_act(records, sre_lead, viewer, client_for):
    incident = records["incidents/incident"]
    entry = incident.timeline_entries.get()
    response = client_for(sre_lead).post(
        change_url("incidents/incident", incident),
        incident_form(incident, entry, tech_lead=viewer.pk),
    )
    assert response.status_code == 200
    assert "Vera Viewer cannot hold an incident role" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).tech_lead is None


def test_a_post_mortem_edited_in_the_admin_counts_its_editor_as_a_writer(
    records, sre_lead, client_for
):
    postmortem = records["incidents/postmortem"]
    data = {section: getattr(postmortem, section) for section in PostMortem.SECTIONS}
    data.update(
        root_cause="A bad index.",
        reviewers=[],
        **{"action_items-TOTAL_FORMS": 0, "action_items-INITIAL_FORMS": 0},
    )
    response = client_for(sre_lead).post(change_url("incidents/postmortem", postmortem), data)
    assert response.status_code == 302, response.context["errors"]
    postmortem.refresh_from_db()
    assert postmortem.root_cause == "A bad index."
    assert sre_lead in postmortem.contributors.all()


def test_action_items_saved_in_the_admin_go_through_their_actions(records, sre_lead, client_for):
    item = records["incidents/actionitem"]
    data = {
        "title": item.title,
        "owner": item.owner_id,
        "due_date": "9999-12-31",
        "priority": item.priority,
        "kind": item.kind,
        "status": "done",
        "wont_do_reason": "",
    }
    client = client_for(sre_lead)
    refused = client.post(change_url("incidents/actionitem", item), data)
    assert refused.status_code == 200
    assert "The due date must be by" in refused.content.decode()

    data["due_date"] = item.due_date.isoformat()
    assert client.post(change_url("incidents/actionitem", item), data).status_code == 302
    item.refresh_from_db()
    assert item.status == "done" and item.completed_at is not None
