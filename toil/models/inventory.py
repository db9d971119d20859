"""The toil inventory: what repetitive manual work each team does (ToilItem), the time people
log against it (ToilEntry), each team's capacity, and the monthly figures a worker keeps
(TeamToilMonth) with the marks that tell it what to recompute (TeamToilMonthDirty)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Cast, Lower
from django.urls import reverse
from simple_history.models import HistoricalRecords

from portal.timezones import portal_date, portal_today
from services.models.catalog import Service, Team
from toil import roi
from toil.choices.toil import (
    CHARACTERISTIC_FIELDS,
    CHARACTERISTICS,
    FrequencyUnit,
    ToilCategory,
    ToilStatus,
)

DESCRIPTION_MAX_LENGTH = 5000
MAX_FREQUENCY = 10_000
MAX_MINUTES_EACH = 7 * 24 * 60
MAX_MINUTES_LOGGED = 24 * 60
MAX_SERVICES_PER_ITEM = 50


def _monthly_minutes() -> models.Expression:
    """Monthly minutes in SQL, in the order toil.roi.monthly_minutes multiplies, so that the
    stored figure and the pure function agree to the last bit."""
    per_occurrence = Cast("frequency", models.FloatField()) * Cast(
        "minutes_each", models.FloatField()
    )
    return models.Case(
        models.When(
            frequency_unit=FrequencyUnit.WEEK,
            then=per_occurrence * models.Value(52.0) / models.Value(12.0),
        ),
        default=per_occurrence,
        output_field=models.FloatField(),
    )


class ToilItem(models.Model):
    """A piece of repetitive manual work a team does, how often and how long it takes, how
    far it could be automated, and where its automation stands.

    Monthly minutes, the ROI score of automating it (monthly minutes times automation potential)
    and the payback of the estimated automation effort (in months of the monthly hours) are
    computed by the database from the fields they derive from, so every write path agrees
    with toil.roi. An item stays with its team; once automated its date and its baseline
    (the monthly hours it took before) are kept, from which the hours it saves are measured.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="toil_items")
    services = models.ManyToManyField(
        Service, related_name="toil_items", blank=True, help_text="The services it concerns."
    )
    task = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(
        max_length=20, choices=ToilCategory.choices, default=ToilCategory.MANUAL_OPERATIONS
    )
    frequency = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FREQUENCY)],
        help_text="How many times it comes round per week or per month.",
    )
    frequency_unit = models.CharField(
        max_length=5, choices=FrequencyUnit.choices, default=FrequencyUnit.MONTH
    )
    minutes_each = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES_EACH)],
        help_text="Minutes it takes each time.",
    )
    automation_potential = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1 (hardly) to 5 (entirely automatable).",
    )
    manual = models.BooleanField(default=True, help_text=CHARACTERISTICS[0][2])
    repetitive = models.BooleanField(default=True, help_text=CHARACTERISTICS[1][2])
    automatable = models.BooleanField(default=True, help_text=CHARACTERISTICS[2][2])
    tactical = models.BooleanField(default=True, help_text=CHARACTERISTICS[3][2])
    no_enduring_value = models.BooleanField(default=True, help_text=CHARACTERISTICS[4][2])
    grows_with_service = models.BooleanField(
        default=True, verbose_name="grows with the service", help_text=CHARACTERISTICS[5][2]
    )
    status = models.CharField(max_length=12, choices=ToilStatus.choices, default=ToilStatus.MANUAL)
    automation_effort_hours = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Estimated hours of work to automate it.",
    )
    automation_url = models.URLField(
        blank=True, verbose_name="automation link", help_text="The ticket or pull request."
    )
    automated_on = models.DateField(null=True, blank=True)
    baseline_monthly_hours = models.FloatField(
        null=True,
        blank=True,
        help_text="Monthly hours before it was automated: the last three months of logged "
        "time, or the estimate when none was logged.",
    )
    retired_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    monthly_minutes = models.GeneratedField(
        expression=_monthly_minutes(), output_field=models.FloatField(), db_persist=True
    )
    roi_score = models.GeneratedField(
        expression=_monthly_minutes() * Cast("automation_potential", models.FloatField()),
        output_field=models.FloatField(),
        db_persist=True,
    )
    payback_months = models.GeneratedField(
        expression=Cast("automation_effort_hours", models.FloatField())
        * models.Value(60.0)
        / _monthly_minutes(),
        output_field=models.FloatField(),
        db_persist=True,
    )

    history = HistoricalRecords(
        excluded_fields=["updated_at", "monthly_minutes", "roi_score", "payback_months"]
    )

    class Meta:
        ordering = ["team__name", "task"]
        constraints = [
            models.UniqueConstraint(
                "team",
                Lower("task"),
                name="toil_item_unique_task_per_team",
                violation_error_message="The team already has a toil item with this task.",
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__gte=1, frequency__lte=MAX_FREQUENCY),
                name="toil_item_frequency_range",
            ),
            models.CheckConstraint(
                condition=models.Q(minutes_each__gte=1, minutes_each__lte=MAX_MINUTES_EACH),
                name="toil_item_minutes_range",
            ),
            models.CheckConstraint(
                condition=models.Q(automation_potential__gte=1, automation_potential__lte=5),
                name="toil_item_potential_range",
            ),
            models.CheckConstraint(
                condition=models.Q(status=ToilStatus.AUTOMATED, automated_on__isnull=False)
                | (~models.Q(status=ToilStatus.AUTOMATED) & models.Q(automated_on__isnull=True)),
                name="toil_item_automated_has_date",
                violation_error_message="An automated item needs the date it was automated.",
            ),
            models.CheckConstraint(
                condition=models.Q(status=ToilStatus.RETIRED, retired_on__isnull=False)
                | (~models.Q(status=ToilStatus.RETIRED) & models.Q(retired_on__isnull=True)),
                name="toil_item_retired_has_date",
                violation_error_message="A retired item needs the date it was retired.",
            ),
        ]
        indexes = [
            models.Index(fields=["-roi_score"], name="toil_item_roi"),
            models.Index(fields=["team", "status"], name="toil_item_team_status"),
        ]

    def __str__(self):
        return self.task

    def get_absolute_url(self):
        return reverse("toil_item_detail", args=[self.pk])

    def clean(self):
        errors = {}
        self.task = (self.task or "").strip()
        if not self.task:
            errors["task"] = ["Name the task."]
        try:
            MaxLengthValidator(DESCRIPTION_MAX_LENGTH)(self.description)
        except ValidationError as error:
            errors["description"] = error.messages
        if errors:
            raise ValidationError(errors)

    # The derived figures, for an item whose generated fields are not loaded yet (unsaved).
    @property
    def monthly_hours(self) -> float:
        return roi.monthly_hours(self.frequency, self.frequency_unit, self.minutes_each)

    @property
    def characteristics(self) -> list[tuple[str, bool]]:
        return [(label, getattr(self, name)) for name, label, _ in CHARACTERISTICS]

    def _characteristic_flags(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in CHARACTERISTIC_FIELDS}

    @property
    def characteristics_met(self) -> int:
        return roi.characteristics_met(self._characteristic_flags())

    @property
    def may_not_be_toil(self) -> bool:
        return roi.may_not_be_toil(self._characteristic_flags())

    @property
    def frequency_display(self) -> str:
        return roi.format_frequency(self.frequency, self.frequency_unit)


