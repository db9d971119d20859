"""Drafts of status updates: the first word, the updates in between and the all-clear,
written from the incident's facts so that whoever sends one starts from the details that
are already known and only writes what is new.

A draft holds prompts in double square brackets, ``[[What changed since the last
update]]``, where only a person can say it; a status update is not sent while one is left
(``unfilled_prompts``). Times are in UTC: the readers are in many time zones. Pure: no I/O.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.choices import Severity, StatusUpdateKind

PROMPT = re.compile(r"\[\[(.+?)\]\]", re.DOTALL)

#: How soon readers hear again, by severity: the worse it is, the more often.
NEXT_UPDATE_AFTER = {
    Severity.SEV1: timedelta(minutes=30),
    Severity.SEV2: timedelta(minutes=30),
    Severity.SEV3: timedelta(hours=1),
    Severity.SEV4: timedelta(hours=2),
}


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


@dataclass(frozen=True)
class IncidentFacts:
    """What a draft may say about an incident, gathered by the caller."""

    reference: str
    title: str
    severity: str
    status: str
    services: tuple[str, ...]
    started_at: datetime
    impact: str
    users_affected: int | None
    commander: str
    url: str
    resolved_at: datetime | None = None
    severity_name: str = ""

    @classmethod
    def of(cls, incident, *, url: str, severity_name: str = "") -> "IncidentFacts":
        """The facts of an incident whose services and commander are already loaded."""
        commander = incident.commander
        return cls(
            reference=incident.reference,
            title=incident.title,
            severity=incident.severity,
            status=incident.get_status_display(),
            services=tuple(service.name for service in incident.services.all()),
            started_at=incident.started_at,
            impact=incident.impact,
            users_affected=incident.users_affected,
            commander=(commander.get_full_name() or commander.username) if commander else "",
            url=url,
            resolved_at=incident.resolved_at,
            severity_name=severity_name,
        )


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts.append(f"{minutes} min")
    return " ".join(parts)


def _impact(facts: IncidentFacts) -> str:
    impact = facts.impact.strip() or "[[Who is affected, and how]]"
    if facts.users_affected:
        impact += f" (about {facts.users_affected:,} users)"
    return impact


def _header(facts: IncidentFacts) -> str:
    services = ", ".join(facts.services) or "[[Affected services]]"
    severity = (
        f"{facts.severity} ({facts.severity_name})" if facts.severity_name else facts.severity
    )
    return (
        f"{facts.reference}: {facts.title}\n"
        f"Severity: {severity}\n"
        f"Affected: {services}\n"
        f"Started: {_when(facts.started_at)}\n"
    )


def _initial(facts: IncidentFacts, now: datetime) -> Draft:
    body = (
        f"We are responding to an incident.\n\n{_header(facts)}"
        f"Status: {facts.status}\n\n"
        f"Impact: {_impact(facts)}\n\n"
        "What we know so far: [[What we have seen, and what we are checking first]]\n\n"
        f"Incident commander: {facts.commander or '[[Name]]'}\n"
        f"Next update by {_when(now + NEXT_UPDATE_AFTER[facts.severity])}, "
        "or sooner if anything changes.\n\n"
        f"Follow the incident: {facts.url}\n"
    )
    # The subject says where the incident is now: a first word may come after the cause
    # is already identified.
    subject = f"[{facts.severity}] {facts.status}: {facts.title} ({facts.reference})"
    return Draft(subject=subject, body=body)


def _update(facts: IncidentFacts, now: datetime) -> Draft:
    body = (
        f"An update on the incident, {_duration(now - facts.started_at)} since it started.\n\n"
        f"{_header(facts)}"
        f"Status: {facts.status}\n\n"
        f"Impact: {_impact(facts)}\n\n"
        "What changed: [[What we found or did since the last update]]\n\n"
        "Next steps: [[What we are doing now]]\n\n"
        f"Next update by {_when(now + NEXT_UPDATE_AFTER[facts.severity])}.\n\n"
        f"Follow the incident: {facts.url}\n"
    )
    subject = f"[{facts.severity}] {facts.status}: {facts.title} ({facts.reference})"
    return Draft(subject=subject, body=body)


def _resolution(facts: IncidentFacts, now: datetime) -> Draft:
    resolved_at = facts.resolved_at or now
    body = (
        "The incident is resolved.\n\n"
        f"{_header(facts)}"
        f"Resolved: {_when(resolved_at)}, after {_duration(resolved_at - facts.started_at)}\n\n"
        f"Impact: {_impact(facts)}\n\n"
        "What fixed it: [[The fix or mitigation that ended the impact]]\n\n"
        "Cause, as far as we know: [[A short, blameless account; the post-mortem has more]]\n\n"
        "What happens next: we review the incident without blame and track the follow-up "
        "work on the incident page.\n\n"
        f"Incident page: {facts.url}\n"
    )
    subject = f"[{facts.severity}] Resolved: {facts.title} ({facts.reference})"
    return Draft(subject=subject, body=body)


_DRAFTERS = {
    StatusUpdateKind.INITIAL: _initial,
    StatusUpdateKind.UPDATE: _update,
    StatusUpdateKind.RESOLUTION: _resolution,
}


def draft_status_update(kind: str, facts: IncidentFacts, *, now: datetime) -> Draft:
    """The draft of a status update of this kind (initial, update or resolution)."""
    return _DRAFTERS[StatusUpdateKind(kind)](facts, now)


def unfilled_prompts(text: str) -> list[str]:
    """The ``[[prompts]]`` still in a draft's text, in order."""
    return [match.strip() for match in PROMPT.findall(text)]


def unfilled_prompt_errors(**texts: str) -> dict[str, str]:
    """An error for each of the named texts (subject, body) still holding a draft's prompts:
    readers must never get a template's blanks."""
    errors = {}
    for field, text in texts.items():
        prompts = unfilled_prompts(text)
        if prompts:
            listed = "; ".join(f"“{prompt}”" for prompt in prompts)
            errors[field] = f"Fill in or remove the prompts in [[…]]: {listed}."
    return errors


NOBODY_TO_TELL = (
    "No one would receive it: the incident's teams have no email address and nobody follows it."
)


def recipients_of(incident) -> list[str]:
    """Who receives an incident's status updates: the owning team, the teams owning the
    affected services, and the subscribers, each address once. Reads the incident's team,
    services (with their owner teams) and subscribers, which the caller loads."""
    teams = [incident.team, *(service.owner_team for service in incident.services.all())]
    addresses = [team.email for team in teams if team is not None]
    addresses += [person.email for person in incident.subscribers.all()]
    return sorted({address.strip().lower() for address in addresses if address.strip()})
