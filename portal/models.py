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


class APIToken(AuthToken):
    """An API token as people see it: its first characters and its user. The token itself is
    never stored (django-rest-knox keeps its SHA-512 digest), so it cannot be shown again."""

    class Meta:
        proxy = True
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self):
        return f"{self.token_key}… ({self.user})"
