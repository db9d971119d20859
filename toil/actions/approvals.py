"""Decisions on change requests: approvals and rejections, checked against toil.approvals,
recorded on the change's timeline in the same transaction, and the author told by email."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from toil import approvals
from toil.actions.changes import change_event_add, locked_change, move_to, notify, person_name
from toil.choices.changes import (
    ApprovalDecision,
    ChangeEventKind,
    ChangeNotificationKind,
    ChangeStatus,
)
from toil.models.changes import ChangeApproval, ChangeRequest
from toil.selectors import changes as selectors


@transaction.atomic
def change_decide(
    *, change: ChangeRequest, by, decision: str, comment: str = "", now: dt.datetime | None = None
) -> ChangeApproval:
    """Record the person's approval or rejection (toil.approvals says whether they may). The
    approval that completes the count approves the change; a rejection of a change awaiting
    approval rejects it (an emergency already implemented stays where it is, to be reviewed).
    The author is told either way."""
    now = now or timezone.now()
    change = locked_change(change)
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
    who = person_name(by)
    if decision == ApprovalDecision.REJECT:
        change_event_add(
            change=change,
            kind=ChangeEventKind.REJECTION,
            actor=by,
            text=f"Rejected by {who} ({approval.get_role_display()}): {approval.comment}",
        )
        if change.status == ChangeStatus.SUBMITTED:
            move_to(change, ChangeStatus.REJECTED, by=by, now=now, text=f"Rejected by {who}.")
        notify(change, ChangeNotificationKind.REJECTED)
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
            move_to(change, ChangeStatus.APPROVED, by=by, now=now, text="Approved.")
        else:
            change.save(update_fields=["approved_at", "updated_at"])
        notify(change, ChangeNotificationKind.APPROVED)
    return approval
