from django.apps import AppConfig


class ToilConfig(AppConfig):
    """Toil inventory, change requests and approvals, and the deploy gate."""

    name = "toil"
    verbose_name = "Toil and changes"
