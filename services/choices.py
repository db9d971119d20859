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


class ReviewStatus(models.TextChoices):
    """Where a production-readiness review stands (services.readiness has its transitions)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    APPROVED_WITH_WAIVERS = "approved_with_waivers", "Approved with waivers"


#: A review still being worked on; a service has at most one.
OPEN_REVIEW_STATUSES = frozenset(
    {ReviewStatus.DRAFT, ReviewStatus.IN_REVIEW, ReviewStatus.CHANGES_REQUESTED}
)
#: A review that ended in an approval.
APPROVED_REVIEW_STATUSES = frozenset({ReviewStatus.APPROVED, ReviewStatus.APPROVED_WITH_WAIVERS})


class CriterionStatus(models.TextChoices):
    """A criterion's result in one review."""

    PENDING = "pending", "Not answered yet"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    WAIVED = "waived", "Waived"


class Verdict(models.TextChoices):
    """The reviewer's word on what the owner team answered for a criterion."""

    PENDING = "pending", "Not judged yet"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class ReviewEntryKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    EVENT = "event", "Event"


class ReadinessState(models.TextChoices):
    """A service's readiness as its page, the scorecards and the API show it."""

    READY = "ready", "Ready"
    READY_WITH_WAIVERS = "ready_with_waivers", "Ready with waivers"
    WAIVER_EXPIRED = "waiver_expired", "Waiver expired"
    REVIEW_DUE = "review_due", "Review due"
    IN_REVIEW = "in_review", "Review in progress"
    NEVER_REVIEWED = "never_reviewed", "Never reviewed"


class ExemptionStatus(models.TextChoices):
    PENDING = "pending", "Awaiting an SRE lead"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
