"""Admin pages for SRE leads: SLOs, their snapshots and budget policies."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from portal.autocomplete import AutocompleteGuard
from portal.formats import percent_text
from services.actions.slos import (
    budget_policy_delete,
    budget_policy_save,
    maintenance_window_delete,
    maintenance_window_save,
    slo_delete,
    slo_save,
)
from services.budget.figures import UNKNOWN_TIER
from services.forms import BudgetPolicyTierFormSet
from services.models.slos import SLO, BudgetPolicy, BudgetPolicyTier, MaintenanceWindow, SLOStatus
from services.selectors import slos as slo_selectors


class MaintenanceWindowInline(admin.TabularInline):
    model = MaintenanceWindow
    extra = 0


@admin.register(SLO)
class SLOAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    list_display = [
        "name",
        "service",
        "objective",
        "window_kind",
        "window_days",
        "budgeting_method",
        "budget_remaining",
        "policy_tier",
        "alert",
    ]
    list_filter = [
        "sli_kind",
        "window_kind",
        "budgeting_method",
        "source",
        "budget_policy",
        "status__alert",
        "status__policy_tier",
        "service__owner_team",
    ]
    search_fields = ["name", "slug", "description", "service__name", "service__slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["service"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MaintenanceWindowInline]
    fieldsets = [
        (None, {"fields": ["service", "name", "slug", "description", "sli_kind"]}),
        ("Objective", {"fields": ["objective", "window_kind", "window_days", "time_zone"]}),
        ("Budgeting", {"fields": ["budgeting_method", "slice_minutes", "slice_target"]}),
        (
            "SLI data",
            {"fields": ["source", "query_kind", "events_query", "total_query", "labels"]},
        ),
        ("Policy", {"fields": ["budget_policy"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        # Service and snapshot come joined, so the list costs the same for 3 SLOs or 300.
        return slo_selectors.slo_list()

    # Writes go through the actions, so that the admin marks the SLO dirty (its snapshot is
    # recomputed) and re-sums its rollups as the UI and the API do.
    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        slo_save(slo=obj)

    def delete_model(self, request, obj):
        slo_delete(slo=obj)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # sets new_objects, changed_objects, deleted_objects
        for window in formset.deleted_objects:
            maintenance_window_delete(window=window)
        for window in [*formset.new_objects, *(window for window, _ in formset.changed_objects)]:
            maintenance_window_save(window=window)

    @admin.display(description="Budget remaining", ordering="budget_remaining")
    def budget_remaining(self, slo):
        return percent_text(slo.budget_remaining)

    @admin.display(description="Policy tier", ordering="status__policy_tier")
    def policy_tier(self, slo):
        status = getattr(slo, "status", None)
        return status.policy_tier if status else UNKNOWN_TIER

    @admin.display(description="Alert", ordering="status__alert")
    def alert(self, slo):
        status = getattr(slo, "status", None)
        return status.get_alert_display() if status else "—"


@admin.register(SLOStatus)
class SLOStatusAdmin(admin.ModelAdmin):
    """Snapshots are the worker's output: SRE leads read them here, nobody edits them."""

    list_display = [
        "slo",
        "computed_at",
        "attainment",
        "remaining",
        "policy_tier",
        "alert",
        "coverage",
        "stale",
        "compute_error",
    ]
    list_filter = ["alert", "policy_tier", "stale"]
    list_select_related = ["slo__service"]
    search_fields = ["slo__name", "slo__service__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BudgetPolicyTierInline(admin.TabularInline):
    model = BudgetPolicyTier
    formset = BudgetPolicyTierFormSet
    extra = 0


class BudgetPolicyAdminForm(forms.ModelForm):
    class Meta:
        model = BudgetPolicy
        fields = ["name", "slug", "description", "is_default"]

    def _get_validation_exclusions(self):
        # Making this policy the default takes that from the current default
        # (services.actions.slos.budget_policy_save): the one-default constraint is the
        # action's to keep, not a reason to refuse the form.
        return super()._get_validation_exclusions() | {"is_default"}


@admin.register(BudgetPolicy)
class BudgetPolicyAdmin(SimpleHistoryAdmin):
    form = BudgetPolicyAdminForm
    list_display = ["name", "slug", "is_default", "tier_names"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [BudgetPolicyTierInline]

    def get_queryset(self, request):
        return slo_selectors.budget_policy_list()

    # The policy and its tiers are saved together by the action (in save_related, where the
    # tiers' formset is at hand): it keeps the one-default rule and marks the SLOs dirty.
    def save_model(self, request, obj, form, change):
        obj._history_user = request.user

    def save_related(self, request, form, formsets, change):
        (tiers,) = formsets
        tiers.save(commit=False)  # sets new_objects, changed_objects, deleted_objects
        budget_policy_save(policy=form.instance, tiers=tiers.tier_fields())

    def delete_model(self, request, obj):
        budget_policy_delete(policy=obj)

    @admin.display(description="Tiers")
    def tier_names(self, policy):
        return ", ".join(tier.name for tier in policy.tiers.all())
