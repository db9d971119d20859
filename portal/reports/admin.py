"""Reports for SRE leads: the archive and its copies (read-only logs), and subscriptions."""

from django.contrib import admin

from portal.reports.models import MonthlyReport, ReportDelivery, ReportSubscription


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin):
    list_display = ["month", "team", "status", "generated_at", "deliveries_planned_at"]
    list_filter = ["status", "month"]
    list_select_related = ["team"]
    exclude = ["html", "text", "figures"]
    search_fields = ["team__name", "subject"]


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["report", "user", "address", "reason", "status", "attempts", "sent_at"]
    list_filter = ["status", "reason"]
    list_select_related = ["report__team", "user"]
    search_fields = ["address", "user__username"]


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "created_at"]
    list_select_related = ["user", "team"]
    autocomplete_fields = []
    search_fields = ["user__username", "team__name"]
    raw_id_fields = ["user"]
