from django.db import models


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be generated"
    GENERATING = "generating", "Being generated"
    READY = "ready", "Generated"
    FAILED = "failed", "Failed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class DeliveryReason(models.TextChoices):
    MEMBER = "member", "Member of the team"
    MANAGER = "manager", "Manager"
    SRE_LEAD = "sre_lead", "SRE lead"
    SUBSCRIBER = "subscriber", "Subscribed"
    REQUESTED = "requested", "Asked for a copy"
