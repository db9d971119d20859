"""The incident API: declaring, reading, editing, the lifecycle actions, the timeline and
status updates; validation as 400s, the UI's permissions, and constant query counts."""

import datetime as dt

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from incidents.choices import IncidentRole, IncidentStatus, Severity, TimelineKind
from incidents.models.incidents import Incident, TimelineEntry
from tests.factories import ServiceFactory
from tests.incidents.factories import (
    IncidentFactory,
    StatusUpdateFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/incidents/"
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


def url(incident, suffix=""):
    return f"{INCIDENTS}{incident.reference}/{suffix}"


@pytest.fixture
def users(owner, teammate, outsider, viewer, sre_lead):
    return {
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "viewer": viewer,
        "sre_lead": sre_lead,
    }


@pytest.fixture
def incident(service, teammate):
    """A SEV2 on the payments service, commanded by the teammate."""
    return IncidentFactory(
        title="Checkout fails", severity=Severity.SEV2, services=[service], commander=teammate
    )


class TestReading:
    def test_everyone_signed_in_reads_the_list_and_an_incident(
        self, api_client_for, users, incident
    ):
        for user in users.values():
            client = api_client_for(user)
            listed = client.get(INCIDENTS)
            assert listed.status_code == 200
            assert [row["reference"] for row in listed.json()["results"]] == [incident.reference]
            shown = client.get(url(incident))
            assert shown.status_code == 200
            assert shown.json()["commander"] == "tom"

    def test_an_incident_shows_its_people_services_and_alerts(
        self, api_client_for, viewer, incident, service, teammate
    ):
        incident.subscribers.add(teammate)
        incident.alerts.create(
            fingerprint="abc123", labels={"alertname": "HighErrorRate"}, starts_at=NOW
        )
        body = api_client_for(viewer).get(url(incident)).json()
        assert body["services"] == [service.slug]
        assert body["team"] == "payments"
        assert body["subscribers"] == ["tom"]
        assert body["alerts"][0]["fingerprint"] == "abc123"
        assert body["postmortem_status"] is None
        assert body["is_open"] is True

    def test_anonymous_callers_are_refused_everywhere(self, incident):
        client = APIClient()
        for method, path in [
            ("get", INCIDENTS),
            ("post", INCIDENTS),
            ("get", url(incident)),
            ("patch", url(incident)),
            ("post", url(incident, "status/")),
            ("post", url(incident, "severity/")),
            ("post", url(incident, "roles/")),
            ("post", url(incident, "notes/")),
            ("get", url(incident, "timeline/")),
            ("get", url(incident, "status-updates/")),
            ("post", url(incident, "status-updates/")),
            ("get", url(incident, "status-updates/draft/")),
        ]:
            assert getattr(client, method)(path).status_code == 401, (method, path)

    def test_incidents_are_never_deleted_or_replaced_through_the_api(
        self, api_client_for, sre_lead, incident
    ):
        client = api_client_for(sre_lead)
        assert client.delete(url(incident)).status_code == 405
        assert client.put(url(incident), {"title": "x"}).status_code == 405
        assert Incident.objects.filter(pk=incident.pk).exists()

    def test_the_timeline_and_status_updates_read_in_their_order(
        self, api_client_for, viewer, incident
    ):
        first = TimelineEntryFactory(incident=incident, at=NOW - dt.timedelta(minutes=5))
        second = TimelineEntryFactory(incident=incident, at=NOW)
        TimelineEntryFactory()  # another incident's
        older = StatusUpdateFactory(incident=incident)
        newer = StatusUpdateFactory(incident=incident)
        client = api_client_for(viewer)
        timeline = client.get(url(incident, "timeline/")).json()["results"]
        assert [entry["id"] for entry in timeline] == [first.pk, second.pk]
        updates = client.get(url(incident, "status-updates/")).json()["results"]
        assert [update["id"] for update in updates] == [newer.pk, older.pk]

    def test_the_list_takes_the_ui_filters(self, api_client_for, viewer, incident):
        IncidentFactory(severity=Severity.SEV4)
        client = api_client_for(viewer)
        body = client.get(INCIDENTS, {"severity": "SEV2", "team": "payments"}).json()
        assert [row["reference"] for row in body["results"]] == [incident.reference]
        assert client.get(INCIDENTS, {"severity": "SEV9"}).status_code == 400


class TestDeclaring:
    def test_an_engineer_declares_with_a_few_fields(self, api_client_for, outsider, service):
        response = api_client_for(outsider).post(
            INCIDENTS,
            {"title": "Payments slow", "severity": "SEV3", "services": [service.slug]},
        )
        assert response.status_code == 201
        body = response.json()
        assert body["reference"] == "INC-2026-0001"
        assert (body["status"], body["declared_by"], body["team"]) == (
            "investigating",
            "oscar",
            "payments",
        )
        assert TimelineEntry.objects.filter(
            incident_id=body["id"], kind=TimelineKind.DECLARED
        ).exists()

    def test_engineers_and_sre_leads_may_declare_viewers_may_not(self, api_client_for, users):
        expected = {"owner": 201, "teammate": 201, "outsider": 201, "sre_lead": 201, "viewer": 403}
        for name, user in users.items():
            response = api_client_for(user).post(INCIDENTS, {"title": name, "severity": "SEV4"})
            assert response.status_code == expected[name], name
        assert Incident.objects.count() == 4

    def test_bad_declarations_get_field_messages_and_write_nothing(self, api_client_for, owner):
        client = api_client_for(owner)
        missing = client.post(INCIDENTS, {"severity": "SEV0", "services": ["nope"]})
        assert missing.status_code == 400
        assert set(missing.json()) == {"title", "severity", "services"}
        future = client.post(
            INCIDENTS,
            {"title": "Soon", "severity": "SEV3", "started_at": "2026-03-10T13:00:00Z"},
        )
        assert future.status_code == 400
        assert future.json() == {"started_at": ["An incident cannot start in the future."]}
        assert not Incident.objects.exists()

    def test_a_declaration_may_name_its_commander(self, api_client_for, owner, teammate):
        response = api_client_for(owner).post(
            INCIDENTS, {"title": "Down", "severity": "SEV1", "commander": "tom"}
        )
        assert response.json()["commander"] == "tom"


class TestSteering:
    def test_the_commander_moves_the_status_with_a_note(self, api_client_for, teammate, incident):
        response = api_client_for(teammate).post(
            url(incident, "status/"), {"status": "monitoring", "note": "Rolled back."}
        )
        assert response.status_code == 200
        assert response.json()["status"] == "monitoring"
        assert response.json()["mitigated_at"] == "2026-03-10T12:00:00Z"

    def test_a_transition_the_lifecycle_forbids_is_a_400_naming_the_field(
        self, api_client_for, sre_lead, incident
    ):
        response = api_client_for(sre_lead).post(url(incident, "status/"), {"status": "closed"})
        assert response.status_code == 400
        assert response.json() == {
            "status": [
                "An incident that is investigating cannot become closed; "
                "it can become identified, monitoring, resolved."
            ]
        }

    def test_closing_a_sev2_without_a_published_postmortem_is_a_400(
        self, api_client_for, sre_lead, incident
    ):
        client = api_client_for(sre_lead)
        client.post(url(incident, "status/"), {"status": "resolved"})
        response = client.post(url(incident, "status/"), {"status": "closed"})
        assert response.status_code == 400
        assert "post-mortem" in response.json()["status"][0]

    @pytest.mark.parametrize(
        ("suffix", "payload"),
        [
            ("status/", {"status": "identified"}),
            ("severity/", {"severity": "SEV1"}),
            ("roles/", {"role": "scribe", "user": "olivia"}),
        ],
    )
    def test_only_the_commander_and_sre_leads_steer(
        self, api_client_for, users, service, teammate, suffix, payload
    ):
        expected = {"owner": 403, "outsider": 403, "viewer": 403, "teammate": 200, "sre_lead": 200}
        for name, user in users.items():
            incident = IncidentFactory(services=[service], commander=teammate)
            response = api_client_for(user).post(url(incident, suffix), payload)
            assert response.status_code == expected[name], name

    def test_without_a_commander_the_teams_engineers_may_take_command(
        self, api_client_for, owner, outsider, service
    ):
        incident = IncidentFactory(services=[service])
        take = {"role": IncidentRole.COMMANDER, "user": "olivia"}
        assert api_client_for(outsider).post(url(incident, "roles/"), take).status_code == 403
        response = api_client_for(owner).post(url(incident, "roles/"), take)
        assert response.status_code == 200
        assert response.json()["commander"] == "olivia"

    def test_changing_the_severity_and_roles_answer_with_the_incident(
        self, api_client_for, teammate, owner, incident
    ):
        client = api_client_for(teammate)
        assert (
            client.post(url(incident, "severity/"), {"severity": "SEV1"}).json()["severity"]
            == "SEV1"
        )
        body = client.post(url(incident, "roles/"), {"role": "scribe", "user": "olivia"}).json()
        assert body["scribe"] == "olivia"
        assert "olivia" in body["subscribers"]
        cleared = client.post(url(incident, "roles/"), {"role": "scribe", "user": None}).json()
        assert cleared["scribe"] is None

    @pytest.mark.parametrize("person", ["viewer", "outsider"])
    def test_a_role_goes_only_to_someone_who_may_act_in_the_incident(
        self, api_client_for, request, teammate, incident, person
    ):
        """A viewer of the team, or an engineer of another team, cannot be given a role."""
        user = request.getfixturevalue(person)
        response = api_client_for(teammate).post(
            url(incident, "roles/"), {"role": "tech_lead", "user": user.username}
        )
        assert response.status_code == 400
        assert response.json() == {
            "user": [
                f"{user.get_full_name()} cannot hold an incident role: only engineers of the "
                "incident's teams and SRE leads can."
            ]
        }
        incident.refresh_from_db()
        assert incident.tech_lead is None

    def test_an_sre_lead_may_hold_a_role_in_any_incident(
        self, api_client_for, teammate, sre_lead, incident
    ):
        response = api_client_for(teammate).post(
            url(incident, "roles/"), {"role": "tech_lead", "user": sre_lead.username}
        )
        assert response.json()["tech_lead"] == sre_lead.username

    def test_bad_role_and_severity_payloads_are_400s(self, api_client_for, teammate, incident):
        client = api_client_for(teammate)
        role = client.post(url(incident, "roles/"), {"role": "hero", "user": "nobody"})
        assert role.status_code == 400
        assert set(role.json()) == {"role", "user"}
        same = client.post(url(incident, "severity/"), {"severity": "SEV2"})
        assert same.json() == {"severity": ["The incident is already SEV2."]}

    def test_the_commander_edits_the_details(self, api_client_for, teammate, incident):
        search = ServiceFactory(slug="search")
        response = api_client_for(teammate).patch(
            url(incident),
            {"title": "Card checkout fails", "impact": "No card payments", "services": ["search"]},
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["title"], body["impact"], body["services"]) == (
            "Card checkout fails",
            "No card payments",
            [search.slug],
        )
        assert TimelineEntry.objects.filter(
            incident=incident, kind=TimelineKind.DETAILS_CHANGE
        ).exists()

    def test_status_and_severity_cannot_be_patched_past_their_actions(
        self, api_client_for, teammate, incident
    ):
        api_client_for(teammate).patch(url(incident), {"status": "closed", "severity": "SEV4"})
        incident.refresh_from_db()
        assert (incident.status, incident.severity) == (IncidentStatus.INVESTIGATING, "SEV2")

    def test_an_edit_breaking_the_timestamp_order_is_a_400(
        self, api_client_for, teammate, incident
    ):
        response = api_client_for(teammate).patch(
            url(incident),
            {"started_at": "2026-03-10T11:59:00Z", "detected_at": "2026-03-10T11:00:00Z"},
        )
        assert response.status_code == 400
        assert list(response.json()) == ["detected_at"]

    def test_only_those_who_steer_may_edit(self, api_client_for, users, incident):
        expected = {"owner": 403, "outsider": 403, "viewer": 403, "teammate": 200, "sre_lead": 200}
        for name, user in users.items():
            response = api_client_for(user).patch(url(incident), {"title": f"By {name}"})
            assert response.status_code == expected[name], name


class TestTimelineWrites:
    def test_the_teams_engineers_role_holders_and_sre_leads_add_notes(
        self, api_client_for, users, incident, outsider
    ):
        expected = {"owner": 201, "teammate": 201, "sre_lead": 201, "outsider": 403, "viewer": 403}
        for name, user in users.items():
            response = api_client_for(user).post(url(incident, "notes/"), {"text": f"By {name}"})
            assert response.status_code == expected[name], name
        incident.scribe = outsider
        incident.save()
        assert (
            api_client_for(outsider).post(url(incident, "notes/"), {"text": "Scribe"}).status_code
            == 201
        )

    def test_a_note_comes_back_with_its_author(self, api_client_for, owner, incident):
        response = api_client_for(owner).post(
            url(incident, "notes/"), {"text": "Deploy v42 at 11:50", "at": "2026-03-10T11:50:00Z"}
        )
        assert response.json()["author"] == "olivia"
        assert response.json()["at"] == "2026-03-10T11:50:00Z"
        assert response.json()["kind"] == "note"

    def test_an_empty_note_is_a_400(self, api_client_for, owner, incident):
        response = api_client_for(owner).post(url(incident, "notes/"), {"text": "  "})
        assert response.status_code == 400
        assert "text" in response.json()

    def test_pinning_a_key_event(self, api_client_for, users, incident):
        entry = TimelineEntryFactory(incident=incident)
        pin = url(incident, f"timeline/{entry.pk}/pin/")
        assert api_client_for(users["outsider"]).post(pin).status_code == 403
        assert api_client_for(users["viewer"]).post(pin).status_code == 403
        response = api_client_for(users["owner"]).post(pin)
        assert (response.status_code, response.json()["pinned"]) == (200, True)
        assert api_client_for(users["owner"]).post(pin, {"pinned": False}).json()["pinned"] is False

    def test_an_entry_of_another_incident_cannot_be_pinned_through_this_one(
        self, api_client_for, sre_lead, incident
    ):
        other = TimelineEntryFactory()
        response = api_client_for(sre_lead).post(url(incident, f"timeline/{other.pk}/pin/"))
        assert response.status_code == 404


class TestStatusUpdates:
    def test_the_commander_drafts_fills_in_and_sends_an_update(
        self, api_client_for, teammate, incident
    ):
        client = api_client_for(teammate)

        draft = client.get(url(incident, "status-updates/draft/"), {"kind": "update"})

        assert draft.status_code == 200
        drafted = draft.json()
        assert incident.reference in drafted["subject"]
        assert "[[" in drafted["body"]
        assert drafted["recipients"] == ["payments@example.test"]
        body = drafted["body"].replace("[[", "").replace("]]", "")
        sent = client.post(
            url(incident, "status-updates/"),
            {"kind": "update", "subject": drafted["subject"], "body": body},
            format="json",
        )
        assert sent.status_code == 201, sent.json()
        assert sent.json()["created_by"] == "tom"
        assert incident.status_updates.get().subject == drafted["subject"]

    def test_a_draft_s_prompts_left_in_are_a_400_naming_the_field(
        self, api_client_for, teammate, incident
    ):
        client = api_client_for(teammate)
        drafted = client.get(url(incident, "status-updates/draft/"), {"kind": "initial"}).json()

        response = client.post(
            url(incident, "status-updates/"),
            {"kind": "initial", "subject": "Checkout is failing", "body": drafted["body"]},
            format="json",
        )

        assert response.status_code == 400
        assert "prompts" in response.json()["body"][0]
        assert not incident.status_updates.exists()

    def test_an_update_nobody_would_receive_is_a_400(
        self, api_client_for, sre_lead, payments, incident
    ):
        payments.email = ""
        payments.save()

        response = api_client_for(sre_lead).post(
            url(incident, "status-updates/"),
            {"kind": "update", "subject": "Still on it", "body": "Rolling back."},
            format="json",
        )

        assert response.status_code == 400
        assert "No one would receive it" in str(response.json())
        assert not incident.status_updates.exists()

    def test_a_bad_kind_is_a_400_naming_it(self, api_client_for, teammate, incident):
        client = api_client_for(teammate)
        assert "kind" in client.get(url(incident, "status-updates/draft/"), {"kind": "x"}).json()
        response = client.post(
            url(incident, "status-updates/"),
            {"kind": "gossip", "subject": "a", "body": "b"},
            format="json",
        )
        assert response.status_code == 400
        assert "kind" in response.json()

    def test_the_commander_communications_lead_and_sre_leads_speak_for_the_incident(
        self, api_client_for, users, incident, outsider
    ):
        incident.communications_lead = outsider
        incident.save()
        allowed = {"teammate", "outsider", "sre_lead"}
        for name, user in users.items():
            client = api_client_for(user)
            drafted = client.get(url(incident, "status-updates/draft/"), {"kind": "update"})
            sent = client.post(
                url(incident, "status-updates/"),
                {"kind": "update", "subject": f"From {name}", "body": "Rolling back."},
                format="json",
            )
            expected = (200, 201) if name in allowed else (403, 403)
            assert (drafted.status_code, sent.status_code) == expected, name
        assert incident.status_updates.count() == len(allowed)


class TestQueryCounts:
    def make_incidents(self, count, services, users):
        for number in range(count):
            incident = IncidentFactory(
                services=services,
                commander=users["teammate"],
                scribe=users["owner"],
                declared_by=users["owner"],
            )
            TimelineEntryFactory(incident=incident, author=users["owner"])
            StatusUpdateFactory(incident=incident, created_by=users["owner"])
            if number % 2:
                incident.subscribers.add(users["viewer"])

    @pytest.mark.parametrize("count", [2, 30])
    def test_the_list_costs_the_same_for_few_and_many_incidents(
        self, api_client_for, users, service, count, django_assert_max_num_queries
    ):
        self.make_incidents(count, [service, ServiceFactory()], users)
        client = api_client_for(users["viewer"])
        with django_assert_max_num_queries(6):
            response = client.get(INCIDENTS, {"page_size": 50})
        assert len(response.json()["results"]) == count
        with django_assert_max_num_queries(7):
            client.get(INCIDENTS, {"service": service.slug, "team": "payments", "q": "Incident"})

    @pytest.mark.parametrize("count", [2, 30])
    def test_an_incident_its_timeline_and_updates_cost_the_same_at_any_size(
        self, api_client_for, users, service, count, django_assert_max_num_queries
    ):
        self.make_incidents(1, [service], users)
        incident = Incident.objects.get()
        for _ in range(count):
            TimelineEntryFactory(incident=incident, author=users["teammate"])
            StatusUpdateFactory(incident=incident, created_by=users["teammate"])
            incident.alerts.create(fingerprint=f"f{_}", starts_at=NOW)
        client = api_client_for(users["viewer"])
        with django_assert_max_num_queries(8):
            assert client.get(url(incident)).status_code == 200
        with django_assert_max_num_queries(5):
            assert client.get(url(incident, "timeline/")).status_code == 200
        with django_assert_max_num_queries(5):
            assert client.get(url(incident, "status-updates/")).status_code == 200


def test_the_incident_endpoints_generate_a_schema_without_warnings(owner, api_client_for):
    GENERATOR_STATS.reset()
    response = api_client_for(owner).get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    assert {
        "/api/incidents/",
        "/api/incidents/{reference}/",
        "/api/incidents/{reference}/status/",
        "/api/incidents/{reference}/timeline/",
        "/api/incidents/{reference}/timeline/{entry_id}/pin/",
        "/api/incidents/{reference}/status-updates/",
    } <= set(paths)
    incident_warnings = [
        message
        for message in GENERATOR_STATS._warn_cache
        if "incidents/" in message or "Incident" in message
    ]
    assert incident_warnings == []


class TestBounds:
    """Implausible times and oversized texts are refused with the field named, the same as
    in the UI (incidents.limits), and viewers are refused before their input is read."""

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            (
                "started_at",
                "0001-01-01T00:00:00Z",
                "The started at time cannot be before 2021-03-11",
            ),
            (
                "started_at",
                "2019-06-01T00:00:00Z",
                "The started at time cannot be before 2021-03-11",
            ),
            (
                "detected_at",
                "9999-12-31T00:00:00Z",
                "The detected at time cannot be in the future.",
            ),
        ],
    )
    def test_implausible_times_are_refused_when_declaring(
        self, api_client_for, owner, field, value, message
    ):
        response = api_client_for(owner).post(
            INCIDENTS, {"title": "Down", "severity": "SEV3", field: value}
        )
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert response.json()[field][0].startswith(message)
        assert not Incident.objects.exists()

    def test_implausible_times_are_refused_when_editing(self, api_client_for, teammate, incident):
        response = api_client_for(teammate).patch(
            url(incident), {"started_at": "0001-01-01T00:00:00Z"}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["started_at"]

    def test_a_note_about_an_implausible_time_is_refused(self, api_client_for, owner, incident):
        response = api_client_for(owner).post(
            url(incident, "notes/"), {"text": "Found it.", "at": "0001-01-01T00:00:00Z"}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["at"]

    def test_a_one_megabyte_note_is_refused_like_the_uis_five_thousand_characters(
        self, api_client_for, owner, incident
    ):
        client = api_client_for(owner)
        refused = client.post(url(incident, "notes/"), {"text": "x" * 1_000_000})
        assert refused.status_code == 400
        assert refused.json() == {"text": ["Ensure this field has no more than 5000 characters."]}
        assert client.post(url(incident, "notes/"), {"text": "x" * 5000}).status_code == 201

    @pytest.mark.parametrize(
        ("suffix", "payload", "field"),
        [
            ("", {"summary": "x" * 5001}, "summary"),
            ("", {"impact": "x" * 5001}, "impact"),
            ("", {"title": "x" * 201}, "title"),
            ("status/", {"status": "identified", "note": "x" * 5001}, "note"),
            ("severity/", {"severity": "SEV1", "note": "x" * 5001}, "note"),
            (
                "status-updates/",
                {"kind": "update", "subject": "Update", "body": "x" * 20_001},
                "body",
            ),
            (
                "status-updates/",
                {"kind": "update", "subject": "x" * 251, "body": "Fine."},
                "subject",
            ),
        ],
    )
    def test_every_free_text_field_has_its_maximum(
        self, api_client_for, teammate, incident, suffix, payload, field
    ):
        client = api_client_for(teammate)
        send = client.patch if suffix == "" else client.post
        response = send(url(incident, suffix), payload)
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert "no more than" in response.json()[field][0]

    def test_a_declared_summary_has_the_uis_maximum(self, api_client_for, owner):
        response = api_client_for(owner).post(
            INCIDENTS, {"title": "Down", "severity": "SEV3", "summary": "x" * 5001}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["summary"]

    def test_reopening_through_the_api_needs_the_reason(self, api_client_for, teammate, incident):
        client = api_client_for(teammate)
        client.post(url(incident, "status/"), {"status": "resolved"})
        refused = client.post(url(incident, "status/"), {"status": "investigating"})
        assert refused.status_code == 400
        assert refused.json() == {"note": ["Say why you reopen it: the timeline keeps the reason."]}
        reopened = client.post(
            url(incident, "status/"), {"status": "investigating", "note": "Errors are back."}
        )
        assert reopened.json()["status"] == "investigating"

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("post", INCIDENTS),
            ("post", "/api/postmortems/"),
            ("post", "/api/action-items/"),
        ],
    )
    def test_a_viewers_write_is_refused_before_its_body_is_read(
        self, api_client_for, viewer, method, path
    ):
        response = getattr(api_client_for(viewer), method)(
            path, {"incident": "INC-0000-0000\u0000", "postmortem": "x", "title": "x" * 10_000}
        )
        assert response.status_code == 403

    @pytest.mark.parametrize(
        ("suffix", "method"),
        [("", "patch"), ("status/", "post"), ("roles/", "post"), ("notes/", "post")],
    )
    def test_a_viewers_write_to_an_incident_is_refused_before_validation(
        self, api_client_for, viewer, incident, suffix, method
    ):
        response = getattr(api_client_for(viewer), method)(
            url(incident, suffix), {"status": "nonsense", "role": "hero", "text": "x" * 10_000}
        )
        assert response.status_code == 403
