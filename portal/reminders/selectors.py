"""Reads of the reminder log, and of the people reminders go to."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from portal.reminders.choices import DigestStatus
from portal.reminders.models import Digest, ReminderHistory
from portal.roles import SRE_LEAD_GROUP


def active_people() -> QuerySet:
    """Everyone who may be reminded: active accounts, in a stable order."""
    return get_user_model().objects.filter(is_active=True).order_by("pk")


def sre_lead_ids() -> set[int]:
    """The active SRE leads (members of the group, or superusers), in one query."""
    leads = active_people().filter(Q(groups__name=SRE_LEAD_GROUP) | Q(is_superuser=True))
    return set(leads.values_list("pk", flat=True))


def digests_of(user, *, limit: int = 10) -> list[Digest]:
    """The person's latest digests that carried something, newest first."""
    return list(Digest.objects.filter(user=user, item_count__gt=0).order_by("-day")[:limit])


def digests_due(now) -> QuerySet[Digest]:
    """Digests waiting to be sent whose retry time (if any) has come."""
    return Digest.objects.filter(status=DigestStatus.PENDING).filter(
        Q(next_attempt_at=None) | Q(next_attempt_at__lte=now)
    )


def escalations_of(kind: str, object_ids) -> dict[str, ReminderHistory]:
    """The reminder histories of these items of one kind, by object id, in one query."""
    histories = ReminderHistory.objects.filter(
        kind=kind, object_id__in=[str(i) for i in object_ids]
    )
    return {history.object_id: history for history in histories}
