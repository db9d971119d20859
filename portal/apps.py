from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal.signin import connect_signals

        connect_signals()


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin site, opened to SRE leads (see portal.sites.PortalAdminSite)."""

    default = False
    default_site = "portal.sites.PortalAdminSite"
