"""What a person's daily digest lists: each kind of record is one provider, registered in
``PROVIDERS`` at the bottom of this module, the one place to plug a new kind in.

A provider is a function ``gather(context) -> Iterable[DigestItem]`` that returns every item of
its kind due or overdue for anyone (in a fixed number of queries), each naming its recipients
and the team it belongs to. The planner (portal.reminders.actions) groups them per person and
adds the escalations.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from incidents.selectors import postmortems as postmortem_selectors
from services.selectors import readiness as readiness_selectors
from services.selectors import scorecards as scorecard_selectors
from toil.selectors import approvers as change_approver_selectors

#: Action items are listed from this many days before they fall due.
ACTION_ITEM_NOTICE_DAYS = 2
#: Waivers, exemptions and other expiring records are listed this many days ahead.
EXPIRY_NOTICE_DAYS = 14


@dataclass(frozen=True)
class DigestContext:
    """What providers may read: the portal's date and time of the run, the people the run is
    for (id → user) and every team's engineers and manager (team id → user ids)."""

    today: dt.date
    now: dt.datetime
    people: dict[int, object]
    team_people: dict[int, set[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class DigestItem:
    """One thing someone must act on: its title and link (a path), its due date (None: no
    deadline), who must act and the team it belongs to (for escalation); ``who`` names the
    people responsible, for the managers' "overdue in your teams"."""

    object_id: str
    title: str
    url: str
    due: dt.date | None
    recipient_ids: tuple[int, ...]
    team_id: int | None
    who: str = ""

    def days_late(self, today: dt.date) -> int:
        """Days past the due date (0 on the day itself and before it)."""
        if self.due is None or self.due >= today:
            return 0
        return (today - self.due).days


@dataclass(frozen=True)
class Provider:
    kind: str
    label: str
    gather: Callable[[DigestContext], Iterable[DigestItem]]


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _as_date(value) -> dt.date | None:
    """A due date from a date or a moment (read on the portal's calendar)."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    return timezone.localdate(value)


# --- the providers of the records that exist ---------------------------------------------------


def action_items_due(context: DigestContext) -> Iterable[DigestItem]:
    """Pending action items due within ACTION_ITEM_NOTICE_DAYS days or overdue, to their owner."""
    horizon = context.today + dt.timedelta(days=ACTION_ITEM_NOTICE_DAYS)
    for item in postmortem_selectors.action_items_due_by(horizon):
        incident = item.postmortem.incident
        yield DigestItem(
            object_id=str(item.pk),
            title=f"{item.title} ({incident.reference})",
            url=f"{incident.get_absolute_url()}postmortem/#action-item-{item.pk}",
            due=item.due_date,
            recipient_ids=(item.owner_id,) if item.owner_id else (),
            team_id=incident.team_id,
            who=_name(item.owner),
        )


def postmortems_past_due(context: DigestContext) -> Iterable[DigestItem]:
    """Unpublished post-mortems past their due time, to the incident's commander and the
    post-mortem's author (the people writing it)."""
    for postmortem in postmortem_selectors.postmortems_past_due(context.now):
        incident = postmortem.incident
        people = {user for user in (incident.commander, postmortem.author) if user is not None}
        yield DigestItem(
            object_id=str(postmortem.pk),
            title=f"Post-mortem of {incident.reference} {incident.title}",
            url=f"{incident.get_absolute_url()}postmortem/",
            due=_as_date(postmortem.due_at),
            recipient_ids=tuple(sorted(user.pk for user in people)),
            team_id=incident.team_id,
            who=", ".join(sorted(_name(user) for user in people)),
        )


def readiness_reviews_awaiting_review(context: DigestContext) -> Iterable[DigestItem]:
    """Readiness reviews submitted and waiting for their reviewer's verdict, to the reviewer.
    They have no deadline: the digest lists them until the reviewer decides."""
    for review in readiness_selectors.reviews_in_review().filter(reviewer__isnull=False):
        yield DigestItem(
            object_id=str(review.pk),
            title=f"Readiness review of {review.service.name}",
            url=review.get_absolute_url(),
            due=None,
            recipient_ids=(review.reviewer_id,),
            team_id=review.service.owner_team_id,
            who=_name(review.reviewer),
        )


def readiness_waivers_expiring(context: DigestContext) -> Iterable[DigestItem]:
    """Waivers of approved readiness reviews expiring within EXPIRY_NOTICE_DAYS days, to the
    waiver's owner and the service's team: once one expires, the approval no longer counts."""
    before = context.today + dt.timedelta(days=EXPIRY_NOTICE_DAYS)
    for waiver in readiness_selectors.waivers_expiring(before).filter(
        expires_on__gte=context.today
    ):
        review = waiver.item.review
        service = review.service
        people = set(context.team_people.get(service.owner_team_id, set()))
        if waiver.owner_id:
            people.add(waiver.owner_id)
        yield DigestItem(
            object_id=str(waiver.pk),
            title=f"Waiver of “{waiver.item.criterion.title}” on {service.name}",
            url=review.get_absolute_url(),
            due=waiver.expires_on,
            recipient_ids=tuple(sorted(people)),
            team_id=service.owner_team_id,
            who=_name(waiver.owner),
        )


def scorecard_exemptions_expiring(context: DigestContext) -> Iterable[DigestItem]:
    """Approved scorecard exemptions expiring within EXPIRY_NOTICE_DAYS days, to the service's
    team and whoever asked for the exemption."""
    before = context.today + dt.timedelta(days=EXPIRY_NOTICE_DAYS)
    for exemption in scorecard_selectors.exemptions_expiring(before).filter(
        expires_on__gte=context.today
    ):
        service = exemption.service
        people = set(context.team_people.get(service.owner_team_id, set()))
        if exemption.requested_by_id:
            people.add(exemption.requested_by_id)
        yield DigestItem(
            object_id=str(exemption.pk),
            title=f"Exemption of {service.name} from “{exemption.check_name}”",
            url=service.get_absolute_url(),
            due=exemption.expires_on,
            recipient_ids=tuple(sorted(people)),
            team_id=service.owner_team_id,
            who=_name(exemption.requested_by),
        )


def changes_awaiting_approval(context: DigestContext) -> Iterable[DigestItem]:
    """Change requests collecting approvals, to each person who may decide on one and has not
    (toil.approvals: the change approvers and SRE leads for standard changes, the incident's
    commander for an emergency, another engineer of the team for a low-risk one). Due when
    the planned window opens (an implemented emergency: when its 24 hours to be approved end)."""
    for awaiting in change_approver_selectors.changes_awaiting_approvers(
        context.people.values(), now=context.now
    ):
        change = awaiting.change
        yield DigestItem(
            object_id=str(change.pk),
            title=f"{change} ({change.get_category_display()})",
            url=change.get_absolute_url(),
            due=_as_date(awaiting.due_at),
            recipient_ids=awaiting.approver_ids,
            team_id=change.team_id,
            who=", ".join(sorted(_name(context.people[pk]) for pk in awaiting.approver_ids)),
        )


#: Every kind a digest lists, in the order its groups appear. One line per kind.
PROVIDERS: list[Provider] = [
    Provider("action_item", "Action items due or overdue", action_items_due),
    Provider("postmortem", "Post-mortems past due", postmortems_past_due),
    Provider(
        "readiness_review", "Readiness reviews awaiting you", readiness_reviews_awaiting_review
    ),
    Provider("waiver", "Readiness waivers expiring", readiness_waivers_expiring),
    Provider("exemption", "Scorecard exemptions expiring", scorecard_exemptions_expiring),
    Provider(
        "change_approval", "Change requests awaiting your approval", changes_awaiting_approval
    ),
]
