"""Post-mortem rules: when one is due, how it moves from draft to published, who may write,
review and publish it, what a new one starts from, and how much error budget an incident
spent. No I/O beyond reading the objects handed in (callers prefetch what is read here).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from incidents.choices import PostMortemStatus, TimelineKind
from incidents.permissions import incident_team_ids
from portal.roles import editable_team_ids, is_sre_lead
from portal.timezones import portal_zone
from services.budget.figures import objective_from_percent

#: Which status may follow which. Published is final: what was published stays on record,
#: and later learnings go into a new note or action item.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    PostMortemStatus.DRAFT: frozenset({PostMortemStatus.IN_REVIEW}),
    PostMortemStatus.IN_REVIEW: frozenset({PostMortemStatus.DRAFT, PostMortemStatus.PUBLISHED}),
    PostMortemStatus.PUBLISHED: frozenset(),
}

WORKING_WEEKDAYS = range(0, 5)  # Monday to Friday


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED_TRANSITIONS[current]


def add_working_days(moment: datetime, days: int) -> datetime:
    """The moment ``days`` working days (Monday to Friday, in the portal's time zone, never
    the viewer's) after ``moment``, at the same time of day. Resolving on a Friday with 5 days
    gives the next Friday; resolving on a Saturday counts from Monday, so it gives the Friday
    after."""
    local = timezone.localtime(moment, portal_zone())
    remaining = days
    while remaining > 0:
        local += timedelta(days=1)
        if local.weekday() in WORKING_WEEKDAYS:
            remaining -= 1
    return local


def due_at_for(incident) -> datetime | None:
    """When the post-mortem of this incident is due: POSTMORTEM_DUE_WORKING_DAYS working days
    after resolution; no due date for an unresolved incident or one that needs none."""
    if incident.resolved_at is None or not incident.postmortem_required:
        return None
    return add_working_days(incident.resolved_at, settings.POSTMORTEM_DUE_WORKING_DAYS)


# --- who may do what ------------------------------------------------------------------------


def _is_incident_editor(user, incident) -> bool:
    """The incident's commander, engineers of the owning team or of an affected service's
    team, and SRE leads."""
    if not user.is_authenticated:
        return False
    if is_sre_lead(user) or (incident.commander_id and incident.commander_id == user.pk):
        return True
    return bool(editable_team_ids(user) & incident_team_ids(incident))


def can_start_postmortem(user, incident) -> bool:
    return _is_incident_editor(user, incident)


def can_edit_postmortem(user, postmortem) -> bool:
    """Editors: the incident's commander and teams, the author, SRE leads. A published
    post-mortem is a record, not a draft: nobody edits it any more."""
    if postmortem.status == PostMortemStatus.PUBLISHED:
        return False
    return is_postmortem_editor(user, postmortem)


def is_postmortem_editor(user, postmortem) -> bool:
    if user.is_authenticated and postmortem.author_id and postmortem.author_id == user.pk:
        return True
    return _is_incident_editor(user, postmortem.incident)


def is_reviewer(user, postmortem) -> bool:
    return user.is_authenticated and any(
        reviewer.pk == user.pk for reviewer in postmortem.reviewers.all()
    )


def may_review(user) -> bool:
    """Reviewers are engineers (of any team) or SRE leads: publishing is a write, and viewers
    only read."""
    return user.is_active and (is_sre_lead(user) or bool(editable_team_ids(user)))


def contributor_ids(postmortem) -> set[int]:
    """Who wrote it: its author and everyone who changed its sections (uses prefetched
    contributors)."""
    ids = {person.pk for person in postmortem.contributors.all()}
    return ids | ({postmortem.author_id} if postmortem.author_id else set())


def publish_refusal(user, postmortem) -> str | None:
    """Why the user may not publish the post-mortem, or None when they may.

    Review is independent: the person who publishes is an assigned reviewer or an SRE lead,
    and did not write it (start it or change its sections) — otherwise anyone could name
    themselves reviewer and publish alone, and for SEV1/SEV2 that closes the incident.
    """
    if not user.is_authenticated:
        return "Sign in to publish."
    if user.pk == postmortem.author_id:
        return "You started this post-mortem: a reviewer who did not write it publishes it."
    if user.pk in contributor_ids(postmortem):
        return "You edited this post-mortem: a reviewer who did not write it publishes it."
    if not (is_sre_lead(user) or is_reviewer(user, postmortem)):
        return "Only an assigned reviewer or an SRE lead publishes a post-mortem."
    return None


def can_publish(user, postmortem) -> bool:
    """An independent reviewer (see publish_refusal) publishes, once it is in review."""
    return postmortem.status == PostMortemStatus.IN_REVIEW and (
        publish_refusal(user, postmortem) is None
    )


def can_return_to_draft(user, postmortem) -> bool:
    """Reviewers send it back with their remarks; its editors may take it back to change it."""
    return postmortem.status == PostMortemStatus.IN_REVIEW and (
        is_sre_lead(user) or is_reviewer(user, postmortem) or is_postmortem_editor(user, postmortem)
    )


def can_submit_for_review(user, postmortem) -> bool:
    return postmortem.status == PostMortemStatus.DRAFT and can_edit_postmortem(user, postmortem)


def can_manage_action_items(user, postmortem) -> bool:
    """Adding action items stays open after publishing: follow-ups are found late too."""
    return is_postmortem_editor(user, postmortem)


def can_edit_action_item(user, action_item) -> bool:
    """Its owner, the post-mortem's editors and SRE leads."""
    if user.is_authenticated and action_item.owner_id and action_item.owner_id == user.pk:
        return True
    return is_postmortem_editor(user, action_item.postmortem)


# --- a new post-mortem's first draft --------------------------------------------------------


def _duration_text(duration: timedelta | None) -> str:
    if duration is None:
        return "not recorded"
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)