def organisation_today(now=None):
    """Today in the organisation's time zone (settings.TIME_ZONE), whoever is looking: the
    day toil is logged for, items are automated on, and months begin by."""
    return portal_today() if now is None else portal_date(now)


def validate_not_in_future(day):
    if day > organisation_today():
        raise ValidationError("Toil cannot be logged for a day that has not come yet.")


class ToilEntry(models.Model):
    """Time a person spent on a toil item on a day, as they logged it. A person logs against
    their own team's items; the entry belongs to them."""

    item = models.ForeignKey(ToilItem, on_delete=models.CASCADE, related_name="entries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="toil_entries",
    )
    date = models.DateField(validators=[validate_not_in_future])
    minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES_LOGGED)]
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name_plural = "toil entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1, minutes__lte=MAX_MINUTES_LOGGED),
                name="toil_entry_minutes_range",
            ),
        ]
        indexes = [
            models.Index(fields=["item", "date"], name="toil_entry_item_date"),
            models.Index(fields=["user", "-date"], name="toil_entry_user_date"),
            models.Index(fields=["date"], name="toil_entry_date"),
        ]

    def __str__(self):
        return f"{self.minutes} min on {self.date:%Y-%m-%d}"

    @property
    def team_id(self):
        return self.item.team_id


