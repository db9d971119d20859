from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "portal.privacy"
    label = "privacy"
    verbose_name = "Personal data"

    def ready(self):
        from portal.privacy.providers import register_portal_providers

        register_portal_providers()
