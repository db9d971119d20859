"""Writes to change requests, their approvals and emails. Each write is atomic and validated
(full_clean); every status change is checked against toil.approvals and recorded on the
change's timeline in the same transaction; emails are recorded first and rung on commit
(portal.doorbell), so a lost ring is found by the sweep.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import doorbell, notifications
from portal.roles import SRE_LEAD_GROUP
from services.choices import MembershipRole
from services.models.catalog import Service
from toil import approvals
from toil.choices.changes import (
    CHECKLIST_LABELS,
    ApprovalDecision,
    ChangeCategory,
    ChangeEventKind,
    ChangeNotificationKind,
    ChangeStatus,
)
from toil.models.changes import (
    MAX_SERVICES_PER_CHANGE,
    ChangeApproval,
    ChangeEvent,
    ChangeNotification,
    ChangeRequest,
    FreezeWindow,
)
from toil.permissions.changes import can_override_freeze
from toil.selectors import changes as selectors
from toil.tasks import changes as tasks

logger = logging.getLogger(__name__)

#: The fields change_create takes and change_update may change (while a draft).
CHANGE_FIELDS = (
    "title",
    "description",
    "category",
    "window_start",
    "window_end",
    "time_zone",
    "rollback_plan",
    "incident",
    "implementer",
    "customer_facing",
    "data_migration",
    "rollback_tested",
    "tested_in_staging",
    "outside_working_hours",
)


def _name(user) -> str:
    if user is None:
        return "the portal"
    return user.get_full_name() or user.get_username()


def change_event_add(
    *, change: ChangeRequest, kind: str, text: str, actor=None, from_status="", to_status=""
) -> ChangeEvent:
    event = ChangeEvent(
        change=change,
        kind=kind,
        text=text.strip(),
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        at=timezone.now(),
    )
    event.full_clean()
    event.save()
    return event


def _check_services(services: list[Service]) -> None:
    if not services:
        raise ValidationError({"services": "Choose at least one service."})
    if len(services) > MAX_SERVICES_PER_CHANGE:
        raise ValidationError(
            {"services": f"A change touches at most {MAX_SERVICES_PER_CHANGE} services."}
        )


def _assess(change: ChangeRequest, services: list[Service]) -> None:
    assessment = selectors.change_risk(change, services)
    change.risk_score, change.risk_level = assessment.score, assessment.level


@transaction.atomic
def change_create(*, author, services: Iterable[Service], **fields) -> ChangeRequest:
    """Write a change request, as a draft; its team is its first service's team and its risk
    is scored from its answers and its services."""
    services = sorted(services, key=lambda service: service.name)
    _check_services(services)
    unknown = set(fields) - set(CHANGE_FIELDS)
    if unknown:
        raise TypeError(f"change_create() got unexpected fields: {sorted(unknown)}")
    change = ChangeRequest(author=author, team_id=services[0].owner_team_id, **fields)
    _assess(change, services)
    change.full_clean()
    change.save()
    change.services.set(services)
    change_event_add(
        change=change,
        kind=ChangeEventKind.CREATED,
        actor=author,
        to_status=change.status,
        text=f"Written by {_name(author)} as a {change.get_category_display().lower()} change.",
    )
    return change


def _locked(change: ChangeRequest) -> ChangeRequest:
    """The change's row, locked for this transaction, with what the rules read."""
    return (
        ChangeRequest.objects.select_for_update(of=("self",))
        .select_related("incident")
        .prefetch_related("services", "approvals")
        .get(pk=change.pk)
    )


@transaction.atomic
def change_update(*, change: ChangeRequest, by, services=None, **fields) -> ChangeRequest:
    """Change a draft's details (and services); what was submitted stays as it was approved."""
    unknown = set(fields) - set(CHANGE_FIELDS)
    if unknown:
        raise TypeError(f"change_update() got unexpected fields: {sorted(unknown)}")
    change = _locked(change)
    if change.status != ChangeStatus.DRAFT:
        raise ValidationError(
            {"status": "Only a draft is edited: this change was already submitted."}
        )
    changed = [name for name, value in fields.items() if getattr(change, name) != value]
    for name, value in fields.items():
        setattr(change, name, value)
    if services is not None:
        services = sorted(services, key=lambda service: service.name)
        _check_services(services)
        if {s.pk for s in services} != {s.pk for s in change.services.all()}:
            changed.append("services")
        change.team_id = services[0].owner_team_id
    else:
        services = list(change.services.all())
    _assess(change, services)
    change.full_clean()
    change.save()
    if "services" in changed:
        change.services.set(services)
    if changed:
        labels = ", ".join(
            str(ChangeRequest._meta.get_field(name).verbose_name) for name in changed
        )
        change_event_add(
            change=change,
            kind=ChangeEventKind.EDITED,
            actor=by,
            text=f"{_name(by)} changed {labels}.",
        )
    return change


