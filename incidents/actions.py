"""Writes to incidents: keyword-only, validated, atomic. Each change of status, severity,
role or details writes its own timeline entry in the same transaction.

Permissions are the callers' business (incidents.permissions); ``by`` is who acts, None
when the portal acts itself (alert intake).
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents import postmortems, selectors, tasks
from incidents.choices import (
    ActionItemStatus,
    IncidentRole,
    IncidentSource,
    IncidentStatus,
    PostMortemStatus,
    Severity,
    TimelineKind,
)
from incidents.lifecycle import (
    ALLOWED_TRANSITIONS,
    REOPEN_CLEARS,
    can_transition,
    timestamps_to_stamp,
)
from incidents.metrics import (
    PERIOD_MONTHS,
    incident_metrics,
    keys_to_str,
    metrics_to_json,
    period_start,
)
from incidents.models import (
    ActionItem,
    Incident,
    IncidentMetricsSnapshot,
    PostMortem,
    StatusUpdate,
    TimelineEntry,
)
from incidents.references import next_incident_reference
from portal.roles import ENGINEER
from services.models import Service, Team

#: The fields incident_update changes; the rest move through their own actions.
UPDATABLE_FIELDS = frozenset(
    {"title", "summary", "impact", "users_affected", "started_at", "detected_at"}
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


def _recompute_metrics_on_commit() -> None:
    """The metrics page reads snapshots: refresh them once the change is committed."""
    tasks.recompute_incident_metrics.delay_on_commit()


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
        team_id=owning_team_id(services, declared_by),
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
    _recompute_metrics_on_commit()
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
    resolution times; closing an incident that needs a post-mortem waits for it to be
    published."""
    now = timezone.now()
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
    text = (
        f"Status: {IncidentStatus(current).label} → {IncidentStatus(status).label} ({_name(by)})."
    )
    if note.strip():
        text += f"\n\n{note.strip()}"
    timeline_entry_add(
        incident=incident, kind=TimelineKind.STATUS_CHANGE, text=text, author=by, at=at
    )
    if _metric_facts(incident) != facts:
        _recompute_metrics_on_commit()
    return incident


@transaction.atomic
def incident_change_severity(
    *, incident: Incident, severity: str, by=None, note: str = ""
) -> Incident:
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
    if note.strip():
        text += f"\n\n{note.strip()}"
    timeline_entry_add(incident=incident, kind=TimelineKind.SEVERITY_CHANGE, text=text, author=by)
    _recompute_metrics_on_commit()
    return incident


@transaction.atomic
def incident_assign_role(*, incident: Incident, role: str, user, by=None) -> Incident:
    """Give a role to a person (None leaves it empty). Taking command acknowledges the
    incident; whoever gets a role is subscribed to its status updates."""
    _lock(incident)
    _refuse_if_closed(incident)
    if role not in IncidentRole.values:
        raise ValidationError({"role": f"“{role}” is not an incident role."})
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
        _recompute_metrics_on_commit()
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
    facts = _metric_facts(incident)
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
        text=f"Changed {', '.join(labels)} ({_name(by)}).",
        author=by,
    )
    if "services" in changed or _metric_facts(incident) != facts:
        _recompute_metrics_on_commit()
    return incident


@transaction.atomic
def incident_add_note(
    *, incident: Incident, text: str, by, at: datetime | None = None, pinned: bool = False
) -> TimelineEntry:
    if not text.strip():
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


# --- status updates -------------------------------------------------------------------------


@transaction.atomic
def status_update_queue(*, incident, kind: str, subject: str, body: str, by) -> StatusUpdate:
    """Record a status update written by ``by`` and send it once this transaction commits."""
    status_update = StatusUpdate(
        incident=incident, kind=kind, subject=subject.strip(), body=body.strip(), created_by=by
    )
    status_update.full_clean()
    status_update.save()
    tasks.send_status_update.delay_on_commit(status_update.id)
    return status_update


# --- metrics snapshots ----------------------------------------------------------------------

#: What a recompute writes over an existing snapshot.
SNAPSHOT_FIELDS = [
    "computed_at",
    "period_start",
    "period_end",
    "figures",
    "service_names",
    "team_names",
]


