from django.db import models
from knox.models import AuthToken


class Heartbeat(models.Model):
    """The last time the periodic heartbeat task ran.

    Beat sends the task and a worker runs it, so a recent row shows both are alive.
    """

    name = models.CharField(max_length=50, unique=True)
    last_run = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} at {self.last_run:%Y-%m-%d %H:%M:%S}"


class SentEmail(models.Model):
    """The log of emails the portal sent: which kind, the subject, to whom and when (not the
    body). A person's data export lists those sent to them; entries older than
    PORTAL_LOG_RETENTION_DAYS are deleted every night."""

    name = models.CharField(max_length=100, blank=True, help_text="The email's templates.")
    subject = models.CharField(max_length=250)
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return f"{self.subject} ({self.sent_at:%Y-%m-%d %H:%M})"


class APIToken(AuthToken):
    """An API token as people see it: its first characters and its user. The token itself is
    never stored (django-rest-knox keeps its SHA-512 digest), so it cannot be shown again."""

    class Meta:
        proxy = True
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self):
        return f"{self.token_key}… ({self.user})"
