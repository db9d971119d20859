"""Each digest provider: what it lists, for whom, and the adapters other apps plug in with."""

import datetime as dt

import pytest

from incidents.choices import PostMortemStatus
from incidents.models.incidents import Incident
from portal.reminders.providers import (
    DigestContext,
    action_items_due,
    expiring,
    for_each_person,
    of_teams,
    postmortems_past_due,
)
from tests.incidents.factories import IncidentFactory, PostMortemFactory
from tests.reminders.conftest import MORNING, TODAY

pytestmark = pytest.mark.django_db


def context(people=(), team_people=None) -> DigestContext:
    return DigestContext(
        today=TODAY,
        now=MORNING,
        people={person.pk: person for person in people},
        team_people=team_people or {},
    )


def test_action_items_due_within_two_days_or_overdue_go_to_their_owner(items, teammate, payments):
    listed = {item.title: item for item in action_items_due(context())}
    assert set(listed) == {
        f"{items[key].title} ({items[key].postmortem.incident.reference})"
        for key in ("in 2 days", "today", "3 late", "9 late", "16 late")
    }
    late = listed[f"Due in -9 days ({items['9 late'].postmortem.incident.reference})"]
    assert late.recipient_ids == (teammate.pk,)
    assert late.team_id == payments.pk
    assert late.days_late(TODAY) == 9
    assert late.url.endswith(f"/postmortem/#action-item-{items['9 late'].pk}")
    assert late.who == "Tom Teammate"


def test_post_mortems_past_due_go_to_the_commander_and_the_author(service, owner, teammate):
    incident = IncidentFactory(services=[service], commander=teammate, title="Slow search")
    late = PostMortemFactory(
        incident=incident, author=owner, due_at=MORNING - dt.timedelta(days=2, hours=1)
    )
    PostMortemFactory(
        incident=IncidentFactory(services=[service]), due_at=MORNING + dt.timedelta(hours=1)
    )
    PostMortemFactory(
        incident=IncidentFactory(services=[service]),
        status=PostMortemStatus.PUBLISHED,
        published_at=MORNING,
        due_at=MORNING - dt.timedelta(days=5),
    )
    [listed] = postmortems_past_due(context())
    assert listed.object_id == str(late.pk)
    assert listed.recipient_ids == tuple(sorted((owner.pk, teammate.pk)))
    assert listed.due == dt.date(2026, 3, 8)
    assert listed.title == f"Post-mortem of {incident.reference} Slow search"


def awaiting(user):
    """A selector of the shape for_each_person() takes: the incidents a person commands."""
    return Incident.objects.filter(commander=user)


def started_before(before):
    """A selector of the shape expiring() takes."""
    return Incident.objects.filter(started_at__date__lt=before)


def of_these_teams(team_ids):
    """A selector of the shape of_teams() takes."""
    return Incident.objects.filter(team_id__in=team_ids)


def test_the_per_person_adapter_gives_each_person_their_records(service, owner, teammate):
    incident = IncidentFactory(services=[service], commander=owner)
    IncidentFactory(services=[service], commander=teammate)
    gather = for_each_person(f"{__name__}.awaiting", due="started_at")
    listed = [item for item in gather(context([owner])) if owner.pk in item.recipient_ids]
    assert [(item.object_id, item.recipient_ids) for item in listed] == [
        (str(incident.pk), (owner.pk,))
    ]
    assert listed[0].url == incident.get_absolute_url()
    assert listed[0].title == str(incident)


def test_the_expiring_adapter_asks_for_records_before_the_notice_horizon_and_tells_their_team(
    service, owner, teammate, payments
):
    soon = IncidentFactory(services=[service], started_at=MORNING + dt.timedelta(days=13))
    IncidentFactory(services=[service], started_at=MORNING + dt.timedelta(days=15))
    gather = expiring(f"{__name__}.started_before", due="started_at")
    [listed] = gather(context(team_people={payments.pk: {owner.pk, teammate.pk}}))
    assert listed.object_id == str(soon.pk)
    assert listed.recipient_ids == tuple(sorted((owner.pk, teammate.pk)))
    assert listed.due == dt.date(2026, 3, 23)


def test_the_team_adapter_passes_every_team_and_tells_each_records_team(
    service, owner, search_team, outsider, payments
):
    incident = IncidentFactory(services=[service])
    gather = of_teams(f"{__name__}.of_these_teams")
    [listed] = gather(context(team_people={payments.pk: {owner.pk}, search_team.pk: {outsider.pk}}))
    assert listed.object_id == str(incident.pk)
    assert listed.recipient_ids == (owner.pk,)
    assert listed.due is None
