"""Who must decide on which change request, for many people at once (the reminder digest):
a fixed number of queries whatever the number of changes and people."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Prefetch

from portal.roles import SRE_LEAD_GROUP
from services.choices import MembershipRole
from services.models.catalog import Service
from services.selectors import catalog as catalog_selectors
from toil.approvals import ApproverFacts, approval_due_at, approval_refusal
from toil.models.changes import ChangeApproval, ChangeRequest
from toil.selectors.changes import CHANGE_APPROVERS_GROUP, change_facts, collecting_approvals_q


@dataclass(frozen=True)
class ChangeAwaiting:
    """A change collecting approvals, the people (among those asked about) who may decide on
    it and have not, and the moment its approval is late: the start of its planned window, or
    for an emergency already implemented, the end of the 24 hours it may be approved in."""

    change: ChangeRequest
    approver_ids: tuple[int, ...]
    due_at: dt.datetime


def _approver_facts(people: list) -> dict[int, ApproverFacts]:
    """Each person's ApproverFacts: two queries (their groups, every team's engineers)."""
    ids = [person.pk for person in people]
    groups: dict[int, set[str]] = defaultdict(set)
    memberships = get_user_model().groups.through.objects.filter(
        user_id__in=ids, group__name__in=[SRE_LEAD_GROUP, CHANGE_APPROVERS_GROUP]
    )
    for user_id, name in memberships.values_list("user_id", "group__name"):
        groups[user_id].add(name)
    engineer_teams: dict[int, set[int]] = defaultdict(set)
    for team_id, user_ids in catalog_selectors.team_member_ids(MembershipRole.ENGINEER).items():
        for user_id in user_ids:
            engineer_teams[user_id].add(team_id)
    return {
        person.pk: ApproverFacts(
            user_id=person.pk,
            is_sre_lead=person.is_active
            and (person.is_superuser or SRE_LEAD_GROUP in groups[person.pk]),
            is_change_approver=CHANGE_APPROVERS_GROUP in groups[person.pk],
            engineer_team_ids=frozenset(engineer_teams[person.pk]),
        )
        for person in people
    }


def changes_awaiting_approvers(people: Iterable, *, now: dt.datetime) -> list[ChangeAwaiting]:
    """Every change collecting approvals at ``now``, oldest submission first, with those of
    ``people`` who may decide on it (toil.approvals) and have not yet: five queries (the
    changes with their incidents, their services, their decisions, the people's groups and
    the teams' engineers).
    A change nobody among ``people`` may decide on is listed too, with no approvers."""
    people = list(people)
    facts = _approver_facts(people)
    changes = (
        ChangeRequest.objects.filter(collecting_approvals_q(now))
        .select_related("incident")
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.only("pk", "name", "owner_team_id")),
            Prefetch(
                "approvals", queryset=ChangeApproval.objects.only("pk", "change_id", "approver_id")
            ),
        )
        .order_by("submitted_at", "id")
    )
    awaiting = []
    for change in changes:
        rules = change_facts(change)
        decided = {approval.approver_id for approval in change.approvals.all()}
        approvers = tuple(
            sorted(
                person.pk
                for person in people
                if person.pk not in decided
                and approval_refusal(rules, facts[person.pk], now) is None
            )
        )
        due_at = approval_due_at(change.category, change.implemented_at, change.window_start)
        awaiting.append(ChangeAwaiting(change=change, approver_ids=approvers, due_at=due_at))
    return awaiting
