"""Admin pages for SRE leads: severities, incidents (with their timeline and alerts),
status updates, post-mortems and action items, with change history, and the metrics
snapshots the worker computes.

Incidents are declared and moved through their lifecycle in the portal, where the
actions write the timeline; here SRE leads correct details. The timeline stays
append-only: only its key-event marks change, through the pin action.
"""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from incidents.actions.incidents import timeline_entry_pin
from incidents.models.incidents import (
    Incident,
    IncidentAlert,
    SeverityLevel,
    StatusUpdate,
    TimelineEntry,
)
from incidents.models.metrics import IncidentMetricsSnapshot
from incidents.models.postmortems import ActionItem, PostMortem


@admin.register(SeverityLevel)
class SeverityLevelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "response_minutes", "description"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []

    # The four codes are fixed (incidents.choices.Severity); their meaning is editable.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TimelineEntryPinFormSet(BaseInlineFormSet):
    """Saves an entry through the pin action: its key-event mark is all that may change."""

    def save_existing(self, form, obj, commit=True):
        return timeline_entry_pin(entry=obj, pinned=form.cleaned_data["pinned"])


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    formset = TimelineEntryPinFormSet
    fields = ["at", "kind", "author", "text", "pinned"]
    readonly_fields = ["at", "kind", "author", "text"]
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class IncidentAlertInline(admin.TabularInline):
    model = IncidentAlert
    fields = ["fingerprint", "status", "labels", "starts_at", "ends_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "title",
        "severity",
        "status",
        "team",
        "commander",
        "source",
        "started_at",
        "resolved_at",
    ]
    list_filter = ["status", "severity", "source", "team"]
    list_select_related = ["team", "commander"]
    search_fields = ["reference", "title", "summary", "alert_group_key"]
    date_hierarchy = "started_at"
    autocomplete_fields = [
        "services",
        "team",
        "commander",
        "tech_lead",
        "communications_lead",
        "scribe",
        "declared_by",
        "subscribers",
    ]
    readonly_fields = ["reference", "status", "source", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["reference", "title", "summary", "severity", "status", "services"]}),
        (
            "People",
            {
                "fields": [
                    "team",
                    "commander",
                    "tech_lead",
                    "communications_lead",
                    "scribe",
                    "declared_by",
                    "subscribers",
                ]
            },
        ),
        (
            "Times",
            {
                "fields": [
                    "started_at",
                    "detected_at",
                    "acknowledged_at",
                    "mitigated_at",
                    "resolved_at",
                    "closed_at",
                ]
            },
        ),
        ("Impact", {"fields": ["users_affected", "impact"]}),
        ("Source", {"fields": ["source", "alert_group_key", "created_at", "updated_at"]}),
    ]
    inlines = [TimelineEntryInline, IncidentAlertInline]

    # Declaring allocates the reference and writes the timeline: the portal does it.
    def has_add_permission(self, request):
        return False


@admin.register(StatusUpdate)
class StatusUpdateAdmin(admin.ModelAdmin):
    list_display = ["subject", "incident", "kind", "created_by", "created_at", "sent_at"]
    list_filter = ["kind"]
    list_select_related = ["incident", "created_by"]
    search_fields = ["subject", "body", "incident__reference"]
    readonly_fields = [field.name for field in StatusUpdate._meta.fields]

    # Sent messages are a record of what people were told.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    fields = ["title", "owner", "due_date", "priority", "kind", "status", "wont_do_reason"]
    autocomplete_fields = ["owner"]
    extra = 0


@admin.register(PostMortem)
class PostMortemAdmin(SimpleHistoryAdmin):
    list_display = ["incident", "status", "author", "due_at", "published_at"]
    list_filter = ["status"]
    list_select_related = ["incident", "author"]
    search_fields = ["incident__reference", "incident__title", "summary", "root_cause"]
    autocomplete_fields = ["incident", "author", "reviewers"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ActionItemInline]


@admin.register(ActionItem)
class ActionItemAdmin(SimpleHistoryAdmin):
    list_display = ["title", "postmortem", "owner", "priority", "kind", "status", "due_date"]
    list_filter = ["status", "priority", "kind"]
    list_select_related = ["postmortem__incident", "owner"]
    search_fields = ["title", "postmortem__incident__reference"]
    autocomplete_fields = ["postmortem", "owner"]
    readonly_fields = ["completed_at", "created_at", "updated_at"]


@admin.register(IncidentMetricsSnapshot)
class IncidentMetricsSnapshotAdmin(admin.ModelAdmin):
    list_display = ["__str__", "months", "computed_at", "period_start", "period_end"]
    list_filter = ["months"]
    list_select_related = ["team"]
    search_fields = ["team__name"]
    readonly_fields = [field.name for field in IncidentMetricsSnapshot._meta.fields]

    # The worker writes snapshots; it rewrites any change within minutes.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
