"""Admin pages for SRE leads: readiness checklists (with an upload that loads new versions),
reviews with their criteria, and waivers. Reviews move through the review page and the API,
where the workflow's rules live: here they are read, with their history."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from portal.roles import is_sre_lead
from services.actions.standards import checklist_load
from services.backstage.sources import Source
from services.forms import YAMLFilesForm
from services.models.readiness import (
    ChecklistCategory,
    ChecklistCriterion,
    ReadinessChecklist,
    ReadinessReview,
    ReviewItem,
    Waiver,
)
from services.standards import StandardError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the portal's own flows: SRE leads read them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LoadFilesMixin:
    """A "Load files" page on the changelist: the files go through ``loader`` (all or nothing)
    and the outcome of each is a message."""

    loader = None
    load_title = ""

    def get_urls(self):
        name = f"{self.model._meta.app_label}_{self.model._meta.model_name}_load"
        return [
            path("load/", self.admin_site.admin_view(self.load_view), name=name),
            *super().get_urls(),
        ]

    def load_view(self, request):
        if not is_sre_lead(request.user):
            raise PermissionDenied("Only SRE leads load checklists and scorecards.")
        form = YAMLFilesForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            sources = [Source(name, text) for name, text in form.cleaned_data["files"]]
            try:
                loaded = type(self).loader(sources=sources, by=request.user)
            except StandardError as error:
                form.add_error(None, f"{error}. Nothing was loaded.")
            else:
                for outcome in loaded:
                    messages.success(request, outcome.summary())
                meta = self.model._meta
                return redirect(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": self.load_title,
            "opts": self.model._meta,
        }
        return render(request, "admin/services/load_files.html", context)


class CriterionInline(admin.TabularInline):
    model = ChecklistCriterion
    fields = ["category", "key", "title", "tiers", "required", "check_name"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category")


@admin.register(ReadinessChecklist)
class ReadinessChecklistAdmin(LoadFilesMixin, ReadOnlyAdmin):
    loader = staticmethod(checklist_load)
    load_title = "Load readiness checklists"
    list_display = ["title", "key", "version", "source_name", "loaded_at", "loaded_by"]
    list_filter = ["key"]
    list_select_related = ["loaded_by"]
    search_fields = ["key", "title"]
    readonly_fields = [
        "key",
        "version",
        "title",
        "description",
        "content_hash",
        "source_name",
        "loaded_at",
        "loaded_by",
    ]
    inlines = [CriterionInline]
    change_list_template = "admin/services/load_files_changelist.html"


@admin.register(ChecklistCategory)
class ChecklistCategoryAdmin(ReadOnlyAdmin):
    list_display = ["title", "key", "checklist", "position"]
    list_select_related = ["checklist"]

    def has_module_permission(self, request):
        return False  # shown with their checklist


class ReviewItemInline(admin.TabularInline):
    model = ReviewItem
    fields = ["criterion", "status", "verdict", "evidence_url", "note", "check_reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("criterion")


@admin.register(ReadinessReview)
class ReadinessReviewAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["service", "status", "checklist", "reviewer", "approved_at", "expires_at"]
    list_filter = ["status", "checklist__key"]
    list_select_related = ["service", "checklist", "reviewer"]
    search_fields = ["service__name", "service__slug"]
    readonly_fields = [
        "service", "checklist", "status", "requested_by", "reviewer", "submitted_at",
        "approved_at", "expires_at", "waivers_expire_on", "superseded_at", "created_at",
    ]  # fmt: skip
    inlines = [ReviewItemInline]

    def view_on_site(self, review):
        return review.get_absolute_url()


@admin.register(Waiver)
class WaiverAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["item", "service", "owner", "expires_on", "granted_by"]
    list_filter = ["expires_on"]
    list_select_related = ["item__criterion", "item__review__service", "owner", "granted_by"]
    search_fields = ["item__review__service__name", "reason"]
    readonly_fields = ["item", "reason", "owner", "expires_on", "granted_by", "created_at"]

    @admin.display(description="Service")
    def service(self, waiver):
        return waiver.item.review.service
