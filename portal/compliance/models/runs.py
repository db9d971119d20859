from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from portal.compliance.choices import Outcome
from portal.compliance.models.checks import ComplianceCheck
from services.models.catalog import Service


class ComplianceResult(models.Model):
    """One run of a check on one service: the outcome, the measured value, the evidence
    (what was asked and answered) and when. An error carries its reason and is never a pass."""

    compliance_check = models.ForeignKey(
        ComplianceCheck, on_delete=models.CASCADE, related_name="results"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="compliance_results"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    value = models.FloatField(null=True, blank=True)
    detail = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    checked_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(
                fields=["compliance_check", "service", "-checked_at"],
                name="compliance_result_history",
            ),
            models.Index(fields=["checked_at"], name="compliance_result_time"),
        ]

    def __str__(self):
        return f"{self.compliance_check} on {self.service}: {self.get_outcome_display()}"

    @property
    def team_id(self):
        return self.service.owner_team_id


class ComplianceStatus(models.Model):
    """Where a check stands on one service: its last result and when it is next due (a cell
    of the compliance matrix). The worker claims a due status with a token before running it,
    so that a check is never run twice at once for a service."""

    compliance_check = models.ForeignKey(
        ComplianceCheck, on_delete=models.CASCADE, related_name="statuses"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="compliance_statuses"
    )
    last_result = models.ForeignKey(
        ComplianceResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(
        max_length=20, choices=Outcome.choices, blank=True, help_text="Empty until it has run."
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "compliance statuses"
        ordering = ["compliance_check__name", "service__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["compliance_check", "service"],
                name="compliance_status_per_check_and_service",
            ),
        ]
        indexes = [models.Index(fields=["due_at"], name="compliance_status_due")]

    def __str__(self):
        return f"{self.compliance_check} on {self.service}"

    def get_absolute_url(self):
        return reverse("compliance_history", args=[self.compliance_check.slug, self.service.slug])

    @property
    def team_id(self):
        return self.service.owner_team_id


class ComplianceAttestation(models.Model):
    """An engineer's statement that an attestation check holds for a service, with its
    evidence: it keeps the check passing through the rest of its period and the next."""

    compliance_check = models.ForeignKey(
        ComplianceCheck, on_delete=models.CASCADE, related_name="attestations"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="compliance_attestations"
    )
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compliance_attestations",
    )
    attested_at = models.DateTimeField()
    evidence_url = models.URLField("evidence link", blank=True, max_length=500)
    note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-attested_at", "-id"]
        indexes = [
            models.Index(
                fields=["compliance_check", "service", "-attested_at"],
                name="compliance_attestation_last",
            ),
        ]

    def __str__(self):
        return f"{self.compliance_check} on {self.service}, attested {self.attested_at:%Y-%m-%d}"

    @property
    def team_id(self):
        return self.service.owner_team_id

    def clean(self):
        if not self.evidence_url.strip() and not self.note.strip():
            raise ValidationError({"evidence_url": "Give the evidence: a link, a note, or both."})
