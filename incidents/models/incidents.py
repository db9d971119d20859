"""Incidents, their severities, timeline, alerts and status updates."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents import limits
from incidents.choices import (
    OPEN_STATUSES,
    POSTMORTEM_REQUIRED_SEVERITIES,
    AlertStatus,
    IncidentSource,
    IncidentStatus,
    PostMortemStatus,
    Severity,
    StatusUpdateKind,
    TimelineKind,
)
from incidents.lifecycle import TIMESTAMP_ORDER
from portal.links import link
from services.models.catalog import Service, Team


def bounded_text(max_length: int) -> dict:
    """A TextField's arguments for a maximum the model enforces too (Django leaves a
    TextField's ``max_length`` to forms), so the API, the admin and imports meet it."""
    return {"max_length": max_length, "validators": [MaxLengthValidator(max_length)]}


class SeverityLevel(models.Model):
    """What a severity means and how fast someone must respond; SRE leads edit these."""

    code = models.CharField(max_length=4, choices=Severity.choices, primary_key=True)
    name = models.CharField(max_length=50)
    description = models.TextField(**bounded_text(limits.SEVERITY_DESCRIPTION_MAX_LENGTH))
    response_minutes = models.PositiveIntegerField(
        help_text="How soon after detection someone must be working on it."
    )

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class IncidentReferenceCounter(models.Model):
    """The last incident number handed out in a year; its row is locked while a number
    is taken, so numbers are unique and, since a rolled-back declaration rolls the
    counter back too, gap-free."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


#: 0 for open incidents, 1 for the rest: lists show open incidents first. The same expression
#: is indexed (with the start, newest first), so a page of the list reads only its rows.
OPEN_FIRST = models.Case(
    models.When(status__in=sorted(OPEN_STATUSES), then=models.Value(0)),
    default=models.Value(1),
    output_field=models.IntegerField(),
)


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Incident(models.Model):
    """Something that hurt (or threatens) users, and the response to it.

    The owning team (``team``) is the team of the first affected service named when it
    was declared, else the declaring engineer's team; the team scopes who may edit it.
    Timestamps run started ≤ detected ≤ acknowledged ≤ mitigated ≤ resolved ≤ closed.
    """

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=limits.TITLE_MAX_LENGTH)
    summary = models.TextField(blank=True, **bounded_text(limits.SUMMARY_MAX_LENGTH))
    severity = models.CharField(max_length=4, choices=Severity.choices)
    status = models.CharField(
        max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    services = models.ManyToManyField(Service, related_name="incidents", blank=True)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        verbose_name="owning team",
    )

    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commanded_incidents",
        verbose_name="incident commander",
    )
    tech_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tech_led_incidents",
    )
    communications_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="communications_led_incidents",
    )
    scribe = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scribed_incidents",
    )

    started_at = models.DateTimeField(help_text="When users started to be affected.")
    detected_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="When a person took charge of it."
    )
    mitigated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the user impact stopped."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    users_affected = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)]
    )
    impact = models.TextField(
        blank=True,
        help_text="Who was affected and how.",
        **bounded_text(limits.IMPACT_MAX_LENGTH),
    )

    source = models.CharField(
        max_length=10, choices=IncidentSource.choices, default=IncidentSource.MANUAL
    )
    alert_group_key = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Alertmanager's group key of the alerts that opened it; "
        "at most one open incident per key.",
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="declared_incidents",
        help_text="Empty when an alert opened it.",
    )
    subscribers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="subscribed_incidents",
        blank=True,
        help_text="People who receive its status updates.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-started_at"], name="incident_status_started"),
            models.Index(fields=["-started_at"], name="incident_started"),
            models.Index(
                OPEN_FIRST,
                models.F("started_at").desc(),
                models.F("id").desc(),
                name="incident_open_first",
            ),
            models.Index(fields=["alert_group_key"], name="incident_alert_group_key"),
        ]
        constraints = [
            # The same alerts may fire again after an incident is over: that is a new
            # incident, so the key is unique among open incidents only.
            models.UniqueConstraint(
                fields=["alert_group_key"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES))
                & ~models.Q(alert_group_key=""),
                name="one_open_incident_per_alert_group",
                violation_error_message="An open incident already exists for this alert group.",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return link("incident_detail", self.reference)

    def clean(self):
        if self.source == IncidentSource.ALERT and not self.alert_group_key:
            raise ValidationError(
                {"alert_group_key": "An incident opened by an alert needs its group key."}
            )
        errors = {}
        now = timezone.now()
        earlier_name, earlier = None, None
        for name in TIMESTAMP_ORDER:
            value = getattr(self, name)
            if value is None:
                continue
            label = self._meta.get_field(name).verbose_name
            problem = limits.implausible_time(value, now=now, written=self.created_at)
            if problem:
                errors[name] = f"The {label} time {problem}"
                continue
            if earlier is not None and value < earlier:
                earlier_label = self._meta.get_field(earlier_name).verbose_name
                errors[name] = f"The {label} time cannot be before the {earlier_label} time."
            earlier_name, earlier = name, value
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def postmortem_required(self) -> bool:
        return self.severity in POSTMORTEM_REQUIRED_SEVERITIES

    @property
    def has_published_postmortem(self) -> bool:
        postmortem = getattr(self, "postmortem", None)
        return postmortem is not None and postmortem.status == PostMortemStatus.PUBLISHED

    def duration(self, now=None):
        """Time from start to resolution (or to now while unresolved)."""
        return (self.resolved_at or now or timezone.now()) - self.started_at


class IncidentAlert(models.Model):
    """One alert (by Alertmanager fingerprint) seen on an incident, and its last state."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=100)
    status = models.CharField(
        max_length=10, choices=AlertStatus.choices, default=AlertStatus.FIRING
    )
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "fingerprint"], name="unique_incident_alert_fingerprint"
            ),
        ]

    def __str__(self):
        return f"{self.labels.get('alertname', self.fingerprint)} ({self.status})"


