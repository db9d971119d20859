from django.apps import AppConfig


class ToilConfig(AppConfig):
    """Toil inventory, change requests and approvals, and the deploy gate."""

    name = "toil"
    verbose_name = "Toil and changes"

    def ready(self):
        # Receivers of other apps' signals (incidents saved), connected once the models exist.
        from toil.signals import changes  # noqa: F401
