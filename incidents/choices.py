from django.db import models


class Severity(models.TextChoices):
    """How bad it is; SEV1 is the worst. Descriptions and response times live in
    SeverityLevel, where SRE leads edit them."""

    SEV1 = "SEV1", "SEV1"
    SEV2 = "SEV2", "SEV2"
    SEV3 = "SEV3", "SEV3"
    SEV4 = "SEV4", "SEV4"


#: Incidents of these severities close only once their post-mortem is published.
POSTMORTEM_REQUIRED_SEVERITIES = frozenset({Severity.SEV1, Severity.SEV2})


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


#: Statuses of an incident that is still being worked on (the user impact may be ongoing).
OPEN_STATUSES = frozenset(
    {IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING}
)


class IncidentSource(models.TextChoices):
    MANUAL = "manual", "Declared by a person"
    ALERT = "alert", "Alert"


class IncidentRole(models.TextChoices):
    # The values are the names of the Incident fields holding each role.
    COMMANDER = "commander", "Incident commander"
    TECH_LEAD = "tech_lead", "Tech lead"
    COMMUNICATIONS_LEAD = "communications_lead", "Communications lead"
    SCRIBE = "scribe", "Scribe"


class AlertStatus(models.TextChoices):
    # Alertmanager's own status values.
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class TimelineKind(models.TextChoices):
    DECLARED = "declared", "Declared"
    NOTE = "note", "Note"
    STATUS_CHANGE = "status_change", "Status change"
    SEVERITY_CHANGE = "severity_change", "Severity change"
    ROLE_CHANGE = "role_change", "Role change"
    DETAILS_CHANGE = "details_change", "Details change"
    ALERT = "alert", "Alert"
    STATUS_UPDATE = "status_update", "Status update"
    POSTMORTEM = "postmortem", "Post-mortem"


class StatusUpdateKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    UPDATE = "update", "Update"
    RESOLUTION = "resolution", "Resolution"


class PostMortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


class ActionItemPriority(models.TextChoices):
    P1 = "P1", "P1 (high)"
    P2 = "P2", "P2 (medium)"
    P3 = "P3", "P3 (low)"


class ActionItemKind(models.TextChoices):
    DETECT = "detect", "Detect"
    MITIGATE = "mitigate", "Mitigate"
    PREVENT = "prevent", "Prevent"
    PROCESS = "process", "Process"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


#: Action items still to be done; only these can be overdue.
ACTION_ITEM_PENDING_STATUSES = frozenset({ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS})
