"""A change request's life through the actions: who approves each category, transitions in
and out of order, the emergency's 24 hours, rejections, the release checklist, conflicts when
scheduling, the emails to approvers and authors (sent once), and what awaits whom."""

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.choices import IncidentStatus, Severity
from portal.notifications import RetryableNotificationError
from tests.factories import MembershipFactory, ServiceFactory, UserFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.change_factories import (
    ChangeFactory,
    FreezeFactory,
    approved_change,
    budget_in_tier,
    make_change_approver,
)
from toil.actions.approvals import change_decide
from toil.actions.changes import (
    change_checklist_tick,
    change_create,
    change_move,
    change_update,
)
from toil.actions.emails import change_notification_send
from toil.choices.changes import ChangeEventKind, ChangeNotificationKind, ChangeStatus
from toil.models.changes import ChangeApproval, ChangeNotification, ChangeRequest
from toil.selectors.changes import change_detail, changes_awaiting_approval

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def approvers(db):
    return [
        make_change_approver(UserFactory(username=name, email=f"{name}@example.test"))
        for name in ("ada", "bob")
    ]


def write(author, services, **fields):
    values = {
        "title": "Upgrade the card processor client",
        "category": "standard",
        "window_start": NOW + dt.timedelta(days=1),
        "window_end": NOW + dt.timedelta(days=1, hours=2),
        "time_zone": "Europe/Paris",
        "rollback_plan": "Pin the previous client version.",
    }
    return change_create(author=author, services=services, **(values | fields))


def submitted(author, services, **fields):
    change = write(author, services, **fields)
    return change_move(change=change, move="submit", by=author)


def fresh(change) -> ChangeRequest:
    return change_detail().get(pk=change.pk)


# --- standard changes -----------------------------------------------------------------------------


def test_a_standard_change_needs_two_change_approvers(owner, service, approvers):
    change = submitted(owner, [service])
    change_decide(change=change, by=approvers[0], decision="approve")
    assert fresh(change).status == ChangeStatus.SUBMITTED
    change_decide(change=change, by=approvers[1], decision="approve", comment="Fine by me.")
    change = fresh(change)
    assert change.status == ChangeStatus.APPROVED
    assert change.approved_at == NOW
    assert sorted(a.role for a in change.approvals.all()) == ["change_approver"] * 2


def test_sre_leads_count_among_the_change_approvers(owner, service, approvers, sre_lead):
    change = submitted(owner, [service])
    change_decide(change=change, by=approvers[0], decision="approve")
    change_decide(change=change, by=sre_lead, decision="approve")
    assert fresh(change).status == ChangeStatus.APPROVED


def test_the_number_of_approvals_a_standard_change_needs_is_a_setting(
    owner, service, approvers, settings
):
    settings.CHANGE_STANDARD_APPROVALS = 1
    change = submitted(owner, [service])
    change_decide(change=change, by=approvers[0], decision="approve")
    assert fresh(change).status == ChangeStatus.APPROVED


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "viewer"])
def test_nobody_outside_the_approvers_approves_a_standard_change(
    who, request, owner, teammate, service
):
    change = submitted(teammate if who == "owner" else owner, [service])
    person = request.getfixturevalue(who)
    with pytest.raises(ValidationError) as refused:
        change_decide(change=change, by=person, decision="approve")
    assert "change approvers" in str(refused.value)
    assert not ChangeApproval.objects.exists()


def test_nobody_approves_their_own_change(owner, service, sre_lead):
    change = submitted(sre_lead, [service])
    with pytest.raises(ValidationError, match="Nobody approves their own change"):
        change_decide(change=change, by=sre_lead, decision="approve")


def test_an_approver_decides_once(owner, service, approvers):
    change = submitted(owner, [service])
    change_decide(change=change, by=approvers[0], decision="approve")
    with pytest.raises(ValidationError, match="already decided"):
        change_decide(change=change, by=approvers[0], decision="approve")
    assert ChangeApproval.objects.count() == 1