class TeamToilCapacity(models.Model):
    """How many hours a month each engineer of a team works, where it is not the portal's
    default (settings.TOIL_HOURS_PER_ENGINEER): part-time teams, other working weeks."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, primary_key=True, related_name="toil_capacity"
    )
    hours_per_engineer = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(744)],
        help_text="Working hours per engineer per month.",
    )

    class Meta:
        verbose_name_plural = "team toil capacities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours_per_engineer__gte=1, hours_per_engineer__lte=744),
                name="toil_capacity_hours_range",
            ),
        ]

    def __str__(self):
        return f"{self.team}: {self.hours_per_engineer} h per engineer"


class TeamToilMonth(models.Model):
    """A team's toil figures for one calendar month (toil.roi.TeamMonthFigures) as the worker
    last computed them, or the organisation's when ``team`` is empty. Pages, the API and the
    monthly report read these instead of summing a month of logged time and incidents."""

    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="toil_months",
        help_text="Empty: the whole organisation.",
    )
    month = models.DateField(help_text="Its first day.")
    computed_at = models.DateTimeField()
    cap_percent = models.FloatField()
    engineers = models.PositiveIntegerField()
    hours_per_engineer = models.FloatField()
    capacity_hours = models.FloatField()
    estimated_hours = models.FloatField()
    logged_hours = models.FloatField()
    incident_hours = models.FloatField()
    measured_hours = models.FloatField()
    estimated_share = models.FloatField(null=True)
    share = models.FloatField(null=True)
    over_cap = models.BooleanField()
    by_category = models.JSONField(default=dict)
    hours_saved = models.FloatField()
    processes_automated = models.PositiveIntegerField()
    automated_hours = models.FloatField()
    identified_hours = models.FloatField()
    automation_coverage = models.FloatField(null=True)

    #: The figures' fields, in the order of toil.roi.TeamMonthFigures.
    FIGURES = (
        "month",
        "cap_percent",
        "engineers",
        "hours_per_engineer",
        "capacity_hours",
        "estimated_hours",
        "logged_hours",
        "incident_hours",
        "measured_hours",
        "estimated_share",
        "share",
        "over_cap",
        "by_category",
        "hours_saved",
        "processes_automated",
        "automated_hours",
        "identified_hours",
        "automation_coverage",
    )

    class Meta:
        ordering = ["-month", "team__name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "month"], name="unique_team_toil_month"),
            # NULLs are distinct to the constraint above: the organisation's rows need their own.
            models.UniqueConstraint(
                fields=["month"],
                condition=models.Q(team=None),
                name="unique_organisation_toil_month",
            ),
        ]
        indexes = [models.Index(fields=["month", "-share"], name="toil_month_share")]

    def __str__(self):
        return f"{self.team or 'Organisation'}, {self.month:%B %Y}"

    def figures(self) -> roi.TeamMonthFigures:
        return roi.TeamMonthFigures(**{name: getattr(self, name) for name in self.FIGURES})


class TeamToilMonthDirty(models.Model):
    """A team's month whose figures changed since the worker last computed them (time logged,
    an item changed, an incident's roles, the team's members). Marking is an upsert of the
    time; the recompute deletes a mark only if it was not marked again meanwhile."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "month"], name="unique_team_toil_month_dirty")
        ]

    def __str__(self):
        return f"{self.team_id} {self.month:%Y-%m} marked at {self.marked_at:%H:%M:%S}"
