"""Action items: their writes, statuses, when they are overdue, who may change them, and
that they stay tracked after the incident closes."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from incidents import postmortems
from incidents.actions.incidents import incident_change_status, incident_declare
from incidents.actions.postmortems import (
    action_item_create,
    action_item_set_status,
    action_item_update,
    postmortem_start,
)
from incidents.choices import ActionItemStatus, IncidentStatus, Severity
from incidents.filters.postmortems import ActionItemFilterSet
from incidents.models.postmortems import ActionItem
from incidents.selectors.postmortems import action_item_list
from tests.factories import UserFactory
from tests.incidents.factories import ActionItemFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def postmortem(service, teammate):
    incident = incident_declare(
        title="Slow checkout",
        severity=Severity.SEV3,
        services=[service],
        declared_by=teammate,
        commander=teammate,
        started_at=NOW - dt.timedelta(hours=2),
    )
    incident_change_status(incident=incident, status="resolved", by=teammate)
    return postmortem_start(incident=incident, by=teammate)


def create(postmortem, owner, **changes):
    fields = {
        "title": "Alert on connection pool use",
        "owner": owner,
        "due_date": TODAY + dt.timedelta(days=10),
        "kind": "detect",
        "priority": "P1",
    }
    fields.update(changes)
    return action_item_create(postmortem=postmortem, **fields)


def test_a_new_action_item_is_open_and_belongs_to_the_postmortem(postmortem, owner):
    item = create(postmortem, owner)
    assert (item.status, item.postmortem, item.incident, item.completed_at) == (
        ActionItemStatus.OPEN,
        postmortem,
        postmortem.incident,
        None,
    )


def test_an_action_item_needs_a_title_and_a_known_kind(postmortem, owner):
    with pytest.raises(ValidationError) as refused:
        create(postmortem, owner, title="", kind="pray")
    assert set(refused.value.message_dict) == {"title", "kind"}
    assert not ActionItem.objects.exists()


def test_wont_do_needs_a_reason(postmortem, owner):
    item = create(postmortem, owner)
    with pytest.raises(ValidationError) as refused:
        action_item_set_status(action_item=item, status=ActionItemStatus.WONT_DO)
    assert list(refused.value.message_dict) == ["wont_do_reason"]
    item.refresh_from_db()
    assert item.status == ActionItemStatus.OPEN


def test_wont_do_keeps_its_reason_on_record(postmortem, owner):
    item = create(postmortem, owner)
    action_item_set_status(
        action_item=item, status=ActionItemStatus.WONT_DO, reason="The service is retired."
    )
    item.refresh_from_db()
    assert (item.status, item.wont_do_reason) == (
        ActionItemStatus.WONT_DO,
        "The service is retired.",
    )


def test_done_records_when_and_reopening_clears_it(postmortem, owner, frozen_time):
    item = create(postmortem, owner)
    action_item_set_status(action_item=item, status=ActionItemStatus.DONE)
    assert item.completed_at == NOW
    frozen_time.move_to(NOW + dt.timedelta(days=1), tick=False)
    action_item_update(action_item=item, title="Alert on pool use above 80 %")
    assert item.completed_at == NOW  # an edit of a done item keeps its completion time
    action_item_set_status(action_item=item, status=ActionItemStatus.IN_PROGRESS)
    assert item.completed_at is None


def test_a_reason_is_dropped_when_the_item_is_taken_up_again(postmortem, owner):
    item = create(postmortem, owner, status=ActionItemStatus.WONT_DO, wont_do_reason="No time")
    action_item_set_status(action_item=item, status=ActionItemStatus.OPEN)
    assert item.wont_do_reason == ""


def test_updating_refuses_fields_it_does_not_own(postmortem, owner):
    item = create(postmortem, owner)
    with pytest.raises(TypeError, match="postmortem"):
        action_item_update(action_item=item, postmortem=None)


# --- overdue ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, due_in_days, overdue",
    [
        (ActionItemStatus.OPEN, -1, True),
        (ActionItemStatus.IN_PROGRESS, -30, True),
        (ActionItemStatus.OPEN, 0, False),  # due today is not late yet
        (ActionItemStatus.OPEN, 3, False),
        (ActionItemStatus.DONE, -1, False),
        (ActionItemStatus.WONT_DO, -1, False),
    ],
)
def test_only_pending_items_past_their_due_date_are_overdue(status, due_in_days, overdue):
    item = ActionItemFactory(
        status=status,
        due_date=TODAY + dt.timedelta(days=due_in_days),
        wont_do_reason="Obsolete" if status == ActionItemStatus.WONT_DO else "",
    )
    assert item.is_overdue is overdue
    overdue_ids = set(
        ActionItemFilterSet({"overdue": "true"}, queryset=action_item_list()).qs.values_list(
            "pk", flat=True
        )
    )
    assert (item.pk in overdue_ids) is overdue


def test_an_item_becomes_overdue_the_day_after_its_due_date(frozen_time):
    item = ActionItemFactory(due_date=TODAY)
    assert not item.is_overdue
    frozen_time.move_to(NOW + dt.timedelta(days=1), tick=False)
    assert item.is_overdue


def test_items_stay_tracked_and_overdue_after_the_incident_closes(
    postmortem, owner, teammate, frozen_time
):
    item = create(postmortem, owner, due_date=TODAY + dt.timedelta(days=1))
    incident = incident_change_status(incident=postmortem.incident, status="closed", by=teammate)
    assert incident.status == IncidentStatus.CLOSED
    action_item_set_status(action_item=item, status=ActionItemStatus.IN_PROGRESS)
    frozen_time.move_to(NOW + dt.timedelta(days=3), tick=False)
    mine = ActionItemFilterSet({"overdue": "true", "owner": "olivia"}, queryset=action_item_list())
    assert list(mine.qs) == [item]
    assert postmortems.can_edit_action_item(owner, item)


# --- who may change them ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "person, may",
    [
        ("item_owner", True),
        ("owner", True),  # engineer of the affected service's team
        ("teammate", True),  # commander and author
        ("sre_lead", True),
        ("outsider", False),
        ("viewer", False),
    ],
)
def test_the_owner_the_postmortem_editors_and_sre_leads_change_an_item(
    postmortem, request, person, may
):
    item_owner = UserFactory(username="ivan")
    item = create(postmortem, item_owner)
    people = {"item_owner": item_owner}
    user = people.get(person) or request.getfixturevalue(person)
    assert postmortems.can_edit_action_item(user, item) is may