def _notify(change: ChangeRequest, kind: str) -> None:
    """Record the email owed about the change (once per kind) and ring for it on commit."""
    notification, created = ChangeNotification.objects.get_or_create(change=change, kind=kind)
    if created:
        doorbell.ring_on_commit(tasks.send_change_notification, notification.pk)


def _move(change: ChangeRequest, target: str, *, by, text: str, now: dt.datetime) -> None:
    source = change.status
    change.status = target
    change.save()
    change_event_add(
        change=change,
        kind=ChangeEventKind.TRANSITION,
        actor=by,
        from_status=source,
        to_status=target,
        text=text,
    )


@transaction.atomic
def change_move(
    *,
    change: ChangeRequest,
    move: str,
    by,
    review: str = "",
    acknowledge_conflicts: bool = False,
    now: dt.datetime | None = None,
) -> ChangeRequest:
    """Move the change on by name (toil.approvals.MOVES): submit, schedule, start, complete,
    fail, roll_back or review. A move out of order is refused naming the status; scheduling
    checks for conflicts (change_schedule); a review needs its text."""
    now = now or timezone.now()
    if move not in approvals.MOVES:
        raise ValidationError({"move": f"Unknown move “{move}”."})
    change = _locked(change)
    target = approvals.MOVES[move]
    if not approvals.can_move(change.status, target, category=change.category):
        allowed = ", ".join(
            approvals.MOVE_LABELS[name].lower()
            for name in approvals.moves_from(change.status, category=change.category)
        )
        raise ValidationError(
            {
                "status": f"A {change.get_status_display().lower()} change cannot be "
                f"{ChangeStatus(target).label.lower()}"
                + (f"; it may be: {allowed}." if allowed else "; it has reached its end.")
            }
        )
    who = _name(by)
    if move == "submit":
        change.submitted_at = now
        _move(change, target, by=by, now=now, text=f"Submitted for approval by {who}.")
        _notify(change, ChangeNotificationKind.AWAITING_APPROVAL)
    elif move == "schedule":
        _schedule(change, by=by, acknowledge=acknowledge_conflicts, now=now)
    elif move == "start":
        change.implemented_at = now
        if change.implementer_id is None:
            change.implementer = by
        note = ""
        if change.category == ChangeCategory.EMERGENCY and change.approved_at is None:
            note = " It is not approved yet: it must be within 24 hours."
        _move(change, target, by=by, now=now, text=f"Implementation started by {who}.{note}")
    elif move in {"complete", "fail", "roll_back"}:
        change.finished_at = now
        required = approvals.review_required(category=change.category, status=target)
        note = " A post-implementation review is required." if required else ""
        _move(
            change,
            target,
            by=by,
            now=now,
            text=f"{ChangeStatus(target).label}, as {who} reports.{note}",
        )
    elif move == "review":
        if not review.strip():
            raise ValidationError({"review": "Write what happened and what was learned."})
        change.review = review.strip()
        change.reviewed_at = now
        _move(change, target, by=by, now=now, text=f"Post-implementation review by {who}.")
    return change


