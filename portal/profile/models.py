"""What the portal keeps about a person beyond their account."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from portal.timezones import time_zone_error


def validate_time_zone(name: str) -> None:
    if error := time_zone_error(name):
        raise ValidationError(error)


class Profile(models.Model):
    """A person's settings: the IANA zone their browser last reported (their morning digest
    goes out at 08:00 there; empty: the portal's TIME_ZONE) and whether they want the daily
    digest at all (escalations about their teams reach managers and SRE leads regardless)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="As the browser reported it; empty: the portal's time zone.",
    )
    digest_enabled = models.BooleanField(
        default=True, help_text="Send the daily email of what is due or overdue."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Profile of {self.user}"

    @property
    def zone_name(self) -> str:
        return self.time_zone or settings.TIME_ZONE
