from django.conf import settings
from django.db import models


class Erasure(models.Model):
    """That a person's data was erased: who did it, when and how — never what was erased.
    ``person`` is the anonymised account ("former member #N") that their records still name."""

    class Via(models.TextChoices):
        COMMAND = "command", "manage.py erase_person"
        ADMIN = "admin", "Admin action"

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="erasure",
    )
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="erasures_done",
    )
    erased_at = models.DateTimeField()
    via = models.CharField(max_length=20, choices=Via.choices)

    class Meta:
        ordering = ["-erased_at", "-id"]

    def __str__(self):
        return f"Erasure of {self.person or 'a deleted account'} on {self.erased_at:%Y-%m-%d}"
