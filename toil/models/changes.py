"""Change requests and their approvals, freeze windows, and the deploy gate's records."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models.incidents import Incident
from portal.links import link
from portal.timezones import time_zone_error
from services.models.catalog import Service, Team
from toil import freezes
from toil.choices.changes import (
    CHECKLIST_LABELS,
    ApprovalDecision,
    ApproverRole,
    ChangeCategory,
    ChangeEventKind,
    ChangeNotificationKind,
    ChangeStatus,
    FreezeScope,
    GateDecisionKind,
)

#: Long texts stay readable, and a request body stays bounded.
TEXT_MAX_LENGTH = 10_000
#: A change touches a handful of services; more is a mistake (each is checked by the gate).
MAX_SERVICES_PER_CHANGE = 50


def _zone_errors(name: str) -> dict:
    message = time_zone_error(name)
    return {"time_zone": message} if message else {}


class ChangeRequest(models.Model):
    """A change to production that people approve before (or, for an emergency, just after)
    it is made: what, where, when, how risky, and how to undo it.

    Its owning team (``team``) is the team of its first service; the team scopes who may edit
    it. The window is stored in UTC and was planned in ``time_zone``. Status changes go
    through toil.actions.changes and toil.actions.approvals, which check them (toil.approvals)
    and write the timeline.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    category = models.CharField(max_length=20, choices=ChangeCategory.choices)
    status = models.CharField(
        max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.DRAFT
    )
    services = models.ManyToManyField(Service, related_name="change_requests")
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="change_requests",
        verbose_name="owning team",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_change_requests",
    )
    implementer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="implemented_change_requests",
    )
    window_start = models.DateTimeField("planned start")
    window_end = models.DateTimeField("planned end")
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="The zone the window was planned in."
    )
    rollback_plan = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
        help_text="How to undo it. Required unless the change is low-risk.",
    )
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
        verbose_name="linked incident",
        help_text="Required for an emergency change: the incident it responds to.",
    )
    checklist = models.JSONField(
        default=dict,
        blank=True,
        help_text="Ticked release-checklist items: key → who ticked it and when.",
    )

    customer_facing = models.BooleanField(default=False, help_text="Customers will notice it.")
    data_migration = models.BooleanField(default=False, help_text="It migrates stored data.")
    rollback_tested = models.BooleanField(default=False, help_text="The rollback was rehearsed.")
    tested_in_staging = models.BooleanField(default=False)
    outside_working_hours = models.BooleanField(default=False)
    risk_score = models.PositiveSmallIntegerField(default=0)
    risk_level = models.CharField(max_length=10, default="low")

    conflicts = models.JSONField(
        default=list,
        blank=True,
        help_text="What the change conflicted with when it was scheduled, as acknowledged.",
    )
    overridden_freezes = models.ManyToManyField(
        "FreezeWindow",
        blank=True,
        related_name="overriding_changes",
        help_text="Freezes it was scheduled into by someone allowed to override them.",
    )

    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    implemented_at = models.DateTimeField(
        null=True, blank=True, help_text="When its implementation started."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
        help_text="The post-implementation review: what happened and what was learned.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at", "checklist"])

    class Meta:
        ordering = ["-window_start", "-id"]
        indexes = [
            models.Index(fields=["status", "-window_start"], name="change_status_window"),
            models.Index(fields=["window_start", "window_end"], name="change_window"),
            models.Index(fields=["-window_start", "-id"], name="change_newest"),
            # Emergencies that still collect approvals after their implementation: what awaits
            # an approver, without reading every finished change.
            models.Index(
                fields=["implemented_at"],
                condition=models.Q(category=ChangeCategory.EMERGENCY, approved_at__isnull=True),
                name="change_emergency_unapproved",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="change_window_ends_after_start",
                violation_error_message="The window must end after it starts.",
            ),
            models.CheckConstraint(
                condition=~models.Q(category=ChangeCategory.EMERGENCY)
                | models.Q(incident__isnull=False),
                name="emergency_change_has_incident",
                violation_error_message="An emergency change needs its incident.",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self):
        return link("change_detail", self.pk)

    def clean(self):
        errors = _zone_errors(self.time_zone)
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            errors["window_end"] = "The window must end after it starts."
        if self.category == ChangeCategory.EMERGENCY and self.incident_id is None:
            errors["incident"] = "An emergency change needs the incident it responds to."
        if self.category != ChangeCategory.LOW_RISK and not self.rollback_plan.strip():
            errors["rollback_plan"] = "Say how to undo it: required unless the change is low-risk."
        unknown = set(self.checklist) - set(CHECKLIST_LABELS)
        if unknown:
            errors["checklist"] = f"Unknown checklist items: {', '.join(sorted(unknown))}."
        if errors:
            raise ValidationError(errors)

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def is_draft(self) -> bool:
        return self.status == ChangeStatus.DRAFT


class ChangeApproval(models.Model):
    """One person's decision on a change: approve, or reject with a comment. One per person;
    ``role`` says in which capacity they decided (toil.approvals.approver_role)."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="change_approvals"
    )
    decision = models.CharField(max_length=10, choices=ApprovalDecision.choices)
    role = models.CharField(max_length=30, choices=ApproverRole.choices)
    comment = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "approver"],
                name="one_decision_per_approver",
                violation_error_message="You have already decided on this change.",
            ),
            models.CheckConstraint(
                condition=models.Q(decision=ApprovalDecision.APPROVE) | ~models.Q(comment=""),
                name="rejection_has_comment",
                violation_error_message="A rejection needs a comment.",
            ),
        ]

    def __str__(self):
        return f"{self.change}: {self.get_decision_display()} by {self.approver}"

    def clean(self):
        if self.decision == ApprovalDecision.REJECT and not self.comment.strip():
            raise ValidationError({"comment": "Say why: a rejection needs a comment."})


class ChangeEvent(models.Model):
    """A dated entry of a change's timeline. Append-only."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="change_events",
        help_text="Empty for entries the portal wrote itself.",
    )
    kind = models.CharField(max_length=20, choices=ChangeEventKind.choices)
    from_status = models.CharField(max_length=20, choices=ChangeStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ChangeStatus.choices, blank=True)
    text = models.TextField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["change", "at"], name="change_event_change_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("A change's timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A change's timeline is append-only.")