def _schedule(change: ChangeRequest, *, by, acknowledge: bool, now: dt.datetime) -> None:
    """Schedule an approved change. Its conflicts are never saved silently: without
    ``acknowledge`` they refuse the move (each named); with it they are recorded on the change,
    and a freeze in the way needs an emergency change or someone allowed to override it."""
    conflicts = selectors.change_conflicts(change, now=now)
    if conflicts and not acknowledge:
        raise ValidationError(
            {
                "conflicts": [
                    f"{conflict.message} Schedule anyway only if you accept it."
                    for conflict in conflicts
                ]
            }
        )
    overridden = []
    freezes_in_way = {c.freeze_id for c in conflicts if c.code == "freeze"}
    if freezes_in_way and change.category != ChangeCategory.EMERGENCY:
        windows = FreezeWindow.objects.filter(pk__in=freezes_in_way).prefetch_related("overriders")
        refused = [freeze.name for freeze in windows if not can_override_freeze(by, freeze)]
        if refused:
            raise ValidationError(
                {
                    "conflicts": f"Only SRE leads and the people it names may schedule a change "
                    f"into the freeze “{', '.join(refused)}”."
                }
            )
        overridden = list(windows)
    change.conflicts = [{"code": c.code, "message": c.message, "url": c.url} for c in conflicts]
    _move(
        change,
        ChangeStatus.SCHEDULED,
        by=by,
        now=now,
        text=f"Scheduled by {_name(by)} from {change.window_start:%Y-%m-%d %H:%M} to "
        f"{change.window_end:%Y-%m-%d %H:%M} UTC.",
    )
    if overridden:
        change.overridden_freezes.add(*overridden)
    if conflicts:
        change_event_add(
            change=change,
            kind=ChangeEventKind.CONFLICTS,
            actor=by,
            text=f"{_name(by)} accepted {len(conflicts)} conflict"
            f"{'s' if len(conflicts) != 1 else ''}: "
            + " ".join(conflict.message for conflict in conflicts),
        )


@transaction.atomic
def change_decide(
    *, change: ChangeRequest, by, decision: str, comment: str = "", now: dt.datetime | None = None
) -> ChangeApproval:
    """Record the person's approval or rejection (toil.approvals says whether they may). The
    approval that completes the count approves the change; a rejection of a change awaiting
    approval rejects it (an emergency already implemented stays where it is, to be reviewed).
    The author is told either way."""
    now = now or timezone.now()
    change = _locked(change)
    change_facts = selectors.change_facts(change)
    person = selectors.approver_facts(by)
    refusal = approvals.approval_refusal(change_facts, person, now)
    if refusal:
        raise ValidationError({"decision": refusal})
    if decision == ApprovalDecision.REJECT and not comment.strip():
        raise ValidationError({"comment": "Say why: a rejection needs a comment."})
    approval = ChangeApproval(
        change=change,
        approver=by,
        decision=decision,
        role=approvals.approver_role(change_facts, person),
        comment=comment.strip(),
        created_at=now,
    )
    approval.full_clean()
    try:
        with transaction.atomic():
            approval.save()
    except IntegrityError as error:
        raise ValidationError({"decision": "You have already decided on this change."}) from error
    who = _name(by)
    if decision == ApprovalDecision.REJECT:
        change_event_add(
            change=change,
            kind=ChangeEventKind.REJECTION,
            actor=by,
            text=f"Rejected by {who} ({approval.get_role_display()}): {approval.comment}",
        )
        if change.status == ChangeStatus.SUBMITTED:
            _move(change, ChangeStatus.REJECTED, by=by, now=now, text=f"Rejected by {who}.")
        _notify(change, ChangeNotificationKind.DECIDED)
        return approval
    given = change.approvals.filter(decision=ApprovalDecision.APPROVE).count()
    required = selectors.approvals_required(change)
    change_event_add(
        change=change,
        kind=ChangeEventKind.APPROVAL,
        actor=by,
        text=f"Approved by {who} ({approval.get_role_display()}): {given} of {required}."
        + (f" {approval.comment}" if approval.comment else ""),
    )
    if given >= required:
        change.approved_at = now
        if change.status == ChangeStatus.SUBMITTED:
            _move(change, ChangeStatus.APPROVED, by=by, now=now, text="Approved.")
        else:
            change.save(update_fields=["approved_at", "updated_at"])
        _notify(change, ChangeNotificationKind.DECIDED)
    return approval


@transaction.atomic
def change_checklist_tick(*, change: ChangeRequest, by, item: str, done: bool) -> ChangeRequest:
    """Tick (or untick) an item of the release checklist as the change progresses."""
    if item not in CHECKLIST_LABELS:
        raise ValidationError({"item": f"Unknown checklist item “{item}”."})
    change = _locked(change)
    if change.status in {ChangeStatus.REJECTED, ChangeStatus.REVIEWED}:
        raise ValidationError({"item": "The checklist of a closed change no longer changes."})
    checklist = dict(change.checklist)
    if done == (item in checklist):
        return change
    if done:
        checklist[item] = {"by": by.get_username(), "at": timezone.now().isoformat()}
    else:
        del checklist[item]
    change.checklist = checklist
    change.save(update_fields=["checklist", "updated_at"])
    change_event_add(
        change=change,
        kind=ChangeEventKind.CHECKLIST,
        actor=by,
        text=f"{_name(by)} {'ticked' if done else 'unticked'} “{CHECKLIST_LABELS[item]}”.",
    )
    return change


