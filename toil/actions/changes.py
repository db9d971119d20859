"""Writes to change requests as they move through their lifecycle: written, edited, moved on,
ticked off and deleted. Each write is atomic and validated (full_clean); every status change is
checked against toil.approvals and recorded on the change's timeline in the same transaction;
the emails owed are recorded (notify) and rung on commit (portal.doorbell), so a lost ring is
found by the sweep. The decisions on a change are toil.actions.approvals, its emails
toil.actions.emails.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal import doorbell
from services.models.catalog import Service
from toil import approvals
from toil.choices.changes import (
    CHECKLIST_LABELS,
    ChangeCategory,
    ChangeEventKind,
    ChangeNotificationKind,
    ChangeStatus,
)
from toil.models.changes import (
    MAX_SERVICES_PER_CHANGE,
    ChangeEvent,
    ChangeNotification,
    ChangeRequest,
    FreezeWindow,
)
from toil.permissions.changes import can_override_freeze
from toil.selectors import risk as risk_selectors
from toil.selectors import schedule as schedule_selectors
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


def person_name(user) -> str:
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
    assessment = risk_selectors.change_risk(change, services)
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
        text=f"Written by {person_name(author)} as a "
        f"{change.get_category_display().lower()} change.",
    )
    return change


def locked_change(change: ChangeRequest) -> ChangeRequest:
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
    change = locked_change(change)
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
            text=f"{person_name(by)} changed {labels}.",
        )
    return change


def notify(change: ChangeRequest, kind: str) -> None:
    """Record the email owed about the change (once per kind) and ring for it on commit."""
    notification, created = ChangeNotification.objects.get_or_create(change=change, kind=kind)
    if created:
        doorbell.ring_on_commit(tasks.send_change_notification, notification.pk)


def move_to(change: ChangeRequest, target: str, *, by, text: str, now: dt.datetime) -> None:
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
    change = locked_change(change)
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
    who = person_name(by)
    if move == "submit":
        change.submitted_at = now
        move_to(change, target, by=by, now=now, text=f"Submitted for approval by {who}.")
        notify(change, ChangeNotificationKind.AWAITING_APPROVAL)
    elif move == "schedule":
        _schedule(change, by=by, acknowledge=acknowledge_conflicts, now=now)
    elif move == "start":
        change.implemented_at = now
        if change.implementer_id is None:
            change.implementer = by
        note = ""
        if change.category == ChangeCategory.EMERGENCY and change.approved_at is None:
            note = " It is not approved yet: it must be within 24 hours."
        move_to(change, target, by=by, now=now, text=f"Implementation started by {who}.{note}")
    elif move in {"complete", "fail", "roll_back"}:
        change.finished_at = now
        required = approvals.review_required(category=change.category, status=target)
        note = " A post-implementation review is required." if required else ""
        move_to(
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
        move_to(change, target, by=by, now=now, text=f"Post-implementation review by {who}.")
    return change


def _schedule(change: ChangeRequest, *, by, acknowledge: bool, now: dt.datetime) -> None:
    """Schedule an approved change. Its conflicts are never saved silently: without
    ``acknowledge`` they refuse the move (each named); with it they are recorded on the change,
    and a freeze in the way needs an emergency change or someone allowed to override it."""
    conflicts = schedule_selectors.change_conflicts(change, now=now)
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
    move_to(
        change,
        ChangeStatus.SCHEDULED,
        by=by,
        now=now,
        text=f"Scheduled by {person_name(by)} from {change.window_start:%Y-%m-%d %H:%M} to "
        f"{change.window_end:%Y-%m-%d %H:%M} UTC.",
    )
    if overridden:
        change.overridden_freezes.add(*overridden)
    if conflicts:
        change_event_add(
            change=change,
            kind=ChangeEventKind.CONFLICTS,
            actor=by,
            text=f"{person_name(by)} accepted {len(conflicts)} conflict"
            f"{'s' if len(conflicts) != 1 else ''}: "
            + " ".join(conflict.message for conflict in conflicts),
        )


@transaction.atomic
def change_checklist_tick(*, change: ChangeRequest, by, item: str, done: bool) -> ChangeRequest:
    """Tick (or untick) an item of the release checklist as the change progresses."""
    if item not in CHECKLIST_LABELS:
        raise ValidationError({"item": f"Unknown checklist item “{item}”."})
    change = locked_change(change)
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
        text=f"{person_name(by)} {'ticked' if done else 'unticked'} “{CHECKLIST_LABELS[item]}”.",
    )
    return change


@transaction.atomic
def change_delete(*, change: ChangeRequest, by) -> None:
    """Delete a draft; anything submitted stays on record."""
    change = locked_change(change)
    if change.status != ChangeStatus.DRAFT:
        raise ValidationError({"status": "Only drafts are deleted; submitted changes stay."})
    change.delete()
