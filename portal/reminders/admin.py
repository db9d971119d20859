"""The reminder log for SRE leads: read-only, it is what was sent."""

from django.contrib import admin

from portal.reminders.models import Digest, ReminderHistory


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    list_display = ["day", "user", "status", "item_count", "escalated_count", "attempts", "sent_at"]
    list_filter = ["status", "day"]
    search_fields = ["user__username", "address"]
    list_select_related = ["user"]
    date_hierarchy = "day"


@admin.register(ReminderHistory)
class ReminderHistoryAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "object_id",
        "title",
        "escalation",
        "times_reminded",
        "last_reminded_on",
    ]
    list_filter = ["kind", "escalation"]
    search_fields = ["title", "object_id"]
