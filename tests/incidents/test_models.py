"""Incident model rules: timestamp order, alert group keys, the append-only timeline,
post-mortem and action-item invariants, the lifecycle table and reference numbering."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from incidents.actions.incidents import incident_change_status, incident_declare
from incidents.choices import (
    ActionItemStatus,
    IncidentSource,
    IncidentStatus,
    PostMortemStatus,
    Severity,
)
from incidents.lifecycle import ALLOWED_TRANSITIONS, can_transition, timestamps_to_stamp
from incidents.models.incidents import Incident, SeverityLevel
from incidents.references import format_reference, next_incident_reference
from tests.incidents.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    TimelineEntryFactory,
)

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def at(minutes):
    return NOW + dt.timedelta(minutes=minutes)


@pytest.mark.django_db
class TestIncidentTimestamps:
    def test_timestamps_in_order_are_valid(self):
        incident = IncidentFactory.build(
            reference="INC-2026-0001",
            started_at=at(0),
            detected_at=at(5),
            acknowledged_at=at(7),
            mitigated_at=at(30),
            resolved_at=at(45),
            closed_at=at(600),
        )
        incident.full_clean()

    def test_equal_timestamps_are_valid(self):
        incident = IncidentFactory.build(
            reference="INC-2026-0001", started_at=at(0), detected_at=at(0), acknowledged_at=at(0)
        )
        incident.full_clean()

    def test_detection_before_the_start_is_refused_on_the_detection(self):
        incident = IncidentFactory.build(
            reference="INC-2026-0001", started_at=at(10), detected_at=at(5)
        )
        with pytest.raises(ValidationError) as error:
            incident.full_clean()
        assert error.value.message_dict == {
            "detected_at": ["The detected at time cannot be before the started at time."]
        }

    def test_missing_timestamps_are_skipped_and_the_next_present_one_compared(self):
        incident = IncidentFactory.build(
            reference="INC-2026-0001",
            started_at=at(0),
            detected_at=at(20),
            acknowledged_at=None,
            mitigated_at=None,
            resolved_at=at(10),
        )
        with pytest.raises(ValidationError) as error:
            incident.full_clean()
        assert list(error.value.message_dict) == ["resolved_at"]
        assert "detected at" in error.value.message_dict["resolved_at"][0]


@pytest.mark.django_db
class TestAlertGroupKey:
    def test_an_incident_from_an_alert_needs_its_group_key(self):
        incident = IncidentFactory.build(reference="INC-2026-0001", source=IncidentSource.ALERT)
        with pytest.raises(ValidationError) as error:
            incident.full_clean()
        assert "alert_group_key" in error.value.message_dict

    def test_two_open_incidents_cannot_share_a_group_key(self):
        IncidentFactory(source=IncidentSource.ALERT, alert_group_key='{}:{alertname="Down"}')
        second = IncidentFactory.build(
            reference="INC-2026-0099",
            source=IncidentSource.ALERT,
            alert_group_key='{}:{alertname="Down"}',
        )
        with pytest.raises(ValidationError) as error:
            second.full_clean()
        assert "An open incident already exists for this alert group." in str(error.value)

    def test_a_resolved_incident_leaves_its_group_key_free_for_a_new_one(self):
        IncidentFactory(
            source=IncidentSource.ALERT,
            alert_group_key="group",
            status=IncidentStatus.RESOLVED,
            mitigated_at=NOW,
            resolved_at=NOW,
        )
        IncidentFactory.build(
            reference="INC-2026-0099", source=IncidentSource.ALERT, alert_group_key="group"
        ).full_clean()

    def test_manual_incidents_without_a_key_do_not_collide(self):
        IncidentFactory()
        IncidentFactory.build(reference="INC-2026-0099").full_clean()


@pytest.mark.django_db
class TestIncidentProperties:
    @pytest.mark.parametrize(
        ("severity", "required"),
        [
            (Severity.SEV1, True),
            (Severity.SEV2, True),
            (Severity.SEV3, False),
            (Severity.SEV4, False),
        ],
    )
    def test_a_postmortem_is_required_for_sev1_and_sev2_only(self, severity, required):
        assert IncidentFactory.build(severity=severity).postmortem_required is required

    def test_only_a_published_postmortem_counts_as_published(self):
        incident = IncidentFactory(severity=Severity.SEV1)
        assert not incident.has_published_postmortem
        postmortem = PostMortemFactory(incident=incident, status=PostMortemStatus.IN_REVIEW)
        assert not Incident.objects.get(pk=incident.pk).has_published_postmortem
        postmortem.status, postmortem.published_at = PostMortemStatus.PUBLISHED, NOW
        postmortem.save()
        assert Incident.objects.get(pk=incident.pk).has_published_postmortem

    def test_open_incidents_are_the_ones_still_being_worked_on(self):
        investigating = IncidentFactory()
        IncidentFactory(status=IncidentStatus.RESOLVED, mitigated_at=NOW, resolved_at=NOW)
        monitoring = IncidentFactory(status=IncidentStatus.MONITORING, mitigated_at=NOW)
        assert set(Incident.objects.open()) == {investigating, monitoring}

    def test_severity_levels_are_seeded_with_response_times(self):
        levels = dict(SeverityLevel.objects.values_list("code", "response_minutes"))
        assert levels == {"SEV1": 5, "SEV2": 15, "SEV3": 60, "SEV4": 240}


@pytest.mark.django_db
class TestTimelineIsAppendOnly:
    def test_an_entry_cannot_be_edited(self):
        entry = TimelineEntryFactory(text="Database is down")
        entry.text = "Nothing happened"
        with pytest.raises(ValidationError):
            entry.save()
        entry.refresh_from_db()
        assert entry.text == "Database is down"

    def test_an_entry_cannot_be_deleted(self):
        entry = TimelineEntryFactory()
        with pytest.raises(ValidationError):
            entry.delete()
        assert type(entry).objects.filter(pk=entry.pk).exists()

    def test_pinning_is_the_one_change_allowed(self):
        entry = TimelineEntryFactory()
        entry.pinned = True
        entry.save(update_fields=["pinned"])
        entry.refresh_from_db()
        assert entry.pinned


@pytest.mark.django_db
class TestPostMortemAndActionItems:
    def test_a_published_postmortem_needs_its_publication_date(self):
        postmortem = PostMortemFactory.build(
            incident=IncidentFactory(), status=PostMortemStatus.PUBLISHED
        )
        with pytest.raises(ValidationError) as error:
            postmortem.full_clean()
        assert "published_at" in error.value.message_dict

    def test_a_postmortem_past_its_due_date_is_overdue_until_published(self):
        postmortem = PostMortemFactory(due_at=NOW)
        with time_machine.travel(at(1), tick=False):
            assert postmortem.is_overdue
            postmortem.status, postmortem.published_at = PostMortemStatus.PUBLISHED, at(1)
            assert not postmortem.is_overdue

    def test_wont_do_needs_a_reason(self):
        item = ActionItemFactory(status=ActionItemStatus.WONT_DO, wont_do_reason="  ")
        with pytest.raises(ValidationError) as error:
            item.full_clean()
        assert "wont_do_reason" in error.value.message_dict
        item.wont_do_reason = "The service is being retired."
        item.full_clean()

    @time_machine.travel(NOW, tick=False)
    def test_only_pending_items_past_their_due_date_are_overdue(self):
        yesterday, today = dt.date(2026, 3, 9), dt.date(2026, 3, 10)
        assert ActionItemFactory(due_date=yesterday).is_overdue
        assert ActionItemFactory(due_date=yesterday, status=ActionItemStatus.IN_PROGRESS).is_overdue
        assert not ActionItemFactory(due_date=today).is_overdue
        assert not ActionItemFactory(due_date=yesterday, status=ActionItemStatus.DONE).is_overdue

    def test_an_action_item_reaches_its_incident_and_team(self, service):
        incident = IncidentFactory(services=[service])
        item = ActionItemFactory(postmortem=PostMortemFactory(incident=incident))
        assert item.incident == incident
        assert item.team_id == service.owner_team_id


class TestLifecycle:
    def test_closed_is_final(self):
        assert ALLOWED_TRANSITIONS[IncidentStatus.CLOSED] == frozenset()

    @pytest.mark.parametrize("status", [IncidentStatus.MONITORING, IncidentStatus.RESOLVED])
    def test_monitoring_and_resolved_incidents_can_be_reopened(self, status):
        assert can_transition(status, IncidentStatus.INVESTIGATING)

    def test_only_a_resolved_incident_can_be_closed(self):
        closable = {status for status in IncidentStatus.values if can_transition(status, "closed")}
        assert closable == {IncidentStatus.RESOLVED}

    def test_resolving_also_stamps_the_mitigation(self):
        assert timestamps_to_stamp(IncidentStatus.RESOLVED) == ["mitigated_at", "resolved_at"]

    def test_identifying_stamps_nothing(self):
        assert timestamps_to_stamp(IncidentStatus.IDENTIFIED) == []


class TestReferences:
    def test_references_have_four_digits_at_least(self):
        assert format_reference(2026, 7) == "INC-2026-0007"
        assert format_reference(2026, 12345) == "INC-2026-12345"

    @pytest.mark.django_db
    def test_numbers_run_from_one_each_year(self):
        taken = [next_incident_reference(2025), next_incident_reference(2025)]
        taken.append(next_incident_reference(2026))
        assert taken == ["INC-2025-0001", "INC-2025-0002", "INC-2026-0001"]

    @pytest.mark.django_db
    def test_a_failed_declaration_gives_its_number_back(self):
        with time_machine.travel(NOW, tick=False):
            with pytest.raises(ValidationError):
                incident_declare(title="", severity=Severity.SEV2)
            with pytest.raises(ValidationError), transaction.atomic():
                incident = incident_declare(title="Checkout down", severity="SEV2")
                incident_change_status(incident=incident, status="closed")
            incident = incident_declare(title="Checkout down", severity=Severity.SEV2)
        assert incident.reference == "INC-2026-0001"

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_declarations_get_distinct_numbers_without_gaps(self):
        declarations = 8
        barrier = threading.Barrier(declarations)
        references, errors = [], []

        def declare(number):
            try:
                barrier.wait(timeout=10)
                incident = incident_declare(title=f"Outage {number}", severity=Severity.SEV3)
                references.append(incident.reference)
            except Exception as error:  # a thread cannot raise into the test: collect it
                errors.append(error)
            finally:
                connection.close()

        with time_machine.travel(NOW, tick=True):
            threads = [threading.Thread(target=declare, args=(n,)) for n in range(declarations)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        assert errors == []
        assert sorted(references) == [f"INC-2026-{n:04d}" for n in range(1, declarations + 1)]
        assert Incident.objects.count() == declarations
