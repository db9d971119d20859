"""Admin pages for SRE leads: check definitions (saved through the actions, so that their
statuses follow), results and attestations to read, findings with their transitions."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from portal.autocomplete import AutocompleteGuard
from portal.compliance.actions.checks import compliance_check_delete, compliance_check_save
from portal.compliance.actions.findings import compliance_finding_acknowledge
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceAttestation, ComplianceResult, ComplianceStatus


@admin.register(ComplianceCheck)
class ComplianceCheckAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    list_display = ["name", "kind", "method", "frequency", "severity", "applies_to", "enabled"]
    list_filter = ["kind", "method", "frequency", "severity", "enabled"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["tag"]

    def save_model(self, request, obj, form, change):
        compliance_check_save(check=obj, by=request.user)

    def delete_model(self, request, obj):
        compliance_check_delete(check=obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ComplianceResult)
class ComplianceResultAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "compliance_check", "service", "outcome", "value", "detail"]
    list_filter = ["outcome", "compliance_check"]
    list_select_related = ["compliance_check", "service"]
    search_fields = ["service__slug", "detail"]
    date_hierarchy = "checked_at"


@admin.register(ComplianceStatus)
class ComplianceStatusAdmin(ReadOnlyAdmin):
    list_display = ["compliance_check", "service", "outcome", "checked_at", "due_at", "claimed_at"]
    list_filter = ["outcome", "compliance_check"]
    list_select_related = ["compliance_check", "service"]
    search_fields = ["service__slug"]


@admin.register(ComplianceAttestation)
class ComplianceAttestationAdmin(ReadOnlyAdmin):
    list_display = ["attested_at", "compliance_check", "service", "attested_by", "evidence_url"]
    list_select_related = ["compliance_check", "service", "attested_by"]
    search_fields = ["service__slug", "note"]


@admin.register(ComplianceFinding)
class ComplianceFindingAdmin(SimpleHistoryAdmin):
    """Findings move through the actions (a pass resolves them, the portal's pages take
    acknowledgement and accepted risk); here SRE leads read them and acknowledge in bulk."""

    list_display = [
        "service",
        "compliance_check",
        "team",
        "severity",
        "status",
        "opened_at",
        "due_date",
    ]
    list_filter = ["status", "severity", "compliance_check", "team"]
    list_select_related = ["service", "compliance_check", "team"]
    search_fields = ["service__slug", "risk_reason"]
    actions = ["acknowledge"]
    readonly_fields = [field.name for field in ComplianceFinding._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Acknowledge the selected open findings")
    def acknowledge(self, request, queryset):
        done = 0
        for finding in queryset:
            try:
                compliance_finding_acknowledge(finding=finding, by=request.user)
            except ValidationError:
                continue
            done += 1
        self.message_user(request, f"{done} finding(s) acknowledged.", messages.SUCCESS)
