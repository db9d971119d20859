"""Service maturity scorecards: versioned rule sets over the named checks, each service's
result (level, score, every rule's outcome), exemptions, campaigns and the weekly history."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from services.choices import ExemptionStatus, Tier
from services.models.catalog import Service, Team, validate_not_reserved

_PERSON = {"null": True, "blank": True, "on_delete": models.SET_NULL, "related_name": "+"}


class Scorecard(models.Model):
    """One version of a scorecard: ordered levels and rules over named checks. Versioned like
    readiness checklists; the newest version of each key is the one services are scored on."""

    key = models.SlugField(max_length=100)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64)
    source_name = models.CharField(max_length=255, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="unique_scorecard_version")
        ]

    def __str__(self):
        return f"{self.title} (v{self.version})"


class ScorecardLevel(models.Model):
    """A level of a scorecard; rank 1 is the lowest. A service holds the highest level whose
    rules, and every lower level's, it passes."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="levels")
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["scorecard", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "rank"], name="unique_level_rank"),
            models.UniqueConstraint(fields=["scorecard", "name"], name="unique_level_name"),
        ]

    def __str__(self):
        return self.name


class ScorecardRule(models.Model):
    """A named check counted at a level, with its weight in the 0 to 100 score."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="rules")
    level = models.ForeignKey(ScorecardLevel, on_delete=models.CASCADE, related_name="rules")
    check_name = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["scorecard", "level__rank", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "check_name"], name="unique_scorecard_rule"
            )
        ]

    def __str__(self):
        return self.title


class ServiceChecks(models.Model):
    """Every registered check's last outcome for one service ({check: [passed, reason, url]}),
    which scorecard results and open reviews' automatic criteria are computed from."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, primary_key=True, related_name="checks"
    )
    results = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "service checks"

    def __str__(self):
        return f"Checks of {self.service}"


class ServiceChecksDirty(models.Model):
    """A service whose checks must be run again, because something they read changed. One row
    per service however many changes come, so one task recomputes it once (the row is the
    record; the task rung on commit and the sweep only come to pick it up)."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    marked_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "services with checks to recompute"

    def __str__(self):
        return f"Service {self.service_id}, marked at {self.marked_at:%Y-%m-%d %H:%M:%S}"


class ScorecardResult(models.Model):
    """A service's standing on one scorecard version: level (rank 0 = below the first level),
    score 0 to 100, the failing rules (exempt ones pass) and every rule's outcome with its
    reason."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="scorecard_results")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="results")
    level = models.ForeignKey(
        ScorecardLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level_rank = models.PositiveSmallIntegerField(default=0)
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    failing = models.JSONField(default=list, help_text="Checks of the rules not passed.")
    outcomes = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["service__name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "scorecard"], name="unique_scorecard_result")
        ]
        indexes = [models.Index(fields=["scorecard", "level_rank"], name="scorecard_result_level")]

    def __str__(self):
        return f"{self.service} on {self.scorecard}: {self.score}"

    @property
    def team_id(self):
        return self.service.owner_team_id


class Exemption(models.Model):
    """A rule a service is excused from until a date, asked for by its team with a reason and
    approved by an SRE lead; while approved and unexpired the rule counts as passed. Keyed by
    the scorecard's key and the check, so it holds across scorecard versions."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="scorecard_exemptions"
    )
    scorecard_key = models.SlugField(max_length=100)
    check_name = models.CharField(max_length=100)
    reason = models.TextField()
    expires_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=ExemptionStatus.choices, default=ExemptionStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["expires_on", "id"]
        indexes = [models.Index(fields=["service", "status"], name="exemption_service_status")]

    def __str__(self):
        return f"{self.service}: {self.check_name} until {self.expires_on}"

    @property
    def team_id(self):
        return self.service.owner_team_id

    def clean(self):
        if not self.reason.strip():
            raise ValidationError({"reason": "Say why the service is exempt from this rule."})


def _validate_tiers(value):
    if not isinstance(value, list) or not value or any(tier not in Tier.values for tier in value):
        raise ValidationError("Name one or more tiers among 1, 2 and 3.")


class Campaign(models.Model):
    """A goal for part of the catalog: every service of the given tiers at a scorecard level by
    a date (e.g. every tier-1 service at Silver by the end of the quarter)."""

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True, validators=[validate_not_reserved])
    description = models.TextField(blank=True)
    scorecard_key = models.SlugField(max_length=100)
    target_level = models.CharField(max_length=50)
    tiers = models.JSONField(default=list, validators=[_validate_tiers])
    due_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("campaign_detail", args=[self.slug])

    def clean(self):
        scorecard = (
            Scorecard.objects.filter(key=self.scorecard_key).order_by("-version").first()
            if self.scorecard_key
            else None
        )
        if scorecard is None:
            raise ValidationError(
                {"scorecard_key": f"No scorecard has the key “{self.scorecard_key}”."}
            )
        names = list(scorecard.levels.order_by("rank").values_list("name", flat=True))
        if self.target_level not in names:
            raise ValidationError(
                {"target_level": f"{scorecard.title} has the levels {', '.join(names)}."}
            )


class ScorecardTrend(models.Model):
    """A week's snapshot of a scorecard for one team (or, with no team, the organisation): how
    many services, their average score and how many at each level. Feeds the trend charts."""

    scorecard_key = models.SlugField(max_length=100)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="scorecard_trends"
    )
    week = models.DateField(help_text="The Monday the week starts on.")
    services = models.PositiveIntegerField()
    average_score = models.FloatField(null=True)
    level_counts = models.JSONField(default=dict)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["scorecard_key", "week"]
        constraints = [
            # Rows without a team never conflict here (NULLs differ): the next one covers them.
            models.UniqueConstraint(
                fields=["scorecard_key", "team", "week"], name="unique_team_scorecard_week"
            ),
            models.UniqueConstraint(
                fields=["scorecard_key", "week"],
                condition=models.Q(team__isnull=True),
                name="unique_org_scorecard_week",
            ),
        ]

    def __str__(self):
        return f"{self.scorecard_key} {self.week}: {self.average_score}"
