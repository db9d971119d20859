from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from portal.models import Heartbeat


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