def test_a_rejection_needs_a_comment_and_rejects_the_change(owner, service, approvers):
    change = submitted(owner, [service])
    with pytest.raises(ValidationError) as refused:
        change_decide(change=change, by=approvers[0], decision="reject", comment="  ")
    assert "comment" in refused.value.message_dict
    assert fresh(change).status == ChangeStatus.SUBMITTED
    change_decide(change=change, by=approvers[0], decision="reject", comment="No rollback test.")
    change = fresh(change)
    assert change.status == ChangeStatus.REJECTED
    with pytest.raises(ValidationError, match="not awaiting approval"):
        change_decide(change=change, by=approvers[1], decision="approve")


def test_a_draft_collects_no_approvals(owner, service, approvers):
    change = write(owner, [service])
    with pytest.raises(ValidationError, match="not awaiting approval"):
        change_decide(change=change, by=approvers[0], decision="approve")


# --- low-risk changes ---------------------------------------------------------------------------


def test_a_low_risk_change_needs_one_peer_of_the_owning_team(owner, teammate, service):
    change = submitted(owner, [service], category="low-risk", rollback_plan="")
    approval = change_decide(change=change, by=teammate, decision="approve")
    assert approval.role == "peer"
    assert fresh(change).status == ChangeStatus.APPROVED


@pytest.mark.parametrize("who", ["outsider", "viewer"])
def test_engineers_of_other_teams_and_viewers_are_no_peers(who, request, owner, service):
    change = submitted(owner, [service], category="low-risk", rollback_plan="")
    with pytest.raises(ValidationError, match="another engineer of the owning team"):
        change_decide(change=change, by=request.getfixturevalue(who), decision="approve")


# --- emergency changes ----------------------------------------------------------------------------


@pytest.fixture
def commander(payments):
    person = UserFactory(username="cora", email="cora@example.test")
    MembershipFactory(user=person, team=payments)
    return person


@pytest.fixture
def sev1(service, commander):
    return IncidentFactory(
        services=[service], severity=Severity.SEV1, commander=commander, started_at=NOW
    )


def emergency(owner, service, incident, **fields):
    return submitted(
        owner,
        [service],
        category="emergency",
        incident=incident,
        window_start=NOW,
        window_end=NOW + dt.timedelta(hours=1),
        **fields,
    )


def test_an_emergency_change_needs_its_incident(owner, service):
    with pytest.raises(ValidationError) as refused:
        write(owner, [service], category="emergency")
    assert "incident" in refused.value.message_dict


def test_the_commander_of_the_linked_incident_approves_an_emergency(
    owner, teammate, service, sev1, commander, approvers
):
    change = emergency(owner, service, sev1)
    for person in (teammate, approvers[0]):
        with pytest.raises(ValidationError, match="commander of the linked incident"):
            change_decide(change=change, by=person, decision="approve")
    approval = change_decide(change=change, by=commander, decision="approve")
    assert approval.role == "incident_commander"
    assert fresh(change).status == ChangeStatus.APPROVED


def test_an_emergency_is_implemented_first_and_approved_within_24_hours(
    owner, service, sev1, commander, time_machine
):
    change = emergency(owner, service, sev1)
    change = change_move(change=change, move="start", by=owner)
    assert change.status == ChangeStatus.IN_PROGRESS and change.approved_at is None
    change = change_move(change=change, move="complete", by=owner)
    time_machine.move_to(NOW + dt.timedelta(hours=23, minutes=59), tick=False)
    change_decide(change=change, by=commander, decision="approve")
    change = fresh(change)
    assert change.status == ChangeStatus.COMPLETED
    assert change.approved_at is not None


