from django.apps import AppConfig


class RemindersConfig(AppConfig):
    """The daily digest of what is due or overdue, and its escalation."""

    name = "portal.reminders"
    label = "reminders"
    verbose_name = "Reminders"