class TimelineEntry(models.Model):
    """A dated event in an incident's story. Append-only: once written only its key-event
    mark (``pinned``) may change, and it is never deleted on its own."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="timeline_entries"
    )
    at = models.DateTimeField(default=timezone.now, help_text="When it happened.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_timeline_entries",
        help_text="Empty for entries the portal wrote itself.",
    )
    kind = models.CharField(max_length=20, choices=TimelineKind.choices, default=TimelineKind.NOTE)
    text = models.TextField(**bounded_text(limits.TIMELINE_TEXT_MAX_LENGTH))
    pinned = models.BooleanField(default=False, help_text="A key event of the incident.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["incident", "at"], name="timeline_incident_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding and set(kwargs.get("update_fields") or ()) != {"pinned"}:
            raise ValidationError("Timeline entries are append-only; only pinning may change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Timeline entries are append-only and cannot be deleted.")

    def clean(self):
        problem = limits.implausible_time(self.at, now=timezone.now(), written=self.created_at)
        if problem:
            raise ValidationError({"at": f"The time of an entry {problem}"})

    @property
    def team_id(self):
        return self.incident.team_id


class StatusUpdate(models.Model):
    """A message to stakeholders about an incident, and how its sending goes.

    Sending is work recorded here, not in the broker (incidents.actions.status_updates): an
    update is due while it is neither sent nor failed and its next attempt has come; a
    worker *claims* it (``claimed_at``) before talking to the mail server, so a duplicated or
    retried task finds it taken and sends nothing. ``sent_at`` is written only once the
    server accepted the message; ``failed_at`` once trying again is pointless (a permanent
    refusal, or the last attempt failed), with ``last_error`` saying why.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_updates")
    kind = models.CharField(max_length=20, choices=StatusUpdateKind.choices)
    subject = models.CharField(max_length=limits.STATUS_UPDATE_SUBJECT_MAX_LENGTH)
    body = models.TextField(**bounded_text(limits.STATUS_UPDATE_BODY_MAX_LENGTH))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_status_updates",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the mail server accepted it."
    )
    recipients = models.JSONField(
        default=list, blank=True, help_text="The email addresses it was sent to."
    )
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a worker took it to send; empty between attempts. A claim older than "
        "a task may run belongs to a worker that died, and is taken again.",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="After a failed attempt: when it is tried again."
    )
    last_error = models.CharField(
        max_length=500, blank=True, help_text="Why the last attempt failed."
    )
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the portal gave up sending it."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's question: which updates are still to be sent?
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at=None, failed_at=None),
                name="status_update_unsent",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sent_at=None) | models.Q(failed_at=None),
                name="status_update_sent_or_failed",
                violation_error_message="A status update is either sent or failed, not both.",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def team_id(self):
        return self.incident.team_id

    @property
    def delivery(self) -> str:
        """Where its sending stands: sent, failed, retrying (an attempt failed, another is
        coming), sending (a worker holds it) or queued (waiting for a worker)."""
        if self.sent_at is not None:
            return "sent"
        if self.failed_at is not None:
            return "failed"
        if self.claimed_at is not None:
            return "sending"
        if self.attempts:
            return "retrying"
        return "queued"