def test_an_emergency_is_not_approved_more_than_24_hours_after_it_was_implemented(
    owner, service, sev1, sre_lead, time_machine
):
    change = change_move(change=emergency(owner, service, sev1), move="start", by=owner)
    time_machine.move_to(NOW + dt.timedelta(hours=24, seconds=1), tick=False)
    with pytest.raises(ValidationError, match="at most 24 hours after it was implemented"):
        change_decide(change=change, by=sre_lead, decision="approve")


def test_an_emergency_needs_its_post_implementation_review(owner, service, sev1):
    change = change_move(change=emergency(owner, service, sev1), move="start", by=owner)
    change = change_move(change=change, move="complete", by=owner)
    with pytest.raises(ValidationError) as refused:
        change_move(change=change, move="review", by=owner, review=" ")
    assert "review" in refused.value.message_dict
    change = change_move(change=change, move="review", by=owner, review="Patched the leak.")
    assert (change.status, change.review, change.reviewed_at) == (
        ChangeStatus.REVIEWED,
        "Patched the leak.",
        NOW,
    )


# --- transitions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "move", "message"),
    [
        ("draft", "start", "A draft change cannot be in progress; it may be: submit for approval."),
        ("submitted", "start", "A submitted change cannot be in progress"),
        ("submitted", "schedule", "A submitted change cannot be scheduled"),
        ("approved", "complete", "it may be: schedule."),
        ("reviewed", "submit", "it has reached its end."),
    ],
)
def test_a_transition_out_of_order_is_refused_naming_the_status(
    owner, service, status, move, message
):
    change = ChangeFactory(services=[service], author=owner, status=status)
    with pytest.raises(ValidationError) as refused:
        change_move(change=change, move=move, by=owner)
    assert message in refused.value.message_dict["status"][0]
    assert ChangeRequest.objects.get(pk=change.pk).status == status


def test_every_transition_is_on_the_timeline_and_in_the_history(owner, service, approvers):
    change = submitted(owner, [service])
    for approver in approvers:
        change_decide(change=change, by=approver, decision="approve")
    change = change_move(change=change, move="schedule", by=owner)
    change = change_move(change=change, move="start", by=owner)
    change = change_move(change=change, move="fail", by=owner)
    transitions = change.events.filter(kind=ChangeEventKind.TRANSITION)
    assert [(e.from_status, e.to_status) for e in transitions] == [
        ("draft", "submitted"),
        ("submitted", "approved"),
        ("approved", "scheduled"),
        ("scheduled", "in_progress"),
        ("in_progress", "failed"),
    ]
    assert list(change.history.order_by("history_date").values_list("status", flat=True)) == [
        "draft",
        "submitted",
        "approved",
        "scheduled",
        "in_progress",
        "failed",
    ]
    assert change.implementer == owner


def test_only_a_draft_is_edited(owner, service, approvers):
    change = write(owner, [service])
    change = change_update(change=change, by=owner, title="Upgrade the client to 4.2")
    assert change.events.filter(kind=ChangeEventKind.EDITED).count() == 1
    change = change_move(change=change, move="submit", by=owner)
    with pytest.raises(ValidationError, match="Only a draft is edited"):
        change_update(change=change, by=owner, title="Sneaky")


def test_a_window_that_ends_before_it_starts_is_refused_and_nothing_is_written(owner, service):
    with pytest.raises(ValidationError) as refused:
        write(owner, [service], window_end=NOW)
    assert "window_end" in refused.value.message_dict
    assert not ChangeRequest.objects.exists()


def test_the_release_checklist_is_ticked_as_the_change_progresses(owner, service):
    change = write(owner, [service])
    change = change_checklist_tick(change=change, by=owner, item="code_review", done=True)
    assert change.checklist["code_review"]["by"] == "olivia"
    change = change_checklist_tick(change=change, by=owner, item="code_review", done=False)
    assert change.checklist == {}
    with pytest.raises(ValidationError):
        change_checklist_tick(change=change, by=owner, item="bribe_the_cab", done=True)


