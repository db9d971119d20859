"""Choices of change requests, freeze windows, the deploy gate and deployments."""

from django.db import models


class ChangeCategory(models.TextChoices):
    """How a change is approved (seed 001's change categories)."""

    EMERGENCY = "emergency", "Emergency"
    STANDARD = "standard", "Standard"
    LOW_RISK = "low-risk", "Low-risk"


#: What each category covers, shown next to the choice.
CATEGORY_EXAMPLES = {
    ChangeCategory.EMERGENCY: "Security patches, critical fixes, preventing data loss.",
    ChangeCategory.STANDARD: "Feature releases, configuration and dependency updates.",
    ChangeCategory.LOW_RISK: "Documentation, monitoring and test-environment changes.",
}


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    REVIEWED = "reviewed", "Reviewed"


#: Changes that hold their window: another change to the same service in it conflicts.
ACTIVE_STATUSES = frozenset(
    {ChangeStatus.APPROVED, ChangeStatus.SCHEDULED, ChangeStatus.IN_PROGRESS}
)


class ApprovalDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class ApproverRole(models.TextChoices):
    """In which capacity someone approved: recorded with the approval for the audit."""

    SRE_LEAD = "sre_lead", "SRE lead"
    CHANGE_APPROVER = "change_approver", "Change approver"
    INCIDENT_COMMANDER = "incident_commander", "Commander of the linked incident"
    PEER = "peer", "Peer in the owning team"


class ChangeEventKind(models.TextChoices):
    CREATED = "created", "Created"
    EDITED = "edited", "Edited"
    TRANSITION = "transition", "Status change"
    APPROVAL = "approval", "Approval"
    REJECTION = "rejection", "Rejection"
    CHECKLIST = "checklist", "Checklist"
    CONFLICTS = "conflicts", "Conflicts"
    NOTIFICATION = "notification", "Notification"


class FreezeScope(models.TextChoices):
    ORGANISATION = "organisation", "The whole organisation"
    TEAM = "team", "A team's services"
    SERVICE = "service", "One service"


class GateDecisionKind(models.TextChoices):
    """The deploy gate's answer; the values are toil.gate's."""

    ALLOW = "allow", "Allow"
    NEEDS_APPROVAL = "needs_approval", "Needs approval"
    DENY = "deny", "Deny"


class DeploymentStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


#: The environment whose deployments DORA's keys count.
PRODUCTION = "production"


class ChangeNotificationKind(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    # A decision is told once each way: an implemented emergency can be rejected by one
    # approver and still collect its approvals afterwards.
    REJECTED = "rejected", "Rejected"
    APPROVED = "approved", "Approved"


#: Seed 001's release checklist, in its three stages: (stage, items as (key, label)).
RELEASE_CHECKLIST = (
    (
        "Before the release",
        (
            ("code_review", "Code reviewed"),
            ("tests", "Unit, integration and end-to-end tests pass"),
            ("security_scan", "Security scans pass"),
            ("performance", "Performance benchmarks meet the SLOs"),
            ("docs", "Documentation updated"),
            ("runbooks", "Runbooks updated"),
            ("rollback_plan", "Rollback plan prepared"),
        ),
    ),
    (
        "During the release",
        (
            ("feature_flags", "Feature flags configured"),
            ("canary", "Canary deployment succeeded"),
            ("alerts", "Monitoring alerts configured"),
            ("health_checks", "Health checks pass"),
            ("slo_check", "SLO compliance verified"),
        ),
    ),
    (
        "After the release",
        (
            ("watched", "Watched for at least two hours"),
            ("performance_stable", "Performance metrics stable"),
            ("errors_in_budget", "Error rates within budget"),
            ("feedback", "User feedback collected"),
            ("release_notes", "Release notes published"),
        ),
    ),
)
CHECKLIST_LABELS = {key: label for _, items in RELEASE_CHECKLIST for key, label in items}
