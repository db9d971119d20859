"""Writes to incidents and their timeline (status updates: incidents.actions.status_updates).
Each change of status, severity, role or details writes its own timeline entry in the same
transaction, and a change to what the metrics read marks them for a recompute."""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents import limits
from incidents.actions.metrics import incident_metrics_mark_changed
from incidents.choices import IncidentRole, IncidentSource, IncidentStatus, Severity, TimelineKind
from incidents.lifecycle import (
    ALLOWED_TRANSITIONS,
    REOPEN_CLEARS,
    can_transition,
    is_backward,
    timestamps_to_stamp,
)
from incidents.models.incidents import Incident, TimelineEntry
from incidents.permissions import incident_team_ids, may_hold_role, role_refusal
from incidents.references import next_incident_reference
from portal.roles import ENGINEER
from services.models.catalog import Service

#: The fields incident_update changes; the rest move through their own actions.
UPDATABLE_FIELDS = frozenset(
    {"title", "summary", "impact", "users_affected", "started_at", "detected_at"}
)
#: What an SRE lead may also correct in the admin (incident_correct): the times the lifecycle
#: stamps and the owning team. Status, severity and roles still move through their actions.
CORRECTABLE_FIELDS = UPDATABLE_FIELDS | frozenset(
    {"acknowledged_at", "mitigated_at", "resolved_at", "closed_at", "team"}
)


#: What the incident metrics read of an incident, besides its affected services.
METRIC_FIELDS = (
    "severity",
    "team_id",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "resolved_at",
)


def _metric_facts(incident: Incident) -> tuple:
    return tuple(getattr(incident, name) for name in METRIC_FIELDS)


def _metrics_changed(*team_ids: int | None) -> None:
    """The metrics page reads snapshots: mark the teams' (and the organisation's) for the
    coalesced recompute."""
    incident_metrics_mark_changed(team_ids=team_ids)


def _check_note(note: str, field: str = "note") -> str:
    note = note.strip()
    if len(note) > limits.NOTE_MAX_LENGTH:
        raise ValidationError(
            {field: f"Keep it to {limits.NOTE_MAX_LENGTH:,} characters (it has {len(note):,})."}
        )
    return note


def _check_role_holder(user, team_ids: set[int], field: str) -> None:
    if user is not None and not may_hold_role(user, team_ids):
        raise ValidationError({field: role_refusal(user)})


def _name(user) -> str:
    if user is None:
        return "the portal"
    return user.get_full_name() or user.get_username()


def owning_team_id(services: list[Service], declared_by) -> int | None:
    """The team of the first affected service, else the declaring engineer's first team."""
    if services:
        return services[0].owner_team_id
    if declared_by is None:
        return None
    return (
        declared_by.memberships.filter(role=ENGINEER)
        .order_by("team__name")
        .values_list("team_id", flat=True)
        .first()
    )


