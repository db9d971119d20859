"""Admin pages for SRE leads: teams, memberships, tags, services, SLOs and budget policies."""

from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from services.budget.figures import UNKNOWN_TIER
from services.models.catalog import Membership, Service, Tag, Team
from services.models.slos import SLO, BudgetPolicy, BudgetPolicyTier, MaintenanceWindow, SLOStatus
from services.selectors import catalog as catalog_selectors
from services.selectors import slos as slo_selectors
from services.templatetags.slo_format import percent


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "manager", "email", "chat_channel", "services", "members"]
    search_fields = ["name", "slug", "email", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["manager"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        # The counts come annotated, so the list costs the same for 3 teams or 300.
        return catalog_selectors.team_list()

    @admin.display(description="Services", ordering="service_count")
    def services(self, team):
        return team.service_count

    @admin.display(description="Members", ordering="member_count")
    def members(self, team):
        return team.member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "team__name"]
    autocomplete_fields = ["user", "team"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "services"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return catalog_selectors.tag_list()

    @admin.display(description="Services", ordering="service_count")
    def services(self, tag):
        return tag.service_count


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "owner_team",
        "tier",
        "lifecycle",
        "handles_personal_data",
        "data_retention_days",
        "updated_at",
    ]
    list_filter = ["owner_team", "tier", "lifecycle", "tags", "handles_personal_data"]
    list_select_related = ["owner_team"]
    search_fields = ["name", "slug", "description", "system", "owner_team__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["owner_team"]
    filter_horizontal = ["depends_on", "tags"]
    readonly_fields = ["created_at", "updated_at"]
    # Links typed without a scheme are web pages served over TLS.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "owner_team", "tier", "lifecycle"]}),
        ("Component", {"fields": ["kind", "system", "depends_on", "tags"]}),
        ("Links", {"fields": ["repository_url", "runbook_url", "dashboard_url", "oncall_url"]}),
        ("On call", {"fields": ["pagerduty_service_id"]}),
        ("Personal data", {"fields": ["handles_personal_data", "data_retention_days"]}),
        ("Backstage", {"fields": ["backstage_ref", "backstage_source"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            # A service cannot depend on itself: don't offer it as a choice.
            dependencies = form.base_fields["depends_on"]
            dependencies.queryset = dependencies.queryset.exclude(pk=obj.pk)
        return form


class MaintenanceWindowInline(admin.TabularInline):
    model = MaintenanceWindow
    extra = 0


@admin.register(SLO)
class SLOAdmin(SimpleHistoryAdmin):
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

    @admin.display(description="Budget remaining", ordering="budget_remaining")
    def budget_remaining(self, slo):
        return percent(slo.budget_remaining)

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
    extra = 0


@admin.register(BudgetPolicy)
class BudgetPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "is_default", "tier_names"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [BudgetPolicyTierInline]

    def get_queryset(self, request):
        return slo_selectors.budget_policy_list()

    @admin.display(description="Tiers")
    def tier_names(self, policy):
        return ", ".join(tier.name for tier in policy.tiers.all())
