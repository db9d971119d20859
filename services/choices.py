from django.db import models


class Tier(models.IntegerChoices):
    """How much the business depends on a service; tier 1 is the most critical."""

    TIER_1 = 1, "Tier 1 (critical)"
    TIER_2 = 2, "Tier 2 (important)"
    TIER_3 = 3, "Tier 3 (best effort)"


class Lifecycle(models.TextChoices):
    EXPERIMENTAL = "experimental", "Experimental"
    PRODUCTION = "production", "Production"
    DEPRECATED = "deprecated", "Deprecated"


class MembershipRole(models.TextChoices):
    ENGINEER = "engineer", "Engineer"
    VIEWER = "viewer", "Viewer"


class SLIKind(models.TextChoices):
    AVAILABILITY = "availability", "Availability"
    LATENCY = "latency", "Latency"
    ERROR_RATE = "error_rate", "Error rate"
    THROUGHPUT = "throughput", "Throughput"
    CORRECTNESS = "correctness", "Correctness"


class WindowKind(models.TextChoices):
    # The values are services.budget's window kinds.
    ROLLING = "rolling", "Rolling"
    CALENDAR_MONTH = "calendar_month", "Calendar month"


class BudgetingMethod(models.TextChoices):
    OCCURRENCES = "occurrences", "Occurrences (good events ÷ all events)"
    TIMESLICES = "timeslices", "Timeslices (good slices ÷ all slices)"


class QueryKind(models.TextChoices):
    """Which events the first query counts; the second always counts all events."""

    GOOD_TOTAL = "good_total", "Good and total events"
    BAD_TOTAL = "bad_total", "Bad and total events"


class SLISource(models.TextChoices):
    """Where an SLO's buckets come from."""

    PROMETHEUS = "prometheus", "Prometheus (synced every minute)"
    PUSH = "push", "Pushed through the API"


class AlertState(models.TextChoices):
    # The values are services.budget's alert states.
    PAGE = "page", "Page"
    TICKET = "ticket", "Ticket"
    NONE = "none", "None"


class ChangeRule(models.TextChoices):
    """What a budget policy tier means for changes to the services it covers."""

    ALLOW = "allow", "Changes proceed as usual"
    REVIEW = "review", "Risky changes need an SRE lead's approval"
    FREEZE = "freeze", "Only emergency and reliability fixes ship"
