"""Incident writes: declaring, the lifecycle, severity, roles, details, notes and pins,
each with the timeline entry it writes itself."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from incidents.actions.incidents import (
    incident_add_note,
    incident_assign_role,
    incident_change_severity,
    incident_change_status,
    incident_declare,
    incident_subscribe,
    incident_update,
    timeline_entry_pin,
)
from incidents.choices import (
    IncidentRole,
    IncidentSource,
    IncidentStatus,
    PostMortemStatus,
    Severity,
    TimelineKind,
)
from incidents.models.incidents import Incident, IncidentReferenceCounter, TimelineEntry
from tests.factories import ServiceFactory
from tests.incidents.factories import IncidentFactory, PostMortemFactory, TimelineEntryFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def later(minutes):
    return NOW + dt.timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def entries(incident, kind=None):
    queryset = TimelineEntry.objects.filter(incident=incident)
    if kind:
        queryset = queryset.filter(kind=kind)
    return list(queryset.values_list("text", flat=True))


@pytest.fixture
def incident(service, owner):
    return incident_declare(
        title="Checkout fails",
        severity=Severity.SEV2,
        services=[service],
        declared_by=owner,
        started_at=later(-30),
        commander=owner,
    )


class TestDeclare:
    def test_a_declared_incident_is_numbered_investigating_and_acknowledged(self, incident):
        assert incident.reference == "INC-2026-0001"
        assert incident.status == IncidentStatus.INVESTIGATING
        assert (incident.started_at, incident.detected_at) == (later(-30), NOW)
        assert incident.acknowledged_at == NOW
        assert incident.source == IncidentSource.MANUAL

    def test_the_first_affected_service_names_the_owning_team(self, incident, service):
        other = ServiceFactory()
        second = incident_declare(title="Two services", severity="SEV3", services=[other, service])
        assert incident.team_id == service.owner_team_id
        assert second.team_id == other.owner_team_id
        assert set(second.services.all()) == {other, service}

    def test_without_services_the_declaring_engineers_team_owns_it(self, owner, payments):
        incident = incident_declare(title="Slow", severity="SEV4", declared_by=owner)
        assert incident.team_id == payments.pk

    def test_declaring_writes_the_first_timeline_entry_and_subscribes_the_people(
        self, incident, owner
    ):
        assert entries(incident) == [
            "Declared SEV2 by Olivia Owner. Incident commander: Olivia Owner."
        ]
        assert list(incident.subscribers.all()) == [owner]

    def test_an_incident_from_an_alert_waits_for_a_person_to_acknowledge_it(self, service):
        incident = incident_declare(
            title="HighErrorRate",
            severity="SEV2",
            services=[service],
            source=IncidentSource.ALERT,
            group_key='{}:{alertname="HighErrorRate"}',
        )
        assert incident.acknowledged_at is None
        assert incident.declared_by is None
        assert entries(incident) == ["Declared SEV2 by the portal."]

    def test_an_incident_cannot_start_in_the_future(self):
        with pytest.raises(ValidationError) as error:
            incident_declare(title="Soon", severity="SEV3", started_at=later(5))
        assert "started_at" in error.value.message_dict

    def test_bad_input_writes_nothing(self, owner):
        with pytest.raises(ValidationError) as error:
            incident_declare(title="", severity="SEV9", declared_by=owner)
        assert set(error.value.message_dict) == {"title", "severity"}
        assert not Incident.objects.exists()
        assert not IncidentReferenceCounter.objects.filter(last_number__gt=0).exists()


class TestChangeStatus:
    def test_each_status_stamps_its_time_and_writes_an_entry(self, incident, owner):
        incident_change_status(incident=incident, status="identified", by=owner, note="Bad deploy.")
        assert incident.mitigated_at is None
        with time_machine.travel(later(10), tick=False):
            incident_change_status(incident=incident, status="monitoring", by=owner)
        with time_machine.travel(later(20), tick=False):
            incident_change_status(incident=incident, status="resolved", by=owner)
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.RESOLVED
        assert (incident.mitigated_at, incident.resolved_at) == (later(10), later(20))
        assert entries(incident, TimelineKind.STATUS_CHANGE) == [
            "Status: Investigating → Identified (Olivia Owner).\n\nBad deploy.",
            "Status: Identified → Monitoring (Olivia Owner).",
            "Status: Monitoring → Resolved (Olivia Owner).",
        ]

    @pytest.fixture
    def alert_incident(self, service):
        """Opened by an alert 25 minutes ago: detected then, acknowledged by no one."""
        return incident_declare(
            title="Errors",
            severity=Severity.SEV3,
            services=[service],
            started_at=later(-25),
            detected_at=later(-25),
        )

    def test_a_change_learnt_of_later_is_stamped_with_when_it_happened(self, alert_incident):
        incident_change_status(incident=alert_incident, status="monitoring", at=later(-5))
        alert_incident.refresh_from_db()
        assert alert_incident.mitigated_at == later(-5)
        assert alert_incident.timeline_entries.get(kind=TimelineKind.STATUS_CHANGE).at == later(-5)

    def test_a_change_cannot_be_dated_in_the_future_or_out_of_order(self, alert_incident):
        with pytest.raises(ValidationError) as error:
            incident_change_status(incident=alert_incident, status="monitoring", at=later(1))
        assert "at" in error.value.message_dict
        with pytest.raises(ValidationError):
            incident_change_status(incident=alert_incident, status="monitoring", at=later(-40))
        alert_incident.refresh_from_db()
        assert alert_incident.mitigated_at is None

    def test_resolving_straight_away_also_marks_it_mitigated(self, incident, owner):
        incident_change_status(incident=incident, status="resolved", by=owner)
        assert incident.mitigated_at == incident.resolved_at == NOW

    def test_a_transition_the_lifecycle_does_not_allow_is_refused_with_the_options(
        self, incident, owner
    ):
        incident_change_status(incident=incident, status="monitoring", by=owner)
        with pytest.raises(ValidationError) as error:
            incident_change_status(incident=incident, status="identified", by=owner)
        assert error.value.message_dict == {
            "status": [
                "An incident that is monitoring cannot become identified; "
                "it can become investigating, resolved."
            ]
        }
        assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.MONITORING

    def test_the_same_status_and_unknown_statuses_are_refused(self, incident, owner):
        for status in ("investigating", "exploded"):
            with pytest.raises(ValidationError) as error:
                incident_change_status(incident=incident, status=status, by=owner)
            assert "status" in error.value.message_dict

    def test_reopening_clears_mitigation_and_resolution(self, incident, owner):
        incident_change_status(incident=incident, status="resolved", by=owner)
        incident_change_status(
            incident=incident, status="investigating", by=owner, note="Errors are back."
        )
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.INVESTIGATING
        assert (incident.mitigated_at, incident.resolved_at) == (None, None)
        assert incident.acknowledged_at == NOW

    @pytest.mark.parametrize("note", ["", "   "])
    def test_reopening_needs_a_reason(self, incident, owner, note):
        incident_change_status(incident=incident, status="resolved", by=owner)
        with pytest.raises(ValidationError) as error:
            incident_change_status(incident=incident, status="investigating", by=owner, note=note)
        assert error.value.message_dict == {
            "note": ["Say why you reopen it: the timeline keeps the reason."]
        }
        assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED

    def test_moving_back_to_investigating_needs_a_reason_too(self, incident, owner):
        incident_change_status(incident=incident, status="identified", by=owner)
        with pytest.raises(ValidationError, match="Say why you move it back"):
            incident_change_status(incident=incident, status="investigating", by=owner)

    def test_closing_is_a_plain_status_change_on_the_timeline(self, owner):
        incident = incident_declare(title="Minor", severity="SEV4", declared_by=owner)
        incident_change_status(incident=incident, status="resolved", by=owner)
        incident_change_status(incident=incident, status="closed", by=owner)
        assert entries(incident, TimelineKind.STATUS_CHANGE)[-1] == (
            "Status: Resolved → Closed (Olivia Owner)."
        )

    def test_the_reason_for_reopening_is_on_the_timeline(self, incident, owner):
        incident_change_status(incident=incident, status="resolved", by=owner)
        incident_change_status(
            incident=incident, status="investigating", by=owner, note="Errors are back."
        )
        assert entries(incident, TimelineKind.STATUS_CHANGE)[-1] == (
            "Reopened: Resolved → Investigating (Olivia Owner).\n\nReason: Errors are back."
        )

    def test_a_sev2_closes_only_once_its_postmortem_is_published(self, incident, owner):
        incident_change_status(incident=incident, status="resolved", by=owner)
        with pytest.raises(ValidationError) as error:
            incident_change_status(incident=incident, status="closed", by=owner)
        assert error.value.message_dict == {
            "status": ["A SEV2 incident closes only once its post-mortem is published."]
        }
        postmortem = PostMortemFactory(incident=incident, status=PostMortemStatus.IN_REVIEW)
        with pytest.raises(ValidationError):
            incident_change_status(incident=incident, status="closed", by=owner)
        postmortem.status, postmortem.published_at = PostMortemStatus.PUBLISHED, NOW
        postmortem.save()
        incident_change_status(incident=incident, status="closed", by=owner)
        assert (incident.status, incident.closed_at) == (IncidentStatus.CLOSED, NOW)

    def test_a_sev3_closes_without_a_postmortem_and_then_is_final(self, owner):
        incident = incident_declare(title="Minor", severity="SEV3", declared_by=owner)
        incident_change_status(incident=incident, status="resolved", by=owner)
        incident_change_status(incident=incident, status="closed", by=owner)
        with pytest.raises(ValidationError) as error:
            incident_change_status(incident=incident, status="investigating", by=owner)
        assert error.value.message_dict["status"] == [
            "An incident that is closed cannot become investigating; it is final."
        ]

    def test_the_first_change_by_a_person_acknowledges_an_alert_incident(self, owner):
        incident = IncidentFactory(
            source=IncidentSource.ALERT, alert_group_key="group", started_at=later(-5)
        )
        incident_change_status(incident=incident, status="monitoring", by=None)
        assert incident.acknowledged_at is None
        with time_machine.travel(later(3), tick=False):
            incident_change_status(
                incident=incident, status="investigating", by=owner, note="It is back."
            )
        assert incident.acknowledged_at == later(3)

    def test_reopening_is_refused_while_another_incident_holds_the_alert_group(self, owner):
        first = IncidentFactory(source=IncidentSource.ALERT, alert_group_key="group")
        incident_change_status(incident=first, status="resolved", by=owner)
        IncidentFactory(source=IncidentSource.ALERT, alert_group_key="group")
        with pytest.raises(ValidationError) as error:
            incident_change_status(
                incident=first, status="investigating", by=owner, note="It is back."
            )
        assert "An open incident already exists for this alert group." in str(error.value)


class TestSeverityRolesAndDetails:
    def test_changing_the_severity_writes_an_entry(self, incident, sre_lead):
        incident_change_severity(
            incident=incident, severity="SEV1", by=sre_lead, note="Card payments down too."
        )
        assert Incident.objects.get(pk=incident.pk).severity == Severity.SEV1
        assert entries(incident, TimelineKind.SEVERITY_CHANGE) == [
            "Severity: SEV2 → SEV1 (Sasha Lead).\n\nCard payments down too."
        ]

    def test_the_same_or_an_unknown_severity_is_refused(self, incident, owner):
        for severity in ("SEV2", "SEV0"):
            with pytest.raises(ValidationError) as error:
                incident_change_severity(incident=incident, severity=severity, by=owner)
            assert "severity" in error.value.message_dict

    def test_assigning_a_role_writes_an_entry_and_subscribes_the_person(
        self, incident, owner, teammate
    ):
        incident_assign_role(incident=incident, role=IncidentRole.SCRIBE, user=teammate, by=owner)
        incident_assign_role(incident=incident, role=IncidentRole.SCRIBE, user=teammate, by=owner)
        incident_assign_role(incident=incident, role="commander", user=None, by=owner)
        incident.refresh_from_db()
        assert (incident.scribe, incident.commander) == (teammate, None)
        assert teammate in incident.subscribers.all()
        assert entries(incident, TimelineKind.ROLE_CHANGE) == [
            "Tom Teammate is now scribe (Olivia Owner).",
            "No one is incident commander any more (Olivia Owner).",
        ]

    def test_taking_command_acknowledges_an_alert_incident(self, teammate):
        incident = IncidentFactory(source=IncidentSource.ALERT, alert_group_key="group")
        with time_machine.travel(later(2), tick=False):
            incident_assign_role(incident=incident, role="commander", user=teammate, by=teammate)
        assert incident.acknowledged_at == later(2)

    @pytest.mark.parametrize("person", ["viewer", "outsider"])
    def test_only_people_who_may_act_in_the_incident_get_a_role(
        self, request, incident, owner, person
    ):
        user = request.getfixturevalue(person)
        for role in IncidentRole.values:
            with pytest.raises(ValidationError) as error:
                incident_assign_role(incident=incident, role=role, user=user, by=owner)
            assert list(error.value.message_dict) == ["user"]
            assert "only engineers of the incident's teams and SRE leads" in str(error.value)
        incident.refresh_from_db()
        assert (incident.commander, incident.tech_lead) == (owner, None)
        assert not entries(incident, TimelineKind.ROLE_CHANGE)

    def test_the_engineers_of_an_affected_services_team_and_sre_leads_may_hold_roles(
        self, incident, owner, outsider, sre_lead, search_team
    ):
        incident_assign_role(incident=incident, role="tech_lead", user=sre_lead, by=owner)
        incident_update(
            incident=incident,
            by=owner,
            services=[*incident.services.all(), ServiceFactory(owner_team=search_team)],
        )
        incident_assign_role(incident=incident, role="scribe", user=outsider, by=owner)
        incident.refresh_from_db()
        assert (incident.tech_lead, incident.scribe) == (sre_lead, outsider)

    def test_declaring_names_only_a_commander_who_may_act(self, service, owner, viewer):
        with pytest.raises(ValidationError) as error:
            incident_declare(
                title="Checkout fails",
                severity=Severity.SEV3,
                services=[service],
                declared_by=owner,
                commander=viewer,
            )
        assert list(error.value.message_dict) == ["commander"]
        assert not Incident.objects.exists()

    def test_an_unknown_role_is_refused(self, incident, owner):
        with pytest.raises(ValidationError) as error:
            incident_assign_role(incident=incident, role="hero", user=owner, by=owner)
        assert "role" in error.value.message_dict

    def test_a_closed_incident_keeps_its_record(self, owner):
        incident = incident_declare(title="Minor", severity="SEV4", declared_by=owner)
        incident_change_status(incident=incident, status="resolved", by=owner)
        incident_change_status(incident=incident, status="closed", by=owner)
        with pytest.raises(ValidationError, match="closed"):
            incident_change_severity(incident=incident, severity="SEV3", by=owner)
        with pytest.raises(ValidationError, match="closed"):
            incident_assign_role(incident=incident, role="scribe", user=owner, by=owner)
        with pytest.raises(ValidationError, match="closed"):
            incident_update(incident=incident, by=owner, title="Renamed")

    def test_updating_details_names_what_changed(self, incident, owner):
        search = ServiceFactory(name="Search")
        incident_update(
            incident=incident,
            by=owner,
            title="Checkout fails for card payments",
            summary=incident.summary,
            users_affected=1200,
            services=[search],
        )
        incident.refresh_from_db()
        assert incident.title == "Checkout fails for card payments"
        assert incident.users_affected == 1200
        assert list(incident.services.all()) == [search]
        assert entries(incident, TimelineKind.DETAILS_CHANGE) == [
            "Changed title, users affected, affected services (Olivia Owner)."
        ]

    def test_an_update_that_changes_nothing_writes_nothing(self, incident, owner):
        incident_update(incident=incident, by=owner, title=incident.title)
        assert entries(incident, TimelineKind.DETAILS_CHANGE) == []

    def test_an_update_keeps_the_timestamps_in_order(self, incident, owner):
        with pytest.raises(ValidationError) as error:
            incident_update(incident=incident, by=owner, started_at=later(1))
        assert "detected_at" in error.value.message_dict

    def test_an_update_cannot_reach_the_fields_with_their_own_actions(self, incident, owner):
        with pytest.raises(TypeError):
            incident_update(incident=incident, by=owner, status="closed")


class TestNotesAndPins:
    def test_a_note_is_written_by_its_author_and_may_be_a_key_event(self, incident, teammate):
        note = incident_add_note(
            incident=incident, text=" Rolled back to v41. ", by=teammate, pinned=True
        )
        assert (note.kind, note.text, note.author, note.pinned) == (
            TimelineKind.NOTE,
            "Rolled back to v41.",
            teammate,
            True,
        )

    def test_a_note_may_be_back_dated_but_not_forward(self, incident, owner):
        note = incident_add_note(incident=incident, text="Deploy", by=owner, at=later(-20))
        assert note.at == later(-20)
        with pytest.raises(ValidationError) as error:
            incident_add_note(incident=incident, text="Later", by=owner, at=later(1))
        assert "at" in error.value.message_dict

    def test_an_empty_note_is_refused(self, incident, owner):
        with pytest.raises(ValidationError) as error:
            incident_add_note(incident=incident, text="  ", by=owner)
        assert "text" in error.value.message_dict

    def test_pinning_and_unpinning_an_entry(self):
        entry = TimelineEntryFactory()
        timeline_entry_pin(entry=entry)
        assert TimelineEntry.objects.get(pk=entry.pk).pinned
        timeline_entry_pin(entry=entry, pinned=False)
        assert not TimelineEntry.objects.get(pk=entry.pk).pinned

    def test_subscribing_and_unsubscribing(self, incident, viewer):
        incident_subscribe(incident=incident, user=viewer)
        assert viewer in incident.subscribers.all()
        incident_subscribe(incident=incident, user=viewer, subscribed=False)
        assert viewer not in incident.subscribers.all()
