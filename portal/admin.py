from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from portal.models import Heartbeat
from portal.roles import is_sre_lead


class PortalAdminSite(admin.AdminSite):
    site_header = "Reliability Portal administration"
    site_title = "Reliability Portal admin"
    index_title = "Records and settings"

    def has_permission(self, request):
        return request.user.is_active and (request.user.is_staff or is_sre_lead(request.user))


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run", "hostname", "alive"]
    readonly_fields = ["name", "last_run", "hostname"]

    @admin.display(boolean=True, description="Worker and beat alive")
    def alive(self, obj):
        stale_after = timedelta(seconds=settings.HEARTBEAT_STALE_AFTER_SECONDS)
        return timezone.now() - obj.last_run < stale_after

    def has_add_permission(self, request):
        return False
