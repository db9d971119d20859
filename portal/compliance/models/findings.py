from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from portal.compliance.choices import UNRESOLVED_STATUSES, FindingStatus, Severity
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.runs import ComplianceResult
from portal.compliance.schedule import local_today
from services.models.catalog import Service, Team


class ComplianceFinding(models.Model):
    """A failed check on a service, for its owner team to deal with by the due date.

    At most one unresolved finding exists per check and service: further failures update it,
    a pass resolves it, and a failure after that reopens it. An SRE lead may accept the risk
    for a while, with a reason and an expiry.
    """

    compliance_check = models.ForeignKey(
        ComplianceCheck, on_delete=models.CASCADE, related_name="findings"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="compliance_findings"
    )
    team = models.ForeignKey(
        Team, null=True, on_delete=models.SET_NULL, related_name="compliance_findings"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(
        max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    opened_at = models.DateTimeField()
    due_date = models.DateField()
    first_result = models.ForeignKey(
        ComplianceResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_result = models.ForeignKey(
        ComplianceResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="acknowledged_compliance_findings",
    )
    risk_reason = models.TextField(blank=True, max_length=2000)
    risk_expires_on = models.DateField(null=True, blank=True)
    risk_accepted_at = models.DateTimeField(null=True, blank=True)
    risk_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accepted_compliance_risks",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    # The email to the owner team: claimed by stamping notified_at while it is empty.
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_error = models.TextField(blank=True)
    history = HistoricalRecords(excluded_fields=["last_result", "notified_at", "notify_error"])

    class Meta:
        ordering = ["due_date", "-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["compliance_check", "service"],
                condition=models.Q(status__in=UNRESOLVED_STATUSES),
                name="compliance_finding_one_unresolved",
                violation_error_message="This check already has an unresolved finding here.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=FindingStatus.ACCEPTED_RISK)
                | (models.Q(risk_expires_on__isnull=False) & ~models.Q(risk_reason="")),
                name="compliance_finding_accepted_risk_explained",
                violation_error_message="An accepted risk needs a reason and an expiry date.",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "status"], name="compliance_finding_team"),
        ]

    def __str__(self):
        return f"{self.compliance_check} on {self.service} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("compliance_finding_detail", args=[self.pk])

    @property
    def is_unresolved(self) -> bool:
        return self.status in UNRESOLVED_STATUSES

    def clean(self):
        if self.status == FindingStatus.ACCEPTED_RISK:
            errors = {}
            if not self.risk_reason.strip():
                errors["risk_reason"] = "Say why the risk is accepted."
            if self.risk_expires_on is None:
                errors["risk_expires_on"] = "Say until when the risk is accepted."
            elif self.risk_accepted_at and self.risk_expires_on <= local_today(
                self.risk_accepted_at
            ):
                errors["risk_expires_on"] = "The acceptance must end after today."
            if errors:
                raise ValidationError(errors)
