"""Each digest provider: what it lists, and for whom."""

import datetime as dt

import pytest

from incidents.choices import PostMortemStatus
from portal.reminders.providers import (
    DigestContext,
    action_items_due,
    changes_awaiting_approval,
    postmortems_past_due,
)
from services.choices import MembershipRole
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.incidents.factories import IncidentFactory, PostMortemFactory
from tests.reminders.conftest import MORNING, TODAY
from tests.toil.change_factories import ChangeFactory, make_change_approver
from toil.choices.changes import ChangeCategory, ChangeStatus
from toil.models.changes import ChangeApproval

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


# --- change requests awaiting approval (toil) ---------------------------------------------------


def submitted_change(author, services, *, category=ChangeCategory.STANDARD, **fields):
    start = fields.pop("window_start", MORNING + dt.timedelta(days=2))
    return ChangeFactory(
        services=services,
        author=author,
        category=category,
        status=fields.pop("status", ChangeStatus.SUBMITTED),
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        submitted_at=MORNING - dt.timedelta(days=1),
        **fields,
    )


def test_a_change_awaiting_approval_goes_to_those_who_may_decide_and_have_not(
    service, owner, teammate, outsider, viewer, sre_lead
):
    approver, decided = make_change_approver(UserFactory()), make_change_approver(UserFactory())
    make_change_approver(owner)  # the author never approves their own change
    standard = submitted_change(owner, [service], title="Rotate the keys")
    ChangeApproval.objects.create(
        change=standard, approver=decided, decision="approve", role="change_approver"
    )
    peer_review = submitted_change(owner, [service], category=ChangeCategory.LOW_RISK)
    submitted_change(owner, [service], status=ChangeStatus.DRAFT)
    submitted_change(owner, [service], status=ChangeStatus.APPROVED, approved_at=MORNING)
    everyone = [owner, teammate, outsider, viewer, sre_lead, approver, decided]

    listed = {item.object_id: item for item in changes_awaiting_approval(context(everyone))}

    assert set(listed) == {str(standard.pk), str(peer_review.pk)}
    item = listed[str(standard.pk)]
    assert item.recipient_ids == tuple(sorted((approver.pk, sre_lead.pk)))
    assert item.title == f"#{standard.pk} Rotate the keys (Standard)"
    assert item.url == f"/changes/{standard.pk}/"
    assert item.due == dt.date(2026, 3, 12)  # its window opens then
    assert item.team_id == service.owner_team_id
    # Low-risk: another engineer of the owning team (the viewer is no engineer), or a lead.
    assert listed[str(peer_review.pk)].recipient_ids == tuple(sorted((teammate.pk, sre_lead.pk)))


def test_an_implemented_emergency_is_due_when_its_24_hours_to_be_approved_end(
    service, owner, teammate, sre_lead
):
    incident = IncidentFactory(services=[service], commander=teammate)
    emergency = submitted_change(
        owner,
        [service],
        category=ChangeCategory.EMERGENCY,
        incident=incident,
        status=ChangeStatus.COMPLETED,
        implemented_at=MORNING - dt.timedelta(hours=20),
    )
    submitted_change(
        owner,
        [service],
        category=ChangeCategory.EMERGENCY,
        incident=incident,
        status=ChangeStatus.COMPLETED,
        implemented_at=MORNING - dt.timedelta(hours=25),  # too late to approve: not listed
    )
    [item] = changes_awaiting_approval(context([owner, teammate, sre_lead]))
    assert item.object_id == str(emergency.pk)
    assert item.recipient_ids == tuple(sorted((teammate.pk, sre_lead.pk)))
    assert item.due == dt.date(2026, 3, 10)


@pytest.mark.parametrize("size", [1, 6])
def test_listing_changes_awaiting_approval_takes_the_same_queries_at_any_size(
    size, owner, django_assert_max_num_queries
):
    people = [make_change_approver(UserFactory()) for _ in range(size)]
    for _ in range(size):
        team = TeamFactory()
        MembershipFactory(team=team, user=owner, role=MembershipRole.ENGINEER)
        services = ServiceFactory.create_batch(2, owner_team=team)
        submitted_change(owner, services)
        submitted_change(UserFactory(), services, category=ChangeCategory.LOW_RISK)
    # The changes with their incidents, their services, their decisions, the people's groups,
    # the teams' engineers.
    with django_assert_max_num_queries(5):
        items = list(changes_awaiting_approval(context([owner, *people])))
    assert len(items) == 2 * size
    assert all(item.recipient_ids for item in items)