def _metrics_snapshot(
    team_id, months: int, records, now: datetime, service_names, team_names
) -> IncidentMetricsSnapshot:
    start = period_start(now, months)
    figures = incident_metrics(records, start=start, end=now)
    return IncidentMetricsSnapshot(
        team_id=team_id,
        months=months,
        computed_at=now,
        period_start=start,
        period_end=now,
        figures=metrics_to_json(figures),
        # Only the names this snapshot's rows show.
        service_names=keys_to_str({key: service_names[key] for key in figures.by_service}),
        team_names=keys_to_str({key: team_names[key] for key in figures.by_team}),
    )


def incident_metrics_snapshots_recompute(*, now: datetime) -> int:
    """Recompute the metrics snapshot of the organisation and of every team (with incidents
    or not) for each period in PERIOD_MONTHS, ending at ``now``. The longest period's
    incidents are read once (two queries) and every snapshot is derived from them in memory;
    the snapshots are upserted in one transaction. Returns how many were written."""
    earliest = period_start(now, max(PERIOD_MONTHS))
    records, service_names, team_names = selectors.incident_records(
        Incident.objects.filter(started_at__gte=earliest, started_at__lt=now)
    )
    records_by_team = {}
    for record in records:
        records_by_team.setdefault(record.team_id, []).append(record)
    scopes = [(None, records)] + [
        (team_id, records_by_team.get(team_id, []))
        for team_id in Team.objects.order_by("pk").values_list("pk", flat=True)
    ]
    snapshots = [
        _metrics_snapshot(team_id, months, scope, now, service_names, team_names)
        for team_id, scope in scopes
        for months in PERIOD_MONTHS
    ]
    with transaction.atomic():
        IncidentMetricsSnapshot.objects.bulk_create(
            [snapshot for snapshot in snapshots if snapshot.team_id is not None],
            update_conflicts=True,
            unique_fields=["team", "months"],
            update_fields=SNAPSHOT_FIELDS,
        )
        # An upsert cannot name the organisation's partial unique constraint as its conflict
        # target: its few rows go one by one.
        for snapshot in snapshots:
            if snapshot.team_id is None:
                IncidentMetricsSnapshot.objects.update_or_create(
                    team=None,
                    months=snapshot.months,
                    defaults={name: getattr(snapshot, name) for name in SNAPSHOT_FIELDS},
                )
    return len(snapshots)


# --- post-mortems and action items ----------------------------------------------------------

#: The post-mortem fields people write; status, dates and author move through the actions.
POSTMORTEM_WRITABLE_FIELDS = frozenset(PostMortem.SECTIONS)
ACTION_ITEM_WRITABLE_FIELDS = frozenset(
    {"title", "owner", "due_date", "priority", "kind", "status", "wont_do_reason"}
)


def _lock_postmortem(postmortem: PostMortem) -> None:
    """Lock the post-mortem's row and reload it, so two workflow steps at once take turns."""
    PostMortem.objects.select_for_update().filter(pk=postmortem.pk).values_list("pk").get()
    postmortem.refresh_from_db()


def _move_postmortem(postmortem: PostMortem, status: str) -> None:
    if not postmortems.can_transition(postmortem.status, status):
        raise ValidationError(
            {
                "status": f"A post-mortem that is {postmortem.get_status_display().lower()} "
                f"cannot become {PostMortemStatus(status).label.lower()}."
            }
        )
    postmortem.status = status


@transaction.atomic
def postmortem_start(*, incident: Incident, by) -> PostMortem:
    """Start the incident's post-mortem as a draft filled in from the incident: summary,
    impact and durations, and its key (pinned) timeline events; due per the settings."""
    _lock(incident)
    if incident.resolved_at is None:
        raise ValidationError("A post-mortem starts once the incident is resolved.")
    if PostMortem.objects.filter(incident=incident).exists():
        raise ValidationError("This incident already has a post-mortem.")
    key_events = incident.timeline_entries.filter(pinned=True)
    postmortem = PostMortem(
        incident=incident,
        author=by,
        due_at=postmortems.due_at_for(incident),
        **postmortems.first_draft(incident, key_events),
    )
    postmortem.full_clean()
    postmortem.save()
    timeline_entry_add(
        incident=incident,
        kind=TimelineKind.POSTMORTEM,
        text=f"Post-mortem started by {_name(by)}.",
        author=by,
    )
    return postmortem


