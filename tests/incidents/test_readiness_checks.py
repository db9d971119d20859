"""The readiness checks that read incidents (incidents/readiness_checks.py): each met and not
met on real records, and every change to what they read marking the services to check again."""

import datetime as dt
from datetime import UTC, datetime, timedelta

import pytest

from incidents.actions.postmortems import postmortem_publish, postmortem_submit_for_review
from incidents.choices import ActionItemPriority, ActionItemStatus, PostMortemStatus, Severity
from incidents.readiness_checks import IncidentFacts
from services.checks.registry import get_check
from services.models.scorecards import ServiceChecksDirty
from services.selectors.checks import service_facts
from tests.factories import ServiceFactory
from tests.incidents.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    resolved_incident,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def verdict(service, check):
    return get_check(check).function(service_facts([service.pk], now=NOW)[service.pk])


# --- no SEV1/SEV2 post-mortem past due ------------------------------------------------------


def test_a_sev2_post_mortem_past_its_due_date_fails_the_check(service):
    incident = resolved_incident(service, started=NOW - timedelta(days=20), minutes=30)
    PostMortemFactory(incident=incident, due_at=NOW - timedelta(days=1))

    result = verdict(service, "postmortems_on_time")

    assert not result.passed
    assert incident.reference in result.reason
    assert result.fix_url == f"/incidents/{incident.reference}/postmortem/"


@pytest.mark.parametrize(
    ("severity", "due_in_days", "status"),
    [
        (Severity.SEV2, 1, PostMortemStatus.DRAFT),  # not due yet
        (Severity.SEV1, -1, PostMortemStatus.PUBLISHED),  # late, but published
        (Severity.SEV3, -1, PostMortemStatus.DRAFT),  # no post-mortem required
    ],
)
def test_post_mortems_not_due_published_or_of_minor_incidents_pass(
    service, severity, due_in_days, status
):
    incident = resolved_incident(
        service, started=NOW - timedelta(days=20), minutes=30, severity=severity
    )
    PostMortemFactory(
        incident=incident,
        status=status,
        due_at=NOW + timedelta(days=due_in_days),
        published_at=NOW if status == PostMortemStatus.PUBLISHED else None,
    )

    assert verdict(service, "postmortems_on_time").passed


# --- no overdue high-priority action item ---------------------------------------------------------


def test_an_overdue_p1_action_item_fails_the_check(service):
    postmortem = PostMortemFactory(incident=IncidentFactory(services=[service]))
    ActionItemFactory(
        postmortem=postmortem, priority=ActionItemPriority.P1, due_date=dt.date(2026, 11, 19)
    )

    result = verdict(service, "action_items_on_time")

    assert not result.passed
    assert "1 overdue P1 action item" in result.reason


@pytest.mark.parametrize(
    ("priority", "due", "status"),
    [
        (ActionItemPriority.P2, dt.date(2026, 11, 1), ActionItemStatus.OPEN),
        (ActionItemPriority.P1, dt.date(2026, 11, 20), ActionItemStatus.OPEN),  # due today
        (ActionItemPriority.P1, dt.date(2026, 11, 1), ActionItemStatus.DONE),
    ],
)
def test_lower_priority_not_yet_overdue_or_finished_items_pass(service, priority, due, status):
    postmortem = PostMortemFactory(incident=IncidentFactory(services=[service]))
    ActionItemFactory(postmortem=postmortem, priority=priority, due_date=due, status=status)

    assert verdict(service, "action_items_on_time").passed


# --- every recent SEV1/SEV2 with a published post-mortem ------------------------------------


def test_a_recent_sev1_without_a_post_mortem_fails_once_it_would_be_due(service):
    incident = resolved_incident(
        service, started=NOW - timedelta(days=30), minutes=60, severity=Severity.SEV1
    )

    result = verdict(service, "recent_postmortems_published")

    assert not result.passed
    assert incident.reference in result.reason


def test_a_sev2_resolved_yesterday_is_not_late_yet(service):
    resolved_incident(service, started=NOW - timedelta(days=1), minutes=60)

    assert verdict(service, "recent_postmortems_published").passed


def test_sev2_incidents_older_than_90_days_and_published_ones_pass(service, owner):
    resolved_incident(service, started=NOW - timedelta(days=91), minutes=60)
    published = resolved_incident(service, started=NOW - timedelta(days=40), minutes=60)
    PostMortemFactory(incident=published, status=PostMortemStatus.PUBLISHED, published_at=NOW)

    assert verdict(service, "recent_postmortems_published").passed


def test_the_incident_facts_of_many_services_take_three_queries(
    payments, django_assert_num_queries
):
    from incidents.readiness_checks import gather

    services = [ServiceFactory(owner_team=payments) for _ in range(4)]
    for service in services:
        incident = resolved_incident(service, started=NOW - timedelta(days=30), minutes=60)
        PostMortemFactory(incident=incident, due_at=NOW - timedelta(days=2))

    with django_assert_num_queries(3):
        found = gather([service.pk for service in services], NOW)

    assert all(len(found[service.pk].postmortems_past_due) == 1 for service in services)
    assert isinstance(found[services[0].pk], IncidentFacts)


# --- changes mark the services to check again -----------------------------------------------


def dirty() -> set[int]:
    return set(ServiceChecksDirty.objects.values_list("service_id", flat=True))


def test_declaring_an_incident_marks_its_services(service, payments):
    other = ServiceFactory(owner_team=payments)
    ServiceChecksDirty.objects.all().delete()

    IncidentFactory(services=[service, other])

    assert dirty() == {service.pk, other.pk}


def test_post_mortem_and_action_item_changes_mark_the_incidents_services(service, owner, sre_lead):
    incident = resolved_incident(service, started=NOW - timedelta(days=3), minutes=30)
    ServiceChecksDirty.objects.all().delete()
    postmortem = PostMortemFactory(incident=incident, author=owner)
    assert dirty() == {service.pk}

    ServiceChecksDirty.objects.all().delete()
    postmortem.reviewers.add(sre_lead)
    postmortem_submit_for_review(postmortem=postmortem, by=owner)
    postmortem_publish(postmortem=postmortem, by=sre_lead)
    assert dirty() == {service.pk}

    ServiceChecksDirty.objects.all().delete()
    ActionItemFactory(postmortem=postmortem)
    assert dirty() == {service.pk}


def test_deleting_an_incident_marks_the_services_it_named(service):
    incident = IncidentFactory(services=[service])
    ServiceChecksDirty.objects.all().delete()

    incident.delete()

    assert dirty() == {service.pk}


def test_removing_an_affected_service_marks_it(service, payments):
    other = ServiceFactory(owner_team=payments)
    incident = IncidentFactory(services=[service, other])
    ServiceChecksDirty.objects.all().delete()

    incident.services.remove(other)

    assert dirty() == {other.pk}
