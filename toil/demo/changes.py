"""Demo change approvals for `make run` (portal.demo loads them): change requests in every
state and category, with their approvals and timelines. Loading them also brings in the recurring
weekend freeze (toil.demo.freezes), a quarter of deployments and a few answers of the deploy gate
(toil.demo.deployments), and computes the DORA figures.

Past records are written as they happened, with their own times and timelines, rather than
through the actions (which stamp the present and email approvers). Loading again adds only what
is missing: changes and freezes are known by title, deployments by service and version.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from incidents.models.incidents import Incident
from portal.roles import is_sre_lead
from services.models.catalog import Service
from toil.actions.deployments import dora_snapshots_recompute
from toil.choices.changes import ApprovalDecision, ChangeCategory, ChangeEventKind, ChangeStatus
from toil.demo.deployments import (
    link_demo_caused_incidents,
    load_demo_deployments,
    load_demo_gate_answers,
)
from toil.demo.freezes import load_demo_freezes
from toil.models.changes import ChangeApproval, ChangeEvent, ChangeRequest
from toil.selectors.changes import CHANGE_APPROVERS_GROUP
from toil.selectors.risk import change_risk

#: Demo people who approve standard changes (besides the SRE lead, the admin).
CHANGE_APPROVERS = ("ines", "lena")
S, C = ChangeStatus, ChangeCategory


@dataclass(frozen=True)
class DemoChange:
    title: str
    category: str
    status: str
    services: tuple[str, ...]
    author: str
    #: Days from now to the planned start (negative: in the past).
    starts_in_days: float
    hours: float = 2
    approvers: tuple[str, ...] = ()
    rejected_by: str = ""
    incident: str = ""  # title of a demo incident
    answers: dict = field(default_factory=dict)
    review: str = ""


CHANGES = [
    DemoChange(
        "Add Apple Pay to the payment page",
        C.STANDARD,
        S.DRAFT,
        ("payments-api",),
        "priya",
        5,
        answers={"customer_facing": True},
    ),
    DemoChange(
        "Move search ranking to the new model",
        C.STANDARD,
        S.SUBMITTED,
        ("search-api",),
        "nora",
        3,
        approvers=("ines",),
        answers={"customer_facing": True, "tested_in_staging": True},
    ),
    DemoChange(
        "Upgrade the message bus to the next major version",
        C.STANDARD,
        S.APPROVED,
        ("message-bus",),
        "david",
        2,
        approvers=("lena", "admin"),
        answers={"tested_in_staging": True, "rollback_tested": True},
    ),
    DemoChange(
        "Rotate the gateway's TLS certificates",
        C.STANDARD,
        S.SCHEDULED,
        ("api-gateway",),
        "ines",
        1,
        approvers=("lena", "admin"),
        answers={"tested_in_staging": True, "outside_working_hours": True},
    ),
    DemoChange(
        "Raise the 3-D Secure callback timeout",
        C.EMERGENCY,
        S.IN_PROGRESS,
        ("payments-api",),
        "marco",
        -0.05,
        approvers=("priya",),
        incident="Card payments declined for some issuers",
        answers={"customer_facing": True},
    ),
    DemoChange(
        "Fix typos in the refunds runbook",
        C.LOW_RISK,
        S.COMPLETED,
        ("refunds",),
        "marco",
        -6,
        approvers=("priya",),
    ),
    DemoChange(
        "Migrate orders to the partitioned table",
        C.STANDARD,
        S.FAILED,
        ("orders",),
        "tomas",
        -9,
        approvers=("ines", "admin"),
        answers={"data_migration": True, "tested_in_staging": True},
    ),
    DemoChange(
        "New checkout page layout",
        C.STANDARD,
        S.ROLLED_BACK,
        ("checkout-web",),
        "lena",
        -12,
        approvers=("ines", "admin"),
        answers={"customer_facing": True, "tested_in_staging": True},
    ),
    DemoChange(
        "Re-issue the sign-in certificate",
        C.EMERGENCY,
        S.REVIEWED,
        ("auth",),
        "aisha",
        -27,
        approvers=("admin",),
        incident="Sign-in failures after a certificate rotation",
        answers={"customer_facing": True},
        review="The rotation job skipped the intermediate certificate; it is now checked "
        "before the old one is removed.",
    ),
    DemoChange(
        "Switch fraud scoring to the vendor's beta API",
        C.STANDARD,
        S.REJECTED,
        ("fraud-scoring",),
        "marco",
        4,
        rejected_by="admin",
        answers={"customer_facing": True},
    ),
    DemoChange(
        "Lower the alert threshold on payout delays",
        C.LOW_RISK,
        S.SUBMITTED,
        ("payouts",),
        "priya",
        1,
    ),
]

#: Where each status stands in the life of a change: the moves that led to it.
PATHS = {
    S.DRAFT: [],
    S.SUBMITTED: [S.SUBMITTED],
    S.APPROVED: [S.SUBMITTED, S.APPROVED],
    S.REJECTED: [S.SUBMITTED, S.REJECTED],
    S.SCHEDULED: [S.SUBMITTED, S.APPROVED, S.SCHEDULED],
    S.IN_PROGRESS: [S.SUBMITTED, S.IN_PROGRESS],
    S.COMPLETED: [S.SUBMITTED, S.APPROVED, S.SCHEDULED, S.IN_PROGRESS, S.COMPLETED],
    S.FAILED: [S.SUBMITTED, S.APPROVED, S.SCHEDULED, S.IN_PROGRESS, S.FAILED],
    S.ROLLED_BACK: [S.SUBMITTED, S.APPROVED, S.SCHEDULED, S.IN_PROGRESS, S.ROLLED_BACK],
    S.REVIEWED: [S.SUBMITTED, S.IN_PROGRESS, S.COMPLETED, S.REVIEWED],
}


def _change(demo: DemoChange, now, people, services, incidents) -> ChangeRequest | None:
    author = people.get(demo.author)
    affected = [services[slug] for slug in demo.services if slug in services]
    incident = incidents.get(demo.incident)
    if author is None or not affected or (demo.incident and incident is None):
        return None
    start = now + dt.timedelta(days=demo.starts_in_days)
    start = start.replace(second=0, microsecond=0)
    change = ChangeRequest(
        title=demo.title,
        category=demo.category,
        status=demo.status,
        team_id=affected[0].owner_team_id,
        author=author,
        implementer=author if demo.status not in {S.DRAFT, S.SUBMITTED, S.REJECTED} else None,
        window_start=start,
        window_end=start + dt.timedelta(hours=demo.hours),
        time_zone="Europe/Paris",
        rollback_plan="" if demo.category == C.LOW_RISK else "Redeploy the previous version.",
        incident=incident,
        review=demo.review,
        **demo.answers,
    )
    risk = change_risk(change, affected)
    change.risk_score, change.risk_level = risk.score, risk.level
    path = PATHS[demo.status]
    written = min(start, now) - dt.timedelta(days=2)
    moments = {}
    for index, status in enumerate(path):
        if status in {S.IN_PROGRESS}:
            moments[status] = start
        elif status in {S.COMPLETED, S.FAILED, S.ROLLED_BACK}:
            moments[status] = start + dt.timedelta(hours=demo.hours)
        elif status == S.REVIEWED:
            moments[status] = start + dt.timedelta(days=2)
        else:
            moments[status] = min(written + dt.timedelta(hours=4 * (index + 1)), now)
    change.submitted_at = moments.get(S.SUBMITTED)
    change.implemented_at = moments.get(S.IN_PROGRESS)
    change.finished_at = next(
        (moments[s] for s in (S.COMPLETED, S.FAILED, S.ROLLED_BACK) if s in moments), None
    )
    change.reviewed_at = moments.get(S.REVIEWED)
    approved = [people[name] for name in demo.approvers if name in people]
    if demo.status not in {S.DRAFT, S.SUBMITTED, S.REJECTED} and approved:
        change.approved_at = moments.get(S.APPROVED) or start + dt.timedelta(hours=1)
    if demo.status == S.SUBMITTED and demo.category == C.STANDARD:
        approved = approved[:1]  # one of the two it needs
    change.full_clean()
    change.save()
    change.services.set(affected)
    events = [
        ChangeEvent(
            change=change,
            at=written,
            actor=author,
            kind=ChangeEventKind.CREATED,
            to_status=S.DRAFT,
            text=f"Written by {author.get_full_name()} as a "
            f"{change.get_category_display().lower()} change.",
        )
    ]
    previous = S.DRAFT
    for status in path:
        events.append(
            ChangeEvent(
                change=change,
                at=moments[status],
                actor=author,
                kind=ChangeEventKind.TRANSITION,
                from_status=previous,
                to_status=status,
                text=f"{ChangeStatus(previous).label} → {ChangeStatus(status).label}.",
            )
        )
        previous = status
    for person in approved:
        role = (
            "sre_lead"
            if is_sre_lead(person)
            else {C.EMERGENCY: "incident_commander", C.LOW_RISK: "peer"}.get(
                demo.category, "change_approver"
            )
        )
        ChangeApproval.objects.create(
            change=change,
            approver=person,
            decision=ApprovalDecision.APPROVE,
            role=role,
            created_at=change.approved_at or now,
        )
        events.append(
            ChangeEvent(
                change=change,
                at=change.approved_at or now,
                actor=person,
                kind=ChangeEventKind.APPROVAL,
                text=f"Approved by {person.get_full_name() or person.username}.",
            )
        )
    if demo.rejected_by and demo.rejected_by in people:
        person = people[demo.rejected_by]
        comment = "The vendor's beta has no SLA; wait for the general release."
        ChangeApproval.objects.create(
            change=change,
            approver=person,
            decision=ApprovalDecision.REJECT,
            role="sre_lead",
            comment=comment,
            created_at=moments.get(S.REJECTED, now),
        )
        events.append(
            ChangeEvent(
                change=change,
                at=moments.get(S.REJECTED, now),
                actor=person,
                kind=ChangeEventKind.REJECTION,
                text=f"Rejected: {comment}",
            )
        )
    ChangeEvent.objects.bulk_create(sorted(events, key=lambda event: event.at))
    return change


@transaction.atomic
def load_demo_changes(now: dt.datetime) -> int:
    """Create what is missing of the demo's changes, freezes, deployments and gate answers,
    then compute the DORA figures; returns how many change requests were created."""
    people = {user.username: user for user in get_user_model().objects.all()}
    group, _ = Group.objects.get_or_create(name=CHANGE_APPROVERS_GROUP)
    group.user_set.add(*[people[name] for name in CHANGE_APPROVERS if name in people])
    services = {service.slug: service for service in Service.objects.all()}
    incidents = {incident.title: incident for incident in Incident.objects.all()}
    load_demo_freezes(now, people)
    existing = set(ChangeRequest.objects.values_list("title", flat=True))
    created = 0
    for demo in CHANGES:
        if demo.title not in existing and _change(demo, now, people, services, incidents):
            created += 1
    load_demo_deployments(now, services, people)
    link_demo_caused_incidents(services)
    load_demo_gate_answers(now, services, people)
    dora_snapshots_recompute(now=now)
    return created