class ChangeNotification(models.Model):
    """An email owed about a change: recorded with the change's transition, then sent once by
    a worker that claims it (``sent_at``); the sweep sends any whose ring was lost."""

    change = models.ForeignKey(
        ChangeRequest, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=ChangeNotificationKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="Why it could not be sent, when it could not.")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["change", "kind"], name="one_notification_per_kind"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True, error=""),
                name="change_notification_unsent",
            )
        ]

    def __str__(self):
        return f"{self.change}: {self.get_kind_display()}"


class FreezeWindow(models.Model):
    """A period in which changes do not ship: over the whole organisation, a team's services
    or one service; once (start to end) or repeating (the first occurrence is start to end,
    repeated by an RFC 5545 rule in ``time_zone``, toil.freezes). SRE leads and the people in
    ``overriders`` may schedule a change into it anyway."""

    name = models.CharField(max_length=150)
    reason = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    scope = models.CharField(
        max_length=20, choices=FreezeScope.choices, default=FreezeScope.ORGANISATION
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="freeze_windows"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="freeze_windows"
    )
    start = models.DateTimeField(help_text="Start of the (first) occurrence.")
    end = models.DateTimeField(help_text="End of the (first) occurrence.")
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="Where a repeating freeze's hours are kept."
    )
    recurrence = models.CharField(
        max_length=300,
        blank=True,
        help_text="Optional RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=FR (every week from the "
        "first occurrence's weekday) or FREQ=WEEKLY;BYDAY=FR;UNTIL=20261231T000000.",
    )
    overriders = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="overridable_freezes",
        help_text="Who may schedule a change into it, besides SRE leads.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_freezes",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="freeze_ends_after_start",
                violation_error_message="A freeze ends after it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    scope=FreezeScope.ORGANISATION, team__isnull=True, service__isnull=True
                )
                | models.Q(scope=FreezeScope.TEAM, team__isnull=False, service__isnull=True)
                | models.Q(scope=FreezeScope.SERVICE, team__isnull=True, service__isnull=False),
                name="freeze_scope_matches_target",
                violation_error_message="A freeze covers the organisation, one team or one "
                "service, as its scope says.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return link("freeze_detail", self.pk)

    def clean(self):
        errors = _zone_errors(self.time_zone)
        if self.start and self.end and self.end <= self.start:
            errors["end"] = "A freeze ends after it starts."
        if message := freezes.recurrence_error(self.recurrence):
            errors["recurrence"] = message
        errors |= freezes.scope_errors(self.scope, team=self.team_id, service=self.service_id)
        if errors:
            raise ValidationError(errors)

    def rule(self) -> freezes.FreezeRule:
        return freezes.FreezeRule(
            key=self.pk,
            start=self.start,
            end=self.end,
            time_zone=self.time_zone,
            recurrence=self.recurrence,
        )

    def scope_label(self) -> str:
        if self.scope == FreezeScope.TEAM and self.team_id:
            return f"team {self.team.name}"
        if self.scope == FreezeScope.SERVICE and self.service_id:
            return self.service.name
        return "the whole organisation"