# --- scheduling and its conflicts -----------------------------------------------------------------


def approved(owner, service, **fields):
    return approved_change(
        [service], author=owner, approvers=[], window_start=NOW + dt.timedelta(days=1), **fields
    )


def test_scheduling_into_a_freeze_is_refused_until_the_conflict_is_accepted(
    owner, service, sre_lead
):
    freeze = FreezeFactory(
        name="Launch week", start=NOW + dt.timedelta(hours=20), end=NOW + dt.timedelta(days=3)
    )
    change = approved(owner, service)
    with pytest.raises(ValidationError) as refused:
        change_move(change=change, move="schedule", by=owner)
    assert "Launch week" in refused.value.message_dict["conflicts"][0]
    assert ChangeRequest.objects.get(pk=change.pk).status == ChangeStatus.APPROVED
    with pytest.raises(ValidationError, match="Only SRE leads and the people it names"):
        change_move(change=change, move="schedule", by=owner, acknowledge_conflicts=True)
    change = change_move(change=change, move="schedule", by=sre_lead, acknowledge_conflicts=True)
    assert change.status == ChangeStatus.SCHEDULED
    assert [c["code"] for c in change.conflicts] == ["freeze"]
    assert list(change.overridden_freezes.all()) == [freeze]


def test_the_people_a_freeze_names_may_schedule_into_it(owner, service):
    freeze = FreezeFactory(start=NOW + dt.timedelta(hours=20), end=NOW + dt.timedelta(days=3))
    freeze.overriders.add(owner)
    change = change_move(
        change=approved(owner, service), move="schedule", by=owner, acknowledge_conflicts=True
    )
    assert change.status == ChangeStatus.SCHEDULED


def test_scheduling_finds_other_changes_budget_freezes_and_incidents_on_dependencies(
    owner, payments, service
):
    database = ServiceFactory(owner_team=payments, name="Ledger DB")
    service.depends_on.add(database)
    other = approved(owner, service, title="Rotate the keys")
    budget_in_tier(service, "frozen")
    IncidentFactory(
        services=[database],
        severity=Severity.SEV2,
        status=IncidentStatus.IDENTIFIED,
        title="Ledger replication lag",
    )
    IncidentFactory(services=[database], severity=Severity.SEV3, title="Slow backups")
    change = approved(owner, service)
    with pytest.raises(ValidationError) as refused:
        change_move(change=change, move="schedule", by=owner)
    messages = " ".join(refused.value.message_dict["conflicts"])
    assert f"Change #{other.pk} “Rotate the keys”" in messages
    assert "frozen budget tier" in messages
    assert "Ledger replication lag" in messages
    assert "Slow backups" not in messages
    change = change_move(change=change, move="schedule", by=owner, acknowledge_conflicts=True)
    assert sorted(c["code"] for c in change.conflicts) == ["budget_freeze", "change", "incident"]
    assert change.events.filter(kind=ChangeEventKind.CONFLICTS).count() == 1


# --- emails -----------------------------------------------------------------------------------


