"""Admin pages for SRE leads: teams, memberships, tags and services."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from portal.autocomplete import AutocompleteGuard
from services.actions.catalog import service_production_gate, service_save
from services.forms import https_by_default
from services.models.catalog import Membership, Service, Tag, Team
from services.selectors import catalog as catalog_selectors


class MembershipInline(AutocompleteGuard, admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(AutocompleteGuard, admin.ModelAdmin):
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
class MembershipAdmin(AutocompleteGuard, admin.ModelAdmin):
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


class ServiceAdminForm(forms.ModelForm):
    """The service with the readiness gate's override, checked before the save as the UI and
    the API check it (services.actions.catalog.service_production_gate)."""

    readiness_override = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why this tier-1/2 service may enter production without an approved "
        "readiness review; kept in its history.",
    )
    user = None  # set per request by ServiceAdmin.get_form

    class Meta:
        model = Service
        formfield_callback = https_by_default
        # What ServiceAdmin's fieldsets show (the admin asks for those fields anyway).
        fields = [
            "name", "slug", "description", "owner_team", "tier", "lifecycle", "kind", "system",
            "depends_on", "tags", "repository_url", "runbook_url", "dashboard_url", "oncall_url",
            "pagerduty_service_id", "handles_personal_data", "data_retention_days",
            "backstage_ref", "backstage_source",
        ]  # fmt: skip

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            service_production_gate(
                self.instance,
                override=self.cleaned_data.get("readiness_override", ""),
                by=self.user,
            )
        except ValidationError as error:
            self._update_errors(error)


@admin.register(Service)
class ServiceAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    form = ServiceAdminForm
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
        ("Production readiness", {"fields": ["readiness_override"]}),
        ("Component", {"fields": ["kind", "system", "depends_on", "tags"]}),
        ("Links", {"fields": ["repository_url", "runbook_url", "dashboard_url", "oncall_url"]}),
        ("On call", {"fields": ["pagerduty_service_id"]}),
        ("Personal data", {"fields": ["handles_personal_data", "data_retention_days"]}),
        ("Backstage", {"fields": ["backstage_ref", "backstage_source"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        # The gate needs to know who saves (an SRE lead may override it).
        form = type("ServiceAdminForm", (super().get_form(request, obj, **kwargs),), {})
        form.user = request.user
        if obj is not None:
            # A service cannot depend on itself: don't offer it as a choice.
            dependencies = form.base_fields["depends_on"]
            dependencies.queryset = dependencies.queryset.exclude(pk=obj.pk)
        return form

    def save_model(self, request, obj, form, change):
        service_save(
            service=obj,
            by=request.user,
            readiness_override=form.cleaned_data.get("readiness_override", ""),
        )
