"""The rules of a change request's life: which status may follow which, how many approvals
each category needs and who may give them (seed 001's change categories). Pure: the caller
says who the person is (toil.selectors.changes.approver_facts).

- Emergency: one approval from the commander of the linked incident or an SRE lead. It may be
  implemented before it is approved, and approved up to APPROVABLE_AFTER_IMPLEMENTATION after
  it was implemented; a post-implementation review is then required.
- Standard: the change advisory approvers (members of the "Change approvers" group; SRE leads
  count), settings.CHANGE_STANDARD_APPROVALS of them (2 by default).
- Low-risk: one peer, an engineer of the owning team or of a team whose service it touches,
  other than the author (SRE leads count).

Nobody approves a change they wrote or implement, and a rejection needs a comment.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from toil.choices.changes import ApproverRole, ChangeCategory, ChangeStatus

S = ChangeStatus

#: Which status may follow which. Approval and rejection follow from approvals
#: (toil.actions.approvals.change_decide), never from a plain transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.IN_PROGRESS}),
    S.APPROVED: frozenset({S.SCHEDULED}),
    S.REJECTED: frozenset(),
    S.SCHEDULED: frozenset({S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.FAILED, S.ROLLED_BACK}),
    S.COMPLETED: frozenset({S.REVIEWED}),
    S.FAILED: frozenset({S.REVIEWED}),
    S.ROLLED_BACK: frozenset({S.REVIEWED}),
    S.REVIEWED: frozenset(),
}

#: Moves a person asks for by name (the UI's buttons, the API's actions): the target status.
MOVES = {
    "submit": S.SUBMITTED,
    "schedule": S.SCHEDULED,
    "start": S.IN_PROGRESS,
    "complete": S.COMPLETED,
    "fail": S.FAILED,
    "roll_back": S.ROLLED_BACK,
    "review": S.REVIEWED,
}
MOVE_LABELS = {
    "submit": "Submit for approval",
    "schedule": "Schedule",
    "start": "Start implementing",
    "complete": "Completed",
    "fail": "Failed",
    "roll_back": "Rolled back",
    "review": "Record the review",
}

#: An emergency change may be approved this long after it was implemented.
APPROVABLE_AFTER_IMPLEMENTATION = timedelta(hours=24)

#: Statuses in which a change still collects approvals.
APPROVABLE_STATUSES = frozenset({S.SUBMITTED})
#: An emergency change also collects them while and after it is implemented.
EMERGENCY_APPROVABLE_STATUSES = frozenset(
    {S.SUBMITTED, S.IN_PROGRESS, S.COMPLETED, S.FAILED, S.ROLLED_BACK}
)


def can_move(current: str, target: str, *, category: str) -> bool:
    if target not in TRANSITIONS.get(current, frozenset()):
        return False
    # Only an emergency goes to work before it is approved.
    return not (
        current == S.SUBMITTED and target == S.IN_PROGRESS and category != ChangeCategory.EMERGENCY
    )


def moves_from(current: str, *, category: str) -> list[str]:
    """The named moves a change in ``current`` may make, in MOVES' order."""
    return [move for move, target in MOVES.items() if can_move(current, target, category=category)]


def review_required(*, category: str, status: str) -> bool:
    """A post-implementation review is required for emergencies and for what went wrong."""
    return category == ChangeCategory.EMERGENCY or status in {S.FAILED, S.ROLLED_BACK}


def required_approvals(category: str, *, standard_approvals: int) -> int:
    return standard_approvals if category == ChangeCategory.STANDARD else 1


@dataclass(frozen=True)
class ChangeFacts:
    """What the approval rules read of a change."""

    category: str
    status: str
    author_id: int | None
    implementer_id: int | None
    team_ids: frozenset[int]
    incident_commander_id: int | None
    implemented_at: datetime | None
    approved_at: datetime | None


@dataclass(frozen=True)
class ApproverFacts:
    """What the approval rules read of the person."""

    user_id: int
    is_sre_lead: bool
    is_change_approver: bool
    engineer_team_ids: frozenset[int]


def approver_role(change: ChangeFacts, person: ApproverFacts) -> str | None:
    """The capacity in which the person may approve the change, or None when they may not
    (the reasons: approval_refusal)."""
    if person.user_id in {change.author_id, change.implementer_id}:
        return None
    if person.is_sre_lead:
        return ApproverRole.SRE_LEAD
    if change.category == ChangeCategory.EMERGENCY:
        if change.incident_commander_id == person.user_id:
            return ApproverRole.INCIDENT_COMMANDER
        return None
    if change.category == ChangeCategory.STANDARD:
        return ApproverRole.CHANGE_APPROVER if person.is_change_approver else None
    if change.team_ids & person.engineer_team_ids:
        return ApproverRole.PEER
    return None


def approval_due_at(category: str, implemented_at: datetime | None, window_start: datetime):
    """When a decision is due: an implemented emergency's window for approval closes
    APPROVABLE_AFTER_IMPLEMENTATION after it was implemented; any other change is due
    before its planned start."""
    if category == ChangeCategory.EMERGENCY and implemented_at is not None:
        return implemented_at + APPROVABLE_AFTER_IMPLEMENTATION
    return window_start


def approval_window_open(change: ChangeFacts, now: datetime) -> bool:
    """Does the change still collect approvals at ``now``?"""
    if change.approved_at is not None:
        return False
    if change.category != ChangeCategory.EMERGENCY:
        return change.status in APPROVABLE_STATUSES
    if change.status not in EMERGENCY_APPROVABLE_STATUSES:
        return False
    return (
        change.implemented_at is None
        or now <= change.implemented_at + APPROVABLE_AFTER_IMPLEMENTATION
    )


def approval_refusal(change: ChangeFacts, person: ApproverFacts, now: datetime) -> str | None:
    """Why the person may not decide on the change now, or None when they may."""
    if person.user_id == change.author_id:
        return "Nobody approves their own change."
    if person.user_id == change.implementer_id:
        return "The implementer of a change does not approve it."
    if not approval_window_open(change, now):
        if change.category == ChangeCategory.EMERGENCY and change.implemented_at is not None:
            return (
                "An emergency change is approved at most 24 hours after it was implemented; "
                "this one is past that."
            )
        return "This change is not awaiting approval."
    if approver_role(change, person) is None:
        return {
            ChangeCategory.EMERGENCY: "Emergency changes are approved by the commander of the "
            "linked incident or an SRE lead.",
            ChangeCategory.STANDARD: "Standard changes are approved by the change approvers "
            "(the “Change approvers” group) and SRE leads.",
            ChangeCategory.LOW_RISK: "Low-risk changes are approved by another engineer of the "
            "owning team or of a team whose service the change touches.",
        }[change.category]
    return None
