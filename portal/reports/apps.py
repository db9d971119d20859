from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The monthly reliability report: generated, emailed and archived."""

    name = "portal.reports"
    label = "reports"
    verbose_name = "Monthly reports"
