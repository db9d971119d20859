from django.apps import AppConfig


class ProfileConfig(AppConfig):
    """A person's own settings: the time zone their browser reports, their digest choice."""

    name = "portal.profile"
    label = "profile"
    verbose_name = "Profiles"