def timeline_entry_add(
    *,
    incident: Incident,
    kind: str,
    text: str,
    author=None,
    at: datetime | None = None,
    pinned: bool = False,
) -> TimelineEntry:
    """Append an entry to the incident's timeline (the one way entries are written)."""
    entry = TimelineEntry(
        incident=incident,
        kind=kind,
        text=text.strip(),
        author=author,
        at=at or timezone.now(),
        pinned=pinned,
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def incident_declare(
    *,
    title: str,
    severity: str,
    declared_by=None,
    services: Iterable[Service] = (),
    summary: str = "",
    impact: str = "",
    users_affected: int | None = None,
    started_at: datetime | None = None,
    detected_at: datetime | None = None,
    commander=None,
    source: str = IncidentSource.MANUAL,
    group_key: str = "",
) -> Incident:
    """Open an incident, investigating. Detection defaults to now and so does the start
    (the earliest the portal knows of); a person declaring it has acknowledged it."""
    now = timezone.now()
    services = list(services)
    started_at = started_at or now
    if started_at > now:
        raise ValidationError({"started_at": "An incident cannot start in the future."})
    team_id = owning_team_id(services, declared_by)
    _check_role_holder(
        commander,
        {service.owner_team_id for service in services} | ({team_id} if team_id else set()),
        "commander",
    )
    incident = Incident(
        title=title,
        severity=severity,
        summary=summary,
        impact=impact,
        users_affected=users_affected,
        status=IncidentStatus.INVESTIGATING,
        started_at=started_at,
        detected_at=detected_at or now,
        acknowledged_at=now if declared_by is not None else None,
        source=source,
        alert_group_key=group_key,
        declared_by=declared_by,
        commander=commander,
        team_id=team_id,
    )
    incident.full_clean(exclude=["reference"])
    incident.reference = next_incident_reference(now.year)
    incident.save()
    incident.services.set(services)
    incident.subscribers.add(*{person for person in (declared_by, commander) if person})
    text = f"Declared {severity} by {_name(declared_by)}."
    if commander is not None:
        text += f" Incident commander: {_name(commander)}."
    timeline_entry_add(
        incident=incident, kind=TimelineKind.DECLARED, text=text, author=declared_by, at=now
    )
    _metrics_changed(incident.team_id)
    return incident


def _lock(incident: Incident) -> None:
    """Lock the incident's row and reload it, so two people changing it at once take
    turns and each sees the other's change."""
    Incident.objects.select_for_update().filter(pk=incident.pk).values_list("pk").get()
    incident.refresh_from_db()


def _refuse_if_closed(incident: Incident) -> None:
    if incident.status == IncidentStatus.CLOSED:
        raise ValidationError("The incident is closed; its record is final.")


@transaction.atomic
def incident_change_status(
    *, incident: Incident, status: str, by=None, note: str = "", at: datetime | None = None
) -> Incident:
    """Move the incident along its lifecycle (incidents.lifecycle), stamping the time of
    the new status: ``at``, when the change happened, for changes the portal learns of
    after the fact (alert intake); now by default. Reopening clears the mitigation and
    resolution times and needs the reason (``note``), which the timeline keeps; closing an
    incident that needs a post-mortem waits for it to be published."""
    now = timezone.now()
    note = _check_note(note)
    at = at or now
    if at > now:
        raise ValidationError({"at": "A status change cannot happen in the future."})
    _lock(incident)
    current = incident.status
    if status not in IncidentStatus.values:
        raise ValidationError({"status": f"“{status}” is not an incident status."})
    if status == current:
        raise ValidationError(
            {"status": f"The incident is already {incident.get_status_display().lower()}."}
        )
    if not can_transition(current, status):
        allowed = ", ".join(
            IncidentStatus(option).label.lower()
            for option in IncidentStatus.values
            if option in ALLOWED_TRANSITIONS[current]
        )
        raise ValidationError(
            {
                "status": f"An incident that is {IncidentStatus(current).label.lower()} cannot "
                f"become {IncidentStatus(status).label.lower()}"
                + (f"; it can become {allowed}." if allowed else "; it is final.")
            }
        )
    if (
        status == IncidentStatus.CLOSED
        and incident.postmortem_required
        and not incident.has_published_postmortem
    ):
        raise ValidationError(
            {
                "status": f"A {incident.severity} incident closes only once its post-mortem "
                "is published."
            }
        )
    if is_backward(current, status) and not note:
        verb = "reopen it" if current == IncidentStatus.RESOLVED else "move it back"
        raise ValidationError({"note": f"Say why you {verb}: the timeline keeps the reason."})
    facts = _metric_facts(incident)
    if status == IncidentStatus.INVESTIGATING:
        for field in REOPEN_CLEARS:
            setattr(incident, field, None)
    for field in timestamps_to_stamp(status):
        if getattr(incident, field) is None:
            setattr(incident, field, at)
    if by is not None and incident.acknowledged_at is None:
        incident.acknowledged_at = at
    incident.status = status
    incident.full_clean()
    incident.save()
    backward = is_backward(current, status)
    verb = "Reopened" if backward and current == IncidentStatus.RESOLVED else "Status"
    text = (
        f"{verb}: {IncidentStatus(current).label} → {IncidentStatus(status).label} ({_name(by)})."
    )
    if note:
        text += f"\n\n{'Reason: ' if backward else ''}{note}"
    timeline_entry_add(
        incident=incident, kind=TimelineKind.STATUS_CHANGE, text=text, author=by, at=at
    )
    if _metric_facts(incident) != facts:
        _metrics_changed(incident.team_id)
    return incident


@transaction.atomic
def incident_change_severity(
    *, incident: Incident, severity: str, by=None, note: str = ""
) -> Incident:
    note = _check_note(note)
    _lock(incident)
    _refuse_if_closed(incident)
    if severity not in Severity.values:
        raise ValidationError({"severity": f"“{severity}” is not a severity."})
    previous = incident.severity
    if severity == previous:
        raise ValidationError({"severity": f"The incident is already {severity}."})
    incident.severity = severity
    incident.full_clean()
    incident.save()
    text = f"Severity: {previous} → {severity} ({_name(by)})."
    if note:
        text += f"\n\n{note}"
    timeline_entry_add(incident=incident, kind=TimelineKind.SEVERITY_CHANGE, text=text, author=by)
    _metrics_changed(incident.team_id)
    return incident


@transaction.atomic
def incident_assign_role(*, incident: Incident, role: str, user, by=None) -> Incident:
    """Give a role to a person (None leaves it empty): an engineer of the incident's teams or
    an SRE lead. Taking command acknowledges the incident; whoever gets a role is subscribed
    to its status updates."""
    _lock(incident)
    _refuse_if_closed(incident)
    if role not in IncidentRole.values:
        raise ValidationError({"role": f"“{role}” is not an incident role."})
    _check_role_holder(user, incident_team_ids(incident), "user")
    previous_id = getattr(incident, f"{role}_id")
    if (user.pk if user else None) == previous_id:
        return incident
    acknowledged_at = incident.acknowledged_at
    setattr(incident, role, user)
    label = IncidentRole(role).label
    if user is None:
        text = f"No one is {label.lower()} any more ({_name(by)})."
    else:
        text = f"{_name(user)} is now {label.lower()} ({_name(by)})."
        incident.subscribers.add(user)
        if role == IncidentRole.COMMANDER and incident.acknowledged_at is None:
            incident.acknowledged_at = timezone.now()
    incident.full_clean()
    incident.save()
    timeline_entry_add(incident=incident, kind=TimelineKind.ROLE_CHANGE, text=text, author=by)
    if incident.acknowledged_at != acknowledged_at:
        _metrics_changed(incident.team_id)
    return incident


@transaction.atomic
def incident_update(
    *, incident: Incident, by=None, services: Iterable[Service] | None = None, **fields
) -> Incident:
    """Change the incident's details (``UPDATABLE_FIELDS``) and affected services; one
    timeline entry names what changed, and nothing is written when nothing did."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"incident_update cannot change {', '.join(sorted(unknown))}")
    _lock(incident)
    _refuse_if_closed(incident)
    return _change_details(incident, by=by, services=services, fields=fields, how="Changed")


@transaction.atomic
def incident_correct(
    *, incident: Incident, by, services: Iterable[Service] | None = None, **fields
) -> Incident:
    """An SRE lead's correction in the admin: the details, and also the lifecycle's times and
    the owning team (``CORRECTABLE_FIELDS``), closed incidents included. Written like any
    change: a timeline entry, the history, and the metrics marked when they read it."""
    unknown = set(fields) - CORRECTABLE_FIELDS
    if unknown:
        raise TypeError(f"incident_correct cannot change {', '.join(sorted(unknown))}")
    _lock(incident)
    return _change_details(
        incident, by=by, services=services, fields=fields, how="Corrected in the admin:"
    )


def _change_details(incident: Incident, *, by, services, fields: dict, how: str) -> Incident:
    facts = _metric_facts(incident)
    team_before = incident.team_id
    changed = [name for name, value in fields.items() if getattr(incident, name) != value]
    for name in changed:
        setattr(incident, name, fields[name])
    if services is not None:
        services = list(services)
        if {service.pk for service in services} != set(
            incident.services.values_list("pk", flat=True)
        ):
            changed.append("services")
            incident.services.set(services)
            if incident.team_id is None and services:
                incident.team_id = services[0].owner_team_id
    if not changed:
        return incident
    incident.full_clean()
    incident.save()
    labels = [
        "affected services"
        if name == "services"
        else str(Incident._meta.get_field(name).verbose_name)
        for name in changed
    ]
    timeline_entry_add(
        incident=incident,
        kind=TimelineKind.DETAILS_CHANGE,
        text=f"{how} {', '.join(labels)} ({_name(by)}).",
        author=by,
    )
    if "services" in changed or _metric_facts(incident) != facts:
        _metrics_changed(team_before, incident.team_id)
    return incident


@transaction.atomic
def incident_add_note(
    *, incident: Incident, text: str, by, at: datetime | None = None, pinned: bool = False
) -> TimelineEntry:
    text = _check_note(text, "text")
    if not text:
        raise ValidationError({"text": "Write something in the note."})
    if at is not None and at > timezone.now():
        raise ValidationError({"at": "A note cannot be about the future."})
    return timeline_entry_add(
        incident=incident, kind=TimelineKind.NOTE, text=text, author=by, at=at, pinned=pinned
    )


@transaction.atomic
def timeline_entry_pin(*, entry: TimelineEntry, pinned: bool = True) -> TimelineEntry:
    """Mark (or unmark) an entry as a key event, the one change an entry allows."""
    entry.pinned = pinned
    entry.save(update_fields=["pinned"])
    return entry


@transaction.atomic
def incident_subscribe(*, incident: Incident, user, subscribed: bool = True) -> None:
    """Start (or stop) sending the incident's status updates to the user."""
    if subscribed:
        incident.subscribers.add(user)
    else:
        incident.subscribers.remove(user)
