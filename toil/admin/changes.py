"""Admin pages for SRE leads: change requests (with approvals and timeline, read-only: they
move through their life in the portal), freezes, the gate's decisions and overrides,
deployments and the incidents they caused, and the DORA snapshots the worker keeps.

Saving goes through the actions, so that the same rules, timeline entries and recomputes
happen here as in the portal.
"""

from django.contrib import admin
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from portal.autocomplete import AutocompleteGuard
from toil.actions import changes as change_actions
from toil.actions import deployments as deployment_actions
from toil.actions import freezes as freeze_actions
from toil.actions import gate as gate_actions
from toil.models.changes import (
    ChangeApproval,
    ChangeEvent,
    ChangeNotification,
    ChangeRequest,
    FreezeWindow,
    GateDecision,
    GateOverride,
)
from toil.models.deployments import Deployment, DoraSnapshot, IncidentCause


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ChangeApprovalInline(ReadOnlyInline):
    model = ChangeApproval
    fields = ["approver", "decision", "role", "comment", "created_at"]
    readonly_fields = fields


class ChangeEventInline(ReadOnlyInline):
    model = ChangeEvent
    fields = ["at", "kind", "actor", "text"]
    readonly_fields = fields
    ordering = ["at", "id"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    """Details of drafts are corrected here; status and approvals move in the portal."""

    list_display = [
        "id",
        "title",
        "category",
        "status",
        "risk_level",
        "team",
        "author",
        "window_start",
    ]
    list_filter = ["status", "category", "risk_level", "team"]
    list_select_related = ["team", "author"]
    search_fields = ["title", "description"]
    date_hierarchy = "window_start"
    autocomplete_fields = ["services", "incident", "author", "implementer"]
    readonly_fields = [
        "status",
        "team",
        "author",
        "risk_score",
        "risk_level",
        "conflicts",
        "checklist",
        "submitted_at",
        "approved_at",
        "implemented_at",
        "finished_at",
        "reviewed_at",
        "created_at",
        "updated_at",
    ]
    inlines = [ChangeApprovalInline, ChangeEventInline]

    def has_add_permission(self, request):
        # Written in the portal, where the author and the first timeline entry are recorded.
        return False

    def get_readonly_fields(self, request, obj=None):
        # What was submitted stays as it was approved: only a draft's details are corrected.
        if obj is not None and not obj.is_draft:
            return [field.name for field in obj._meta.fields] + ["services"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        stored = ChangeRequest.objects.get(pk=obj.pk)
        if not stored.is_draft:
            return
        fields = {name: form.cleaned_data[name] for name in change_actions.CHANGE_FIELDS}
        form.instance = change_actions.change_update(
            change=stored, by=request.user, services=form.cleaned_data["services"], **fields
        )

    def save_related(self, request, form, formsets, change):
        # change_update set the services; the inlines are read-only.
        pass

    def has_delete_permission(self, request, obj=None):
        # Only drafts are deleted (change_delete); what was submitted stays on record.
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_draft)

    def delete_model(self, request, obj):
        change_actions.change_delete(change=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        # "Delete selected" goes through the action too (the permission above has already
        # refused a selection with a submitted change in it).
        with transaction.atomic():
            for change in queryset:
                change_actions.change_delete(change=change, by=request.user)


@admin.register(ChangeNotification)
class ChangeNotificationAdmin(admin.ModelAdmin):
    list_display = ["change", "kind", "created_at", "sent_at", "error"]
    list_filter = ["kind"]
    list_select_related = ["change"]
    readonly_fields = ["change", "kind", "created_at", "sent_at", "recipients", "error"]

    def has_add_permission(self, request):
        return False


@admin.register(FreezeWindow)
class FreezeWindowAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    list_display = ["name", "scope", "team", "service", "start", "end", "recurrence"]
    list_filter = ["scope", "team"]
    list_select_related = ["team", "service"]
    search_fields = ["name", "reason"]
    autocomplete_fields = ["team", "service", "overriders"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in freeze_actions.FREEZE_FIELDS}
        if change:
            stored = FreezeWindow.objects.get(pk=obj.pk)
            form.instance = freeze_actions.freeze_update(freeze=stored, by=request.user, **fields)
        else:
            form.instance = freeze_actions.freeze_create(by=request.user, **fields)

    def delete_model(self, request, obj):
        freeze_actions.freeze_delete(freeze=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for freeze in queryset:
            freeze_actions.freeze_delete(freeze=freeze, by=request.user)


@admin.register(GateDecision)
class GateDecisionAdmin(admin.ModelAdmin):
    list_display = ["asked_at", "decision", "category", "change", "version", "asked_by"]
    list_filter = ["decision", "category"]
    list_select_related = ["change", "asked_by"]
    date_hierarchy = "asked_at"
    readonly_fields = [
        "asked_at",
        "asked_by",
        "category",
        "change",
        "version",
        "decision",
        "reasons",
    ]
    exclude = ["services"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GateOverride)
class GateOverrideAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    list_display = ["service", "starts_at", "expires_at", "revoked_at", "created_by"]
    list_select_related = ["service", "created_by"]
    autocomplete_fields = ["service"]
    readonly_fields = ["created_by", "created_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            # Overrides are revoked, never rewritten: their record is the audit.
            return
        form.instance = gate_actions.gate_override_create(
            service=form.cleaned_data["service"],
            reason=form.cleaned_data["reason"],
            starts_at=form.cleaned_data["starts_at"],
            expires_at=form.cleaned_data["expires_at"],
            by=request.user,
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["service", "reason", "starts_at", "expires_at", *self.readonly_fields]
        return self.readonly_fields

    @admin.action(description="Revoke the selected overrides")
    def revoke(self, request, queryset):
        for override in queryset:
            gate_actions.gate_override_revoke(override=override, by=request.user)

    actions = ["revoke"]


@admin.register(Deployment)
class DeploymentAdmin(AutocompleteGuard, admin.ModelAdmin):
    list_display = ["service", "environment", "version", "status", "finished_at", "change"]
    list_filter = ["environment", "status"]
    list_select_related = ["service", "change"]
    search_fields = ["version", "service__name", "service__slug"]
    date_hierarchy = "finished_at"
    autocomplete_fields = ["service", "change"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # A deployment is known by its service, environment and version, and its commits come
        # from the pipeline: a correction changes its times, status or change, not what it is.
        if obj is not None:
            return [*self.readonly_fields, "service", "environment", "version", "commits"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            deployment_actions.deployment_correct(deployment=obj, by=request.user)
            return
        data = form.cleaned_data
        form.instance, _ = deployment_actions.deployment_record(
            service=data["service"],
            environment=data["environment"],
            version=data["version"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            status=data["status"],
            first_commit_at=data["first_commit_at"],
            change=data["change"],
            by=request.user,
        )

    def delete_model(self, request, obj):
        deployment_actions.deployment_delete(deployment=obj, by=request.user)


@admin.register(IncidentCause)
class IncidentCauseAdmin(AutocompleteGuard, admin.ModelAdmin):
    list_display = ["incident", "deployment", "linked_by", "linked_at"]
    list_select_related = ["incident", "deployment__service", "linked_by"]
    autocomplete_fields = ["incident", "deployment"]
    readonly_fields = ["linked_by", "linked_at"]

    def save_model(self, request, obj, form, change):
        form.instance = deployment_actions.incident_cause_set(
            incident=form.cleaned_data["incident"],
            deployment=form.cleaned_data["deployment"],
            by=request.user,
        )

    def delete_model(self, request, obj):
        deployment_actions.incident_cause_set(incident=obj.incident, deployment=None, by=None)

    def delete_queryset(self, request, queryset):
        for cause in queryset.select_related("incident"):
            deployment_actions.incident_cause_set(incident=cause.incident, deployment=None, by=None)


@admin.register(DoraSnapshot)
class DoraSnapshotAdmin(admin.ModelAdmin):
    list_display = ["key", "month", "deployments", "failures", "lead_time", "computed_at"]
    list_filter = ["month"]
    search_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
