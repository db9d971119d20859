"""Deployments reported by pipelines, the incidents they caused, and the DORA figures a worker
keeps from them."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from incidents.models.incidents import Incident
from services.models.catalog import Service, Team
from toil.choices.changes import PRODUCTION, DeploymentStatus
from toil.models.changes import ChangeRequest

#: Clocks of pipelines drift: a finish this far ahead of the portal's clock is still believed.
FUTURE_TOLERANCE = timedelta(minutes=5)
#: A deployment lists at most this many commits (the first commit's time is what counts).
MAX_COMMITS = 500


def _commits_error(commits) -> str | None:
    """What is wrong with a deployment's commits, if anything: a list of at most MAX_COMMITS
    objects, each with its "sha" (the admin takes any JSON)."""
    shape = 'A list of commits, each {"sha": …, "committed_at": …}.'
    if not isinstance(commits, list):
        return shape
    if len(commits) > MAX_COMMITS:
        return f"At most {MAX_COMMITS} commits."
    if not all(
        isinstance(commit, dict) and isinstance(commit.get("sha"), str) for commit in commits
    ):
        return shape
    return None


class Deployment(models.Model):
    """A version of a service put into an environment by a pipeline, and how it went.

    Unique per (service, environment, version): a pipeline that reports the same deployment
    twice updates it rather than counting it twice. ``first_commit_at`` is the oldest commit's
    time, from which DORA's lead time counts.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="deployments")
    environment = models.CharField(max_length=50, default=PRODUCTION)
    version = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=DeploymentStatus.choices)
    commits = models.JSONField(
        default=list, blank=True, help_text="[{sha, committed_at}], as the pipeline sent them."
    )
    first_commit_at = models.DateTimeField(null=True, blank=True)
    change = models.ForeignKey(
        ChangeRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deployments",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_deployments",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-finished_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "environment", "version"],
                name="unique_deployment_version",
                violation_error_message="This version was already deployed to this environment.",
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__gte=models.F("started_at")),
                name="deployment_finishes_after_start",
                violation_error_message="A deployment finishes after it starts.",
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "-finished_at"], name="deployment_env_finished"),
            models.Index(fields=["service", "-finished_at"], name="deployment_service_finished"),
        ]

    def __str__(self):
        return f"{self.service} {self.version} to {self.environment}"

    @property
    def team_id(self):
        return self.service.owner_team_id

    def clean(self):
        errors = {}
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            errors["finished_at"] = "A deployment cannot finish before it started."
        if self.first_commit_at and self.finished_at and self.first_commit_at > self.finished_at:
            errors["first_commit_at"] = "The first commit cannot come after the deployment."
        if self.finished_at and self.finished_at > timezone.now() + FUTURE_TOLERANCE:
            errors["finished_at"] = "A deployment cannot finish in the future."
        if message := _commits_error(self.commits):
            errors["commits"] = message
        if errors:
            raise ValidationError(errors)

    @property
    def lead_time(self):
        if self.first_commit_at is None:
            return None
        return self.finished_at - self.first_commit_at


class IncidentCause(models.Model):
    """The deployment that caused an incident. Kept here rather than on the incident: the
    incidents app knows nothing of deployments. An incident has at most one cause."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="cause")
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="caused_incidents"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_causes",
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-linked_at", "-id"]

    def __str__(self):
        return f"{self.incident.reference} caused by {self.deployment}"

    def clean(self):
        if (
            self.incident_id
            and self.deployment_id
            and self.deployment.started_at > self.incident.started_at
        ):
            raise ValidationError(
                {
                    "deployment": "The deployment started after the incident did: it cannot be "
                    "its cause."
                }
            )


class DoraSnapshot(models.Model):
    """The DORA figures of one scope and month as the worker last computed them
    (toil.actions.deployments.dora_snapshots_recompute): the organisation's, a team's or a
    service's. ``key`` names the scope ("organisation", "team:<id>", "service:<id>") so that
    every row has one unique key to upsert on. Durations in seconds."""

    key = models.CharField(max_length=40)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="dora_snapshots"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="dora_snapshots"
    )
    month = models.DateField(help_text="The month's first day.")
    computed_at = models.DateTimeField()
    deployments = models.PositiveIntegerField(default=0)
    successful = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    rework = models.PositiveIntegerField(default=0)
    days = models.PositiveSmallIntegerField(default=1)
    lead_time = models.FloatField(null=True)
    recovery_time = models.FloatField(null=True)
    recovered = models.PositiveIntegerField(default=0)
    unrecovered = models.PositiveIntegerField(default=0)

    FIGURE_FIELDS = (
        "deployments",
        "successful",
        "failures",
        "rework",
        "days",
        "lead_time",
        "recovery_time",
        "recovered",
        "unrecovered",
    )

    class Meta:
        ordering = ["key", "month"]
        constraints = [
            models.UniqueConstraint(fields=["key", "month"], name="unique_dora_scope_month"),
        ]

    def __str__(self):
        return f"{self.key} {self.month:%Y-%m}"


class DoraDirtyMonth(models.Model):
    """A month whose DORA figures are out of date: marked (again) by every deployment or
    incident change that touches it, cleared by the recompute that read it."""

    month = models.DateField(primary_key=True)
    marked_at = models.DateTimeField()

    def __str__(self):
        return f"{self.month:%Y-%m}"
