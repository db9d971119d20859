from django.db import models


class DigestStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    NOTHING_DUE = "nothing_due", "Nothing due"


class Escalation(models.IntegerChoices):
    """How far an overdue item has gone up: its owner, the manager of its team, SRE leads."""

    NONE = 0, "Owner only"
    MANAGER = 1, "Team manager"
    SRE_LEADS = 2, "SRE leads"
