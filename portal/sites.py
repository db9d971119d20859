"""The admin site class, in a module of its own.

Django imports the default site's class while building ``admin.site``; a module that also
registers models on ``admin.site`` would, at that moment, register them on a throw-away
instance of the site. portal/admin.py registers the portal's models.
"""

from django.contrib import admin

from portal.roles import is_sre_lead


class PortalAdminSite(admin.AdminSite):
    site_header = "Reliability Portal administration"
    site_title = "Reliability Portal admin"
    index_title = "Records and settings"

    def has_permission(self, request):
        return request.user.is_active and (request.user.is_staff or is_sre_lead(request.user))