@transaction.atomic
def change_delete(*, change: ChangeRequest, by) -> None:
    """Delete a draft; anything submitted stays on record."""
    change = _locked(change)
    if change.status != ChangeStatus.DRAFT:
        raise ValidationError({"status": "Only drafts are deleted; submitted changes stay."})
    change.delete()


# --- emails -----------------------------------------------------------------------------------


def _awaiting_recipients(change: ChangeRequest) -> list[str]:
    User = get_user_model()
    if change.category == ChangeCategory.STANDARD:
        people = selectors.change_approvers()
    elif change.category == ChangeCategory.EMERGENCY:
        people = User.objects.filter(is_active=True, groups__name=SRE_LEAD_GROUP)
        if change.incident_id and change.incident.commander_id:
            people = people | User.objects.filter(pk=change.incident.commander_id)
    else:
        people = User.objects.filter(
            is_active=True,
            memberships__team_id__in=selectors.change_team_ids(change),
            memberships__role=MembershipRole.ENGINEER,
        )
    people = people.exclude(pk__in=[change.author_id, change.implementer_id]).exclude(email="")
    return sorted(set(people.values_list("email", flat=True)))


def _recipients(notification: ChangeNotification) -> list[str]:
    change = notification.change
    if notification.kind == ChangeNotificationKind.AWAITING_APPROVAL:
        return _awaiting_recipients(change)
    author = change.author
    return [author.email] if author is not None and author.email else []


def change_notification_send(*, notification_id: int) -> bool:
    """Send an email owed about a change, once. The notification is claimed by stamping
    ``sent_at`` only while it is empty, so a duplicate or retried task sends nothing; a failure
    gives the claim back: a retryable one is raised for the task to retry later, a permanent
    one is recorded on the notification and the change's timeline. True when sent."""
    claimed = ChangeNotification.objects.filter(pk=notification_id, sent_at=None, error="").update(
        sent_at=timezone.now()
    )
    if not claimed:
        return False
    notification = ChangeNotification.objects.select_related(
        "change", "change__author", "change__incident", "change__team"
    ).get(pk=notification_id)
    change = notification.change
    recipients = _recipients(notification)
    release = ChangeNotification.objects.filter(pk=notification_id)
    if not recipients:
        with transaction.atomic():
            release.update(sent_at=None, error="Nobody to tell: no recipient has an email.")
            change_event_add(
                change=change,
                kind=ChangeEventKind.NOTIFICATION,
                text=f"The “{notification.get_kind_display().lower()}” email had nobody to go "
                "to (no email address).",
            )
        return False
    approvals_given = change.approvals.filter(decision=ApprovalDecision.APPROVE).count()
    rejection = (
        change.approvals.filter(decision=ApprovalDecision.REJECT).select_related("approver").first()
    )
    message = notifications.render_email(
        f"change-{notification.kind.replace('_', '-')}",
        {
            "change": change,
            "approvals_given": approvals_given,
            "approvals_required": selectors.approvals_required(change),
            "rejection": rejection,
        },
        recipients,
    )
    try:
        notifications.send(message)
    except notifications.RetryableNotificationError:
        release.update(sent_at=None)
        raise
    except notifications.PermanentNotificationError as error:
        with transaction.atomic():
            release.update(sent_at=None, error=str(error))
            change_event_add(
                change=change,
                kind=ChangeEventKind.NOTIFICATION,
                text=f"The “{notification.get_kind_display().lower()}” email could not be "
                f"sent: {error}",
            )
        return False
    with transaction.atomic():
        release.update(recipients=recipients)
        change_event_add(
            change=change,
            kind=ChangeEventKind.NOTIFICATION,
            text=f"“{notification.get_kind_display()}” email sent to {len(recipients)} "
            f"recipient{'s' if len(recipients) != 1 else ''}.",
        )
    return True


def change_notifications_unsent() -> list[int]:
    return list(
        ChangeNotification.objects.filter(sent_at=None, error="")
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


# --- freezes ----------------------------------------------------------------------------------
