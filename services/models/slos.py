"""Service level objectives, the SLI data behind them and the snapshots computed from it."""

import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from portal.links import link
from portal.timezones import time_zone_error
from services.choices import (
    AlertState,
    BudgetingMethod,
    ChangeRule,
    QueryKind,
    SLIKind,
    SLISource,
    WindowKind,
)
from services.models.catalog import Service

#: SLI data is stored in buckets of this many minutes (services.budget.windows.BUCKET).
BUCKET_MINUTES = 5
#: Most events one bucket may count: 10^12 in 5 minutes is over three billion a second, beyond
#: any real service. The bound keeps every sum exact: a year of buckets adds up to about 10^17,
#: within a 64-bit integer, and a slice's sums stay within a double's exact integers.
MAX_BUCKET_EVENTS = 10**12
#: Where a query's range goes, as in Sloth: rate(x[{{.window}}]).
WINDOW_PLACEHOLDER = "{{.window}}"


def query_over(query: str, window: str) -> str:
    """A Sloth-form query with its range set, e.g. query_over(q, "5m")."""
    return query.strip().replace(WINDOW_PLACEHOLDER, window)


class BudgetPolicy(models.Model):
    """Named tiers of error budget remaining and what each means for changes.

    Every SLO follows one policy (the default one unless it names another); its
    snapshot carries the tier its budget is in, which the deploy gate reads.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(
        default=False, help_text="Followed by SLOs that name no policy of their own."
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "budget policies"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_budget_policy",
                violation_error_message="Another policy is already the default.",
            ),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def validate_tiers(tiers: Sequence["BudgetPolicyTier"]) -> None:
        """The rules a policy's set of tiers keeps, whatever writes it (the admin's inline
        formset, the API, imports): exactly one bottom tier (no floor), which holds every
        budget below the others, overspent ones included; floors that differ, so that the
        tiers have one order; names that differ."""
        errors = []
        if sum(tier.min_remaining is None for tier in tiers) != 1:
            errors.append("Exactly one tier, the bottom one, has no floor.")
        floors = [tier.min_remaining for tier in tiers if tier.min_remaining is not None]
        if len(set(floors)) != len(floors):
            errors.append("Each tier needs a floor of its own: two tiers share one.")
        names = [tier.name for tier in tiers]
        if len(set(names)) != len(names):
            errors.append("Tier names must differ.")
        if errors:
            raise ValidationError({"tiers": errors})


class BudgetPolicyTier(models.Model):
    """A band of budget remaining: from `min_remaining` (a fraction; the lowest tier has
    none) up to the next tier's floor. Healthy > 50 %, caution 10 to 50 %, frozen < 10 %
    is the default policy."""

    policy = models.ForeignKey(BudgetPolicy, on_delete=models.CASCADE, related_name="tiers")
    name = models.SlugField(max_length=50)
    min_remaining = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Lowest budget remaining in this tier, as a fraction (0.5 = 50 %). "
        "Empty for the bottom tier, which also holds overspent budgets.",
    )
    min_included = models.BooleanField(
        default=True, help_text="Whether a budget exactly at the floor belongs to this tier."
    )
    change_rule = models.CharField(max_length=20, choices=ChangeRule.choices)
    description = models.TextField(blank=True, help_text="What the team does in this tier.")

    class Meta:
        ordering = ["policy", models.F("min_remaining").desc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(fields=["policy", "name"], name="unique_tier_name"),
            models.UniqueConstraint(
                fields=["policy"],
                condition=models.Q(min_remaining__isnull=True),
                name="one_bottom_tier",
                violation_error_message="A policy has exactly one bottom tier.",
            ),
            models.UniqueConstraint(
                fields=["policy", "min_remaining"],
                name="unique_tier_floor",
                violation_error_message="Each tier of a policy has a floor of its own.",
            ),
        ]

    def __str__(self):
        return f"{self.policy}: {self.name}"


class SLO(models.Model):
    """An objective for one indicator of a service, with the queries that measure it.

    Queries follow Sloth's form: PromQL returning events per second, with `{{.window}}`
    where the range goes, e.g. sum(rate(http_requests_total{code!~"5.."}[{{.window}}])).
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="slos")
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150)
    description = models.TextField(blank=True)
    sli_kind = models.CharField(
        "SLI kind", max_length=20, choices=SLIKind.choices, default=SLIKind.AVAILABILITY
    )
    objective = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("99.9999"))],
        help_text="Target share of good events (or good slices) in percent, e.g. 99.9.",
    )
    window_kind = models.CharField(
        max_length=20, choices=WindowKind.choices, default=WindowKind.ROLLING
    )
    window_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="Length of a rolling window.",
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="Where calendar months begin and end."
    )
    budgeting_method = models.CharField(
        max_length=20, choices=BudgetingMethod.choices, default=BudgetingMethod.OCCURRENCES
    )
    slice_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=f"Timeslices only: slice length, a multiple of {BUCKET_MINUTES} minutes.",
    )
    slice_target = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("100"))],
        help_text="Timeslices only: percent of good events that makes a slice good.",
    )
    source = models.CharField(
        max_length=20,
        choices=SLISource.choices,
        default=SLISource.PROMETHEUS,
        help_text="Where the SLI data comes from: the queries below, synced from Prometheus, "
        "or buckets another system pushes to POST /api/slos/{id}/buckets/.",
    )
    query_kind = models.CharField(
        max_length=20, choices=QueryKind.choices, default=QueryKind.GOOD_TOTAL
    )
    # Required for an SLO synced from Prometheus (clean()); one fed by pushes needs none.
    events_query = models.TextField(
        blank=True,
        help_text="PromQL for good events (or bad events, per the query kind) per second.",
    )
    total_query = models.TextField(blank=True, help_text="PromQL for all events per second.")
    labels = models.JSONField(default=dict, blank=True)
    budget_policy = models.ForeignKey(
        BudgetPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="slos",
        help_text="Empty: the default policy.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "SLO"
        ordering = ["service__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "slug"], name="unique_slo_slug"),
            models.CheckConstraint(
                condition=models.Q(objective__gt=0, objective__lt=100),
                name="slo_objective_between_0_and_100",
            ),
        ]

    def __str__(self):
        return f"{self.service.name}: {self.name}"

    def get_absolute_url(self):
        return link("slo_detail", self.service.slug, self.slug)

    @property
    def team_id(self):
        return self.service.owner_team_id

    def clean(self):
        errors = {}
        if self.source == SLISource.PROMETHEUS:
            for field in ("events_query", "total_query"):
                if not getattr(self, field).strip():
                    errors[field] = "Required for an SLO synced from Prometheus."
        if self.events_query and self.events_query.strip() == self.total_query.strip():
            errors["total_query"] = "The two queries must differ."
        for field in ("events_query", "total_query"):
            query = getattr(self, field)
            # The sync and the exported rules put each range where the placeholder stands.
            if query and WINDOW_PLACEHOLDER not in query:
                errors.setdefault(field, f"Write {WINDOW_PLACEHOLDER} where the range goes.")
        if error := time_zone_error(self.time_zone):
            errors["time_zone"] = error
        if self.budgeting_method == BudgetingMethod.TIMESLICES:
            if not self.slice_minutes:
                errors["slice_minutes"] = "Required for timeslices."
            elif self.slice_minutes % BUCKET_MINUTES:
                errors["slice_minutes"] = f"Must be a multiple of {BUCKET_MINUTES} minutes."
            if self.slice_target is None:
                errors["slice_target"] = "Required for timeslices."
        else:
            for field in ("slice_minutes", "slice_target"):
                if getattr(self, field) is not None:
                    errors[field] = "Only timeslice SLOs have slices."
        if errors:
            raise ValidationError(errors)


class MaintenanceWindow(models.Model):
    """A planned period whose SLI data is left out of the SLO's figures."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="maintenance_windows")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="maintenance_ends_after_start",
                violation_error_message="A maintenance window ends after it starts.",
            ),
        ]

    def __str__(self):
        return f"{self.slo}: {self.reason}"


class SLIBucket(models.Model):
    """Good and total events of one SLO in one 5-minute bucket.

    Counts, not ratios, so that every window, month, timeslice and exclusion adds up
    exactly; unique per (SLO, start) so that a re-sync or a re-push never counts twice.
    """

    # No index of its own: the unique (slo, start) index serves every lookup by SLO, and a
    # second one tempts the planner into filtering a whole SLO's buckets for a time range.
    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="buckets", db_index=False)
    start = models.DateTimeField()
    good = models.BigIntegerField()
    total = models.BigIntegerField()

    class Meta:
        ordering = ["slo", "start"]
        constraints = [
            models.UniqueConstraint(fields=["slo", "start"], name="unique_sli_bucket"),
            models.CheckConstraint(
                condition=models.Q(good__gte=0, total__gte=models.F("good")),
                name="sli_bucket_counts_consistent",
                violation_error_message="Good events are between 0 and the total.",
            ),
            models.CheckConstraint(
                condition=models.Q(total__lte=MAX_BUCKET_EVENTS),
                name="sli_bucket_counts_bounded",
                violation_error_message=f"A bucket counts at most {MAX_BUCKET_EVENTS} events.",
            ),
        ]

    def __str__(self):
        return f"{self.slo} at {self.start:%Y-%m-%d %H:%M}: {self.good}/{self.total}"


class SLIRollup(models.Model):
    """The sums of one SLO's buckets over one UTC hour or day, kept up to date by every bucket
    write (services.sli.store.slo_buckets_upsert), so that a recompute reads a day of history as
    one row rather than 288 buckets wherever no window, month or maintenance boundary cuts it.

    For a timeslice SLO whose slices fit a whole number of times in the unit, the unit's slices
    are judged when it is written (`good_slices`, `bad_slices`), against the SLO's slice length
    and target at that moment; changing those re-sums the SLO's rollups."""

    class Span(models.IntegerChoices):
        HOUR = 3600, "hour"
        DAY = 86400, "day"

    # Lookups by SLO use the unique (slo, span, start) index, as for the buckets.
    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    span = models.PositiveIntegerField(choices=Span.choices)
    start = models.DateTimeField()
    good = models.BigIntegerField()
    total = models.BigIntegerField()
    present = models.PositiveIntegerField(help_text="Buckets with data (total above zero).")
    good_slices = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Timeslice SLOs: slices with data meeting the target."
    )
    bad_slices = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Timeslice SLOs: slices with data missing the target."
    )

    class Meta:
        ordering = ["slo", "span", "start"]
        constraints = [
            models.UniqueConstraint(fields=["slo", "span", "start"], name="unique_sli_rollup"),
        ]

    def __str__(self):
        return f"{self.slo}: {self.get_span_display()} from {self.start:%Y-%m-%d %H:%M}"


