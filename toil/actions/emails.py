"""The emails owed about change requests (recorded by toil.actions.changes.notify): sent once
each, claimed by a conditional update; a failure is retried or recorded on the change's timeline.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portal import notifications
from portal.roles import SRE_LEAD_GROUP
from services.choices import MembershipRole
from toil.actions.changes import change_event_add
from toil.choices.changes import (
    ApprovalDecision,
    ChangeCategory,
    ChangeEventKind,
    ChangeNotificationKind,
)
from toil.models.changes import ChangeNotification, ChangeRequest
from toil.selectors import changes as selectors

#: The email template of each kind (a decision either way is one template).
EMAIL_TEMPLATES = {
    ChangeNotificationKind.AWAITING_APPROVAL: "change-awaiting-approval",
    ChangeNotificationKind.REJECTED: "change-decided",
    ChangeNotificationKind.APPROVED: "change-decided",
}


def _awaiting_recipients(change: ChangeRequest) -> list[str]:
    User = get_user_model()
    if change.category == ChangeCategory.STANDARD:
        people = selectors.change_approvers()
    elif change.category == ChangeCategory.EMERGENCY:
        people = User.objects.filter(is_active=True, groups__name=SRE_LEAD_GROUP)
        if change.incident_id and change.incident.commander_id:
            people = people | User.objects.filter(pk=change.incident.commander_id)
    else:
        people = User.objects.filter(
            is_active=True,
            memberships__team_id__in=selectors.change_team_ids(change),
            memberships__role=MembershipRole.ENGINEER,
        )
    people = people.exclude(pk__in=[change.author_id, change.implementer_id]).exclude(email="")
    return sorted(set(people.values_list("email", flat=True)))


def _recipients(notification: ChangeNotification) -> list[str]:
    change = notification.change
    if notification.kind == ChangeNotificationKind.AWAITING_APPROVAL:
        return _awaiting_recipients(change)
    author = change.author
    return [author.email] if author is not None and author.email else []


def change_notification_send(*, notification_id: int) -> bool:
    """Send an email owed about a change, once. The notification is claimed by stamping
    ``sent_at`` only while it is empty, so a duplicate or retried task sends nothing; a failure
    gives the claim back: a retryable one is raised for the task to retry later, a permanent
    one is recorded on the notification and the change's timeline. True when sent."""
    claimed = ChangeNotification.objects.filter(pk=notification_id, sent_at=None, error="").update(
        sent_at=timezone.now()
    )
    if not claimed:
        return False
    notification = ChangeNotification.objects.select_related(
        "change", "change__author", "change__incident", "change__team"
    ).get(pk=notification_id)
    change = notification.change
    recipients = _recipients(notification)
    release = ChangeNotification.objects.filter(pk=notification_id)
    if not recipients:
        with transaction.atomic():
            release.update(sent_at=None, error="Nobody to tell: no recipient has an email.")
            change_event_add(
                change=change,
                kind=ChangeEventKind.NOTIFICATION,
                text=f"The “{notification.get_kind_display().lower()}” email had nobody to go "
                "to (no email address).",
            )
        return False
    approvals_given = change.approvals.filter(decision=ApprovalDecision.APPROVE).count()
    rejection = (
        change.approvals.filter(decision=ApprovalDecision.REJECT).select_related("approver").first()
        if notification.kind == ChangeNotificationKind.REJECTED
        else None
    )
    message = notifications.render_email(
        EMAIL_TEMPLATES[notification.kind],
        {
            "change": change,
            "approvals_given": approvals_given,
            "approvals_required": selectors.approvals_required(change),
            "rejection": rejection,
        },
        recipients,
    )
    try:
        notifications.send(message)
    except notifications.RetryableNotificationError:
        release.update(sent_at=None)
        raise
    except notifications.PermanentNotificationError as error:
        with transaction.atomic():
            release.update(sent_at=None, error=str(error))
            change_event_add(
                change=change,
                kind=ChangeEventKind.NOTIFICATION,
                text=f"The “{notification.get_kind_display().lower()}” email could not be "
                f"sent: {error}",
            )
        return False
    with transaction.atomic():
        release.update(recipients=recipients)
        change_event_add(
            change=change,
            kind=ChangeEventKind.NOTIFICATION,
            text=f"“{notification.get_kind_display()}” email sent to {len(recipients)} "
            f"recipient{'s' if len(recipients) != 1 else ''}.",
        )
    return True


def change_notifications_unsent() -> list[int]:
    return list(
        ChangeNotification.objects.filter(sent_at=None, error="")
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