@transaction.atomic
def postmortem_update(
    *, postmortem: PostMortem, reviewers: Iterable | None = None, **sections
) -> PostMortem:
    """Change the sections and reviewers of a post-mortem that is not yet published."""
    unknown = set(sections) - POSTMORTEM_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"postmortem_update cannot change {', '.join(sorted(unknown))}")
    _lock_postmortem(postmortem)
    if postmortem.status == PostMortemStatus.PUBLISHED:
        raise ValidationError("The post-mortem is published; its record is final.")
    if reviewers is not None:
        reviewers = list(reviewers)
        # A review is a second pair of eyes: the author publishing alone would skip it.
        if postmortem.author_id in {reviewer.pk for reviewer in reviewers}:
            raise ValidationError({"reviewers": "The author cannot review their own post-mortem."})
    for name, value in sections.items():
        setattr(postmortem, name, value)
    postmortem.full_clean()
    postmortem.save()
    if reviewers is not None:
        postmortem.reviewers.set(reviewers)
    return postmortem


@transaction.atomic
def postmortem_submit_for_review(*, postmortem: PostMortem, by) -> PostMortem:
    """Hand the draft to its reviewers; it needs at least one."""
    _lock_postmortem(postmortem)
    _move_postmortem(postmortem, PostMortemStatus.IN_REVIEW)
    if not postmortem.reviewers.exists():
        raise ValidationError({"reviewers": "Name at least one reviewer first."})
    postmortem.full_clean()
    postmortem.save()
    timeline_entry_add(
        incident=postmortem.incident,
        kind=TimelineKind.POSTMORTEM,
        text=f"Post-mortem submitted for review by {_name(by)}.",
        author=by,
    )
    return postmortem


@transaction.atomic
def postmortem_return_to_draft(*, postmortem: PostMortem, by) -> PostMortem:
    _lock_postmortem(postmortem)
    _move_postmortem(postmortem, PostMortemStatus.DRAFT)
    postmortem.full_clean()
    postmortem.save()
    timeline_entry_add(
        incident=postmortem.incident,
        kind=TimelineKind.POSTMORTEM,
        text=f"Post-mortem returned to draft by {_name(by)}.",
        author=by,
    )
    return postmortem


@transaction.atomic
def postmortem_publish(*, postmortem: PostMortem, by) -> PostMortem:
    """Publish a reviewed post-mortem; from then on it is searchable and final, and a
    SEV1/SEV2 incident may close."""
    _lock_postmortem(postmortem)
    _move_postmortem(postmortem, PostMortemStatus.PUBLISHED)
    postmortem.published_at = timezone.now()
    postmortem.full_clean()
    postmortem.save()
    timeline_entry_add(
        incident=postmortem.incident,
        kind=TimelineKind.POSTMORTEM,
        text=f"Post-mortem published by {_name(by)}.",
        author=by,
    )
    return postmortem


def _set_completion(action_item: ActionItem, previous_status: str | None) -> None:
    """Done items remember when they were done; anything else has no completion time."""
    if action_item.status != ActionItemStatus.DONE:
        action_item.completed_at = None
    elif previous_status != ActionItemStatus.DONE or action_item.completed_at is None:
        action_item.completed_at = timezone.now()
    if action_item.status != ActionItemStatus.WONT_DO:
        action_item.wont_do_reason = ""


@transaction.atomic
def action_item_create(*, postmortem: PostMortem, **fields) -> ActionItem:
    action_item = ActionItem(postmortem=postmortem, **fields)
    _set_completion(action_item, None)
    action_item.full_clean()
    action_item.save()
    return action_item


@transaction.atomic
def action_item_update(*, action_item: ActionItem, **fields) -> ActionItem:
    """Change any of the item's fields, its status included (see action_item_set_status)."""
    unknown = set(fields) - ACTION_ITEM_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"action_item_update cannot change {', '.join(sorted(unknown))}")
    previous_status = action_item.status
    for name, value in fields.items():
        setattr(action_item, name, value)
    _set_completion(action_item, previous_status)
    action_item.full_clean()
    action_item.save()
    return action_item


def action_item_set_status(*, action_item: ActionItem, status: str, reason: str = "") -> ActionItem:
    """Move the item to a status; won't do needs the reason why."""
    return action_item_update(action_item=action_item, status=status, wont_do_reason=reason)