class SLOStatus(models.Model):
    """The snapshot of an SLO that a worker computes after each sync or push.

    Pages and the API read these; they never sum raw buckets. Fractions are 0 to 1;
    `remaining` may be negative (an overspent budget).
    """

    slo = models.OneToOneField(
        SLO, on_delete=models.CASCADE, primary_key=True, related_name="status"
    )
    computed_at = models.DateTimeField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    attainment = models.FloatField(null=True)
    allowed_bad = models.FloatField(null=True)
    bad = models.FloatField(null=True)
    consumed = models.FloatField(null=True)
    remaining = models.FloatField(null=True)
    burn_rates = models.JSONField(default=dict, help_text="Burn rate by window: 5m … 3d, window.")
    alert = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.NONE)
    policy_tier = models.CharField(max_length=50, default="unknown")
    coverage = models.FloatField(null=True, help_text="Share of the window's buckets with data.")
    latest_data_at = models.DateTimeField(null=True)
    stale = models.BooleanField(default=False)
    time_until_exhaustion = models.DurationField(null=True)
    series = models.JSONField(
        default=dict, help_text="Chart data: budget remaining and burn rate over the window."
    )
    monthly = models.JSONField(default=list, help_text="Attainment per calendar month.")
    last_sync_at = models.DateTimeField(null=True)
    last_sync_error = models.TextField(blank=True)
    # Kept in the database rather than in the syncing process's memory, so that /metrics shows
    # them whichever process serves it.
    last_sync_seconds = models.FloatField(null=True, help_text="How long the last sync took.")
    retryable_sync_errors = models.PositiveIntegerField(
        default=0, help_text="Syncs that failed because Prometheus was unreachable or failing."
    )
    permanent_sync_errors = models.PositiveIntegerField(
        default=0, help_text="Syncs that failed because Prometheus refused a query."
    )
    compute_error = models.TextField(
        blank=True,
        help_text="Why the last recompute of this SLO failed (its figures are then older).",
    )

    #: What a sync records: a recompute from stored buckets leaves these as they are.
    SYNC_OUTCOME_FIELDS = (
        "last_sync_at",
        "last_sync_error",
        "last_sync_seconds",
        "retryable_sync_errors",
        "permanent_sync_errors",
    )

    class Meta:
        verbose_name = "SLO status"
        verbose_name_plural = "SLO statuses"
        # "The least budget left" (the SRE lead's home): the first lines in order from the
        # index instead of sorting every SLO's snapshot.
        indexes = [
            models.Index(
                fields=["remaining"],
                condition=models.Q(remaining__isnull=False),
                name="slostatus_remaining",
            )
        ]

    def __str__(self):
        return f"{self.slo} at {self.computed_at:%Y-%m-%d %H:%M}"


class DirtySLO(models.Model):
    """An SLO whose snapshot is out of date: its data, definition, maintenance or policy
    changed since the last recompute. One task recomputes every dirty SLO in one batch
    (services.actions.statuses.slo_statuses_recompute_dirty), so that a storm of pushes or a sync
    cycle of every SLO costs one recompute each, not one per write.

    Each mark writes a new `mark`; a recompute claims rows (`claimed_at`), then deletes only
    those whose mark it read, so a change that lands during the recompute keeps its SLO
    dirty for the next one. A claim older than the lease (its worker died) is claimed again.
    """

    slo = models.OneToOneField(SLO, on_delete=models.CASCADE, primary_key=True, related_name="+")
    since = models.DateTimeField(help_text="When the SLO first became dirty.")
    mark = models.UUIDField(default=uuid.uuid4, unique=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "dirty SLO"

    def __str__(self):
        return f"{self.slo_id} dirty since {self.since:%Y-%m-%d %H:%M:%S}"