def _since_start(incident, field: str) -> timedelta | None:
    moment = getattr(incident, field)
    return None if moment is None else moment - incident.started_at


def durations(incident) -> list[tuple[str, str]]:
    """Time from the start of user impact to each response milestone, as (label, text)."""
    return [
        (label, _duration_text(_since_start(incident, field)))
        for label, field in (
            ("Time to detect", "detected_at"),
            ("Time to acknowledge", "acknowledged_at"),
            ("Time to mitigate", "mitigated_at"),
            ("Time to resolve", "resolved_at"),
        )
    ]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def first_draft(incident, key_events) -> dict[str, str]:
    """The sections a new post-mortem starts with: summary and impact from the incident, the
    response durations, and the key (pinned) timeline events in time order."""
    impact_lines = []
    if incident.impact:
        impact_lines.append(incident.impact.strip())
    if incident.users_affected is not None:
        impact_lines.append(f"Users affected: {incident.users_affected:,}.")
    service_names = sorted(service.name for service in incident.services.all())
    if service_names:
        impact_lines.append(f"Affected services: {', '.join(service_names)}.")
    impact_lines.append("\n".join(f"- {label}: {text}" for label, text in durations(incident)))
    timeline_lines = [f"- {_utc(incident.started_at)}: user impact started"]
    timeline_lines += [
        f"- {_utc(entry.at)}: {entry.text.strip()}"
        for entry in sorted(key_events, key=lambda entry: (entry.at, entry.pk))
        if entry.kind != TimelineKind.POSTMORTEM
    ]
    if incident.resolved_at:
        timeline_lines.append(f"- {_utc(incident.resolved_at)}: resolved")
    return {
        "summary": incident.summary.strip(),
        "impact": "\n\n".join(impact_lines),
        "timeline": "\n".join(timeline_lines),
    }


# --- error-budget impact --------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetImpact:
    """The share of one SLO's error budget an incident spent.

    consumed = bad events during the incident / bad events the SLO window allows, where the
    window is the SLO's window at the incident's resolution and allows (1 - objective) x all
    its events. None when the SLO has no data for the incident's time.
    """

    slo: object
    bad_events: int
    allowed_bad: float | None
    has_data: bool

    @property
    def consumed(self) -> float | None:
        if not self.has_data or not self.allowed_bad:
            return None
        return self.bad_events / self.allowed_bad

    @property
    def consumed_percent(self) -> float | None:
        consumed = self.consumed
        return None if consumed is None else consumed * 100


def allowed_bad_events(objective_percent: Decimal | float, total_events: int) -> float:
    """Bad events an SLO window of ``total_events`` may hold: (1 - objective) x total."""
    return (1 - objective_from_percent(objective_percent)) * total_events
