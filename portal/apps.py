from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = "Portal"


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin site, opened to SRE leads (see portal.sites.PortalAdminSite)."""

    default = False
    default_site = "portal.sites.PortalAdminSite"
