"""Admin pages for SRE leads: scorecards (with an upload that loads new versions), results,
exemptions (approved or refused in bulk through the actions), campaigns and the history."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from services.actions import scorecards as scorecard_actions
from services.actions.standards import scorecard_load
from services.admin.readiness import LoadFilesMixin, ReadOnlyAdmin
from services.choices import ExemptionStatus
from services.models.scorecards import (
    Campaign,
    Exemption,
    Scorecard,
    ScorecardResult,
    ScorecardRule,
    ScorecardTrend,
)


class RuleInline(admin.TabularInline):
    model = ScorecardRule
    fields = ["check_name", "title", "level", "weight"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("level")


@admin.register(Scorecard)
class ScorecardAdmin(LoadFilesMixin, ReadOnlyAdmin):
    loader = staticmethod(scorecard_load)
    load_title = "Load maturity scorecards"
    list_display = ["title", "key", "version", "source_name", "loaded_at", "loaded_by"]
    list_filter = ["key"]
    list_select_related = ["loaded_by"]
    search_fields = ["key", "title"]
    readonly_fields = [
        "key", "version", "title", "description", "content_hash", "source_name", "loaded_at",
        "loaded_by",
    ]  # fmt: skip
    inlines = [RuleInline]
    change_list_template = "admin/services/load_files_changelist.html"


@admin.register(ScorecardResult)
class ScorecardResultAdmin(ReadOnlyAdmin):
    list_display = ["service", "scorecard", "level", "score", "computed_at"]
    list_filter = ["scorecard", "level_rank"]
    list_select_related = ["service", "scorecard", "level"]
    search_fields = ["service__name", "service__slug"]
    readonly_fields = [
        "service",
        "scorecard",
        "level",
        "score",
        "failing",
        "outcomes",
        "computed_at",
    ]


def _decide(modeladmin, request, queryset, decide, done):
    decided = 0
    for exemption in queryset.filter(status=ExemptionStatus.PENDING):
        try:
            decide(exemption=exemption, by=request.user, note="Decided in the admin.")
        except ValidationError as error:
            messages.error(request, f"{exemption}: {' '.join(error.messages)}")
        else:
            decided += 1
    messages.success(request, f"{decided} exemption{'s' if decided != 1 else ''} {done}.")


@admin.action(description="Approve the selected pending exemptions")
def approve_exemptions(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, scorecard_actions.exemption_approve, "approved")


@admin.action(description="Refuse the selected pending exemptions")
def reject_exemptions(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, scorecard_actions.exemption_reject, "refused")


@admin.register(Exemption)
class ExemptionAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = [
        "service",
        "check_name",
        "scorecard_key",
        "status",
        "expires_on",
        "requested_by",
    ]
    list_filter = ["status", "scorecard_key"]
    list_select_related = ["service", "requested_by"]
    search_fields = ["service__name", "check_name", "reason"]
    readonly_fields = [
        "service", "scorecard_key", "check_name", "reason", "expires_on", "status",
        "requested_by", "requested_at", "decided_by", "decided_at", "decision_note",
    ]  # fmt: skip
    actions = [approve_exemptions, reject_exemptions]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "scorecard_key", "target_level", "tiers", "due_on", "created_by"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_by", "created_at"]
    fields = ["name", "slug", "description", "scorecard_key", "target_level", "tiers", "due_on",
              "created_by", "created_at"]  # fmt: skip

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            scorecard_actions.campaign_update(campaign=obj, **fields)
        else:
            created = scorecard_actions.campaign_create(by=request.user, **form.cleaned_data)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        scorecard_actions.campaign_delete(campaign=obj)


@admin.register(ScorecardTrend)
class ScorecardTrendAdmin(ReadOnlyAdmin):
    list_display = ["scorecard_key", "week", "team", "services", "average_score"]
    list_filter = ["scorecard_key", "week"]
    list_select_related = ["team"]