def test_approvers_are_emailed_once_when_a_change_awaits_them(
    owner, service, approvers, smtp_sink, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portal.example.test"
    with django_capture_on_commit_callbacks() as rings:
        change = submitted(owner, [service])
    assert len(rings) == 1
    notification = ChangeNotification.objects.get(change=change)
    assert notification.kind == ChangeNotificationKind.AWAITING_APPROVAL
    assert change_notification_send(notification_id=notification.pk)
    assert not change_notification_send(notification_id=notification.pk)
    [email] = smtp_sink.delivered
    assert email.recipients == ["ada@example.test", "bob@example.test"]
    assert email.message["Subject"] == (
        f"[Change #{change.pk}] Awaiting your approval: Upgrade the card processor client"
    )
    assert f"https://portal.example.test/changes/{change.pk}/" in email.body("text/plain")
    assert "Approvals: 0 of 2" in email.body("text/plain")


def test_the_author_is_emailed_when_the_change_is_decided(owner, service, approvers, smtp_sink):
    change = submitted(owner, [service])
    change_decide(change=change, by=approvers[0], decision="reject", comment="Not on a Friday.")
    notification = ChangeNotification.objects.get(kind=ChangeNotificationKind.REJECTED)
    change_notification_send(notification_id=notification.pk)
    [email] = smtp_sink.delivered
    assert email.recipients == [owner.email]
    assert "Rejected" in email.message["Subject"]
    assert "Not on a Friday." in email.body("text/plain")


def test_an_emergency_rejected_then_approved_tells_its_author_both(
    owner, service, sev1, commander, sre_lead, smtp_sink
):
    """An implemented emergency stays where it is when one approver rejects it, and can still
    collect its approval: the author hears of the rejection, then of the approval."""
    change = change_move(change=emergency(owner, service, sev1), move="start", by=owner)
    change_decide(change=change, by=sre_lead, decision="reject", comment="Too wide a blast.")
    change_decide(change=change, by=commander, decision="approve")
    assert fresh(change).approved_at is not None

    sent = [
        change_notification_send(notification_id=notification.pk)
        for notification in ChangeNotification.objects.filter(change=change).exclude(
            kind=ChangeNotificationKind.AWAITING_APPROVAL
        )
    ]
    assert sent == [True, True]
    rejected, approved = smtp_sink.delivered
    assert rejected.message["Subject"].startswith(f"[Change #{change.pk}] Rejected")
    assert "Too wide a blast." in rejected.body("text/plain")
    assert approved.message["Subject"].startswith(f"[Change #{change.pk}] Approved")
    assert "Too wide a blast." not in approved.body("text/plain")
    assert rejected.recipients == approved.recipients == [owner.email]


def test_a_deferred_email_gives_its_claim_back_for_the_retry(owner, service, approvers, smtp_sink):
    smtp_sink.refusals["ada@example.test"] = "451 Try again later"
    smtp_sink.refusals["bob@example.test"] = "451 Try again later"
    change = submitted(owner, [service])
    notification = ChangeNotification.objects.get(change=change)
    with pytest.raises(RetryableNotificationError):
        change_notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.sent_at is None and notification.error == ""
    smtp_sink.refusals.clear()
    assert change_notification_send(notification_id=notification.pk)


def test_an_email_refused_for_good_is_recorded_on_the_change(owner, service, approvers, smtp_sink):
    smtp_sink.refusals["ada@example.test"] = "550 No such user"
    smtp_sink.refusals["bob@example.test"] = "550 No such user"
    change = submitted(owner, [service])
    notification = ChangeNotification.objects.get(change=change)
    assert not change_notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert "refused" in notification.error
    assert change.events.filter(kind=ChangeEventKind.NOTIFICATION).exists()


def test_low_risk_changes_go_to_the_owning_team_and_emergencies_to_commander_and_leads(
    owner, teammate, service, sev1, commander, sre_lead, smtp_sink
):
    sre_lead.email = "sasha@example.test"
    sre_lead.save()
    low = submitted(owner, [service], category="low-risk", rollback_plan="")
    change_notification_send(notification_id=ChangeNotification.objects.get(change=low).pk)
    urgent = emergency(owner, service, sev1)
    change_notification_send(notification_id=ChangeNotification.objects.get(change=urgent).pk)
    assert [email.recipients for email in smtp_sink.delivered] == [
        [commander.email, teammate.email],
        [commander.email, "sasha@example.test"],
    ]


# --- what awaits whom -----------------------------------------------------------------------


def test_each_person_sees_the_changes_awaiting_their_approval(
    owner, teammate, outsider, service, approvers, sre_lead, sev1, commander
):
    standard = submitted(owner, [service])
    low = submitted(owner, [service], category="low-risk", rollback_plan="")
    urgent = emergency(owner, service, sev1)
    write(owner, [service], title="Still a draft")

    def awaiting(person):
        return sorted(change.pk for change in changes_awaiting_approval(person))

    assert awaiting(approvers[0]) == [standard.pk]
    assert awaiting(teammate) == [low.pk]
    assert awaiting(commander) == sorted([low.pk, urgent.pk])  # cora is in payments too
    assert awaiting(sre_lead) == sorted([standard.pk, low.pk, urgent.pk])
    assert awaiting(outsider) == []
    assert awaiting(owner) == []  # their own
    change_decide(change=standard, by=approvers[0], decision="approve")
    assert awaiting(approvers[0]) == []  # decided
    assert awaiting(approvers[1]) == [standard.pk]


def test_a_low_risk_change_awaits_the_engineers_of_every_team_whose_service_it_touches(
    owner, outsider, service, search_team
):
    """The rules let an engineer of a touched service's team approve (toil.approvals); the
    list of what awaits them says the same."""
    search = ServiceFactory(owner_team=search_team, slug="search-api")
    low = submitted(owner, [service, search], category="low-risk", rollback_plan="")
    assert [change.pk for change in changes_awaiting_approval(outsider)] == [low.pk]
    change_decide(change=low, by=outsider, decision="approve")
    assert list(changes_awaiting_approval(outsider)) == []


def test_an_emergency_awaits_its_approvers_only_for_24_hours_after_implementation(
    owner, service, sev1, commander, time_machine
):
    change = change_move(change=emergency(owner, service, sev1), move="start", by=owner)
    assert [c.pk for c in changes_awaiting_approval(commander)] == [change.pk]
    time_machine.move_to(timezone.now() + dt.timedelta(hours=25), tick=False)
    assert list(changes_awaiting_approval(commander)) == []


def _split_migration():
    return importlib.import_module("toil.migrations.0003_decisions_told_each_way")


def _rejected_and_approved(owner, service, approvers, *, rejected_title):
    """A change rejected by the first approver and one ("Approved one") approved by two; the
    rejected one."""
    rejected = submitted(owner, [service], title=rejected_title)
    change_decide(change=rejected, by=approvers[0], decision="reject", comment="No.")
    approved = submitted(owner, [service], title="Approved one")
    for approver in approvers[:2]:
        change_decide(change=approved, by=approver, decision="approve")
    return rejected


def test_decided_emails_recorded_before_the_split_are_told_the_way_they_went(
    owner, service, approvers
):
    """The migration that split "decided" in two gives each recorded email its side: a
    rejection recorded by then, else the approval."""
    migration = _split_migration()
    _rejected_and_approved(owner, service, approvers, rejected_title="Rejected one")
    decisions = ChangeNotification.objects.exclude(kind=ChangeNotificationKind.AWAITING_APPROVAL)
    assert decisions.count() == 2
    decisions.update(kind="decided")

    migration.tell_which_way(django_apps, None)

    assert dict(decisions.values_list("change__title", "kind")) == {
        "Rejected one": "rejected",
        "Approved one": "approved",
    }


def test_undoing_the_split_keeps_one_decided_email_per_change_the_first(owner, service, approvers):
    migration = _split_migration()
    change = _rejected_and_approved(owner, service, approvers, rejected_title="Both ways")
    rejection = ChangeNotification.objects.get(change=change, kind="rejected")
    ChangeNotification.objects.create(
        change=change, kind="approved", created_at=rejection.created_at + dt.timedelta(hours=1)
    )

    migration.tell_as_one(django_apps, None)

    decisions = ChangeNotification.objects.exclude(kind=ChangeNotificationKind.AWAITING_APPROVAL)
    assert sorted(decisions.values_list("change__title", "kind")) == [
        ("Approved one", "decided"),
        ("Both ways", "decided"),
    ]
    assert decisions.get(change=change).pk == rejection.pk
