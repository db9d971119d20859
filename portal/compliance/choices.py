"""The fixed vocabularies of compliance checks, their results and their findings."""

from django.db import models


class CheckKind(models.TextChoices):
    DATA_RETENTION = "data_retention", "Data retention"
    CONSENT_TRACKING = "consent_tracking", "Consent tracking"
    DATA_EXPORT = "data_export", "Data export"
    CUSTOM = "custom", "Custom"


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class CheckMethod(models.TextChoices):
    PROMETHEUS = "prometheus", "Prometheus query"
    HTTP = "http", "HTTP self-test"
    ATTESTATION = "attestation", "Attestation"


class AppliesTo(models.TextChoices):
    PERSONAL_DATA = "personal_data", "Every service that handles personal data"
    TAG = "tag", "Services with a tag"


class Severity(models.TextChoices):
    """Ordered from the most to the least urgent (see SEVERITY_RANK)."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity.values)}


class Comparison(models.TextChoices):
    """How a Prometheus check's value must compare with its threshold to pass."""

    LTE = "lte", "≤"
    LT = "lt", "<"
    EQ = "eq", "="
    GTE = "gte", "≥"
    GT = "gt", ">"


class Outcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    ERROR = "error", "Error"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


#: Outcomes that settle a period: the next run waits for the next period. An error does not.
CONCLUSIVE_OUTCOMES = (Outcome.PASS, Outcome.FAIL, Outcome.NOT_APPLICABLE)


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ACCEPTED_RISK = "accepted_risk", "Accepted risk"
    RESOLVED = "resolved", "Resolved"


#: A finding in one of these is unresolved: at most one per check and service.
UNRESOLVED_STATUSES = (
    FindingStatus.OPEN,
    FindingStatus.ACKNOWLEDGED,
    FindingStatus.ACCEPTED_RISK,
)