class GateDecision(models.Model):
    """One answer of the deploy gate, as given: who asked about what, and why it decided so."""

    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="gate_decisions",
    )
    asked_at = models.DateTimeField(default=timezone.now, db_index=True)
    services = models.ManyToManyField(
        Service, through="GateDecisionService", related_name="gate_decisions"
    )
    category = models.CharField(max_length=20, choices=ChangeCategory.choices)
    change = models.ForeignKey(
        ChangeRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gate_decisions",
    )
    version = models.CharField(max_length=100, blank=True)
    decision = models.CharField(max_length=20, choices=GateDecisionKind.choices)
    reasons = models.JSONField(default=list)

    class Meta:
        ordering = ["-asked_at", "-id"]

    def __str__(self):
        return f"{self.get_decision_display()} at {self.asked_at:%Y-%m-%d %H:%M}"


class GateDecisionService(models.Model):
    """A service a gate decision was about; the time is kept here too, so that a service's
    latest decisions are one index scan."""

    decision = models.ForeignKey(GateDecision, on_delete=models.CASCADE)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, db_index=False)
    asked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "service"], name="unique_gate_service"),
        ]
        indexes = [models.Index(fields=["service", "-asked_at"], name="gate_service_newest")]

    def __str__(self):
        return f"{self.service_id} in decision {self.decision_id}"


class GateOverride(models.Model):
    """An SRE lead lets a service's deploys through the gate's denials for a while, with a
    reason; audited (history) and named in every answer it affects."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="gate_overrides")
    reason = models.TextField(validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="gate_overrides",
    )
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="override_expires_after_start",
                violation_error_message="An override expires after it starts.",
            ),
        ]
        indexes = [models.Index(fields=["service", "expires_at"], name="override_service_expiry")]

    def __str__(self):
        return f"{self.service}: until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def team_id(self):
        return self.service.owner_team_id

    def clean(self):
        if not self.reason.strip():
            raise ValidationError({"reason": "Say why the gate is overridden."})
        if self.starts_at and self.expires_at:
            if self.expires_at <= self.starts_at:
                raise ValidationError({"expires_at": "An override expires after it starts."})
            hours = settings.GATE_OVERRIDE_MAX_HOURS
            if (self.expires_at - self.starts_at).total_seconds() > hours * 3600:
                raise ValidationError({"expires_at": f"An override lasts at most {hours} hours."})

    def active_at(self, moment) -> bool:
        return self.revoked_at is None and self.starts_at <= moment < self.expires_at
