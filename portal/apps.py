from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.pagecache import install_version_triggers
        from portal.signin import connect_signals

        connect_signals()
        # Every migrate gives the tables it made the trigger that moves the data version.
        post_migrate.connect(install_version_triggers, sender=self)


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin site, opened to SRE leads (see portal.sites.PortalAdminSite)."""

    default = False
    default_site = "portal.sites.PortalAdminSite"
