"""Admin pages of the toil inventory for SRE leads: items (with their change history), logged
time, team capacities, and the monthly figures the worker computes (read only). Saves and
deletes go through toil.actions.toil, so the admin meets the same rules and marks the same
months for recompute as the portal."""

from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from portal.autocomplete import AutocompleteGuard
from toil.actions.toil import (
    ITEM_FIELDS,
    team_capacity_set,
    toil_entry_delete,
    toil_entry_log,
    toil_entry_update,
    toil_item_create,
    toil_item_delete,
    toil_item_update,
)
from toil.models.inventory import TeamToilCapacity, TeamToilMonth, ToilEntry, ToilItem


@admin.register(ToilItem)
class ToilItemAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    list_display = [
        "task",
        "team",
        "category",
        "status",
        "frequency",
        "frequency_unit",
        "minutes_each",
        "automation_potential",
        "roi_score",
    ]
    list_filter = ["status", "category", "team"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ["task", "description"]
    autocomplete_fields = ["services"]
    readonly_fields = [
        "monthly_minutes",
        "roi_score",
        "payback_months",
        "automated_on",
        "baseline_monthly_hours",
        "retired_on",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        # An item stays with its team.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "team"] if obj else fields

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ITEM_FIELDS | {"status"}}
        services = form.cleaned_data["services"]
        if change:
            toil_item_update(item=obj, services=services, **fields)
        else:
            saved = toil_item_create(
                team=form.cleaned_data["team"],
                services=services,
                created_by=request.user,
                **fields,
            )
            obj.pk = saved.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The services were set by the action in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        toil_item_delete(item=obj)

    def delete_queryset(self, request, queryset):
        for item in queryset:
            toil_item_delete(item=item)


@admin.register(ToilEntry)
class ToilEntryAdmin(admin.ModelAdmin):
    list_display = ["date", "item", "user", "minutes", "note"]
    list_filter = ["item__team", "date"]
    search_fields = ["item__task", "user__username", "note"]
    raw_id_fields = ["item", "user"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("item", "date", "minutes", "note")}
        if change:
            toil_entry_update(entry=obj, by=request.user, **fields)
        else:
            saved = toil_entry_log(user=form.cleaned_data.get("user") or request.user, **fields)
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        toil_entry_delete(entry=obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset.select_related("item"):
            toil_entry_delete(entry=entry)


@admin.register(TeamToilCapacity)
class TeamToilCapacityAdmin(admin.ModelAdmin):
    list_display = ["team", "hours_per_engineer"]

    def save_model(self, request, obj, form, change):
        team_capacity_set(team=obj.team, hours_per_engineer=obj.hours_per_engineer)

    def delete_model(self, request, obj):
        team_capacity_set(team=obj.team, hours_per_engineer=None)


@admin.register(TeamToilMonth)
class TeamToilMonthAdmin(admin.ModelAdmin):
    """What the worker computed; recomputed, never edited."""

    list_display = ["month", "team", "measured_hours", "capacity_hours", "share", "over_cap"]
    list_filter = ["over_cap", "month"]
    date_hierarchy = "month"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
