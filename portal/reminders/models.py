"""The reminder log: one digest per person and day, and each item's reminder history."""

from django.conf import settings
from django.db import models

from portal.reminders.choices import DigestStatus, Escalation


class Digest(models.Model):
    """The daily email of one person for one day (in their time zone): the key that makes
    reminders idempotent. The row is written with its items before anything is sent; the
    sender claims it (pending → sending) before it talks to the mail server, so a task run
    twice, retried or killed mid-send never sends it twice. A retryable failure puts it back
    to pending with ``next_attempt_at``; a permanent one ends in failed with the reason."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests"
    )
    day = models.DateField(help_text="The person's day, in their time zone.")
    address = models.EmailField(blank=True, help_text="Empty: the person has no address.")
    status = models.CharField(
        max_length=12, choices=DigestStatus.choices, default=DigestStatus.PENDING
    )
    items = models.JSONField(
        default=list, help_text="What the digest lists, grouped by kind, as it was sent."
    )
    item_count = models.PositiveIntegerField(default=0)
    escalated_count = models.PositiveIntegerField(
        default=0, help_text="Items overdue in the person's teams (escalations)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-day", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_person_per_day")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="digest_due")]

    def __str__(self):
        return f"Digest of {self.user} for {self.day:%Y-%m-%d} ({self.get_status_display()})"


class ReminderHistory(models.Model):
    """What the digests have said about one item (an action item, a post-mortem, …) so far:
    when it was first and last reminded, and the highest escalation it reached."""

    kind = models.CharField(max_length=50, help_text="The provider's kind, e.g. action_item.")
    object_id = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    first_reminded_on = models.DateField()
    last_reminded_on = models.DateField()
    times_reminded = models.PositiveIntegerField(default=1)
    escalation = models.PositiveSmallIntegerField(
        choices=Escalation.choices, default=Escalation.NONE
    )
    escalated_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "object_id"]
        verbose_name_plural = "reminder histories"
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="one_history_per_item")
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id}: {self.get_escalation_display()}"
