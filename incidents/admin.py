"""Admin pages for SRE leads: severities, incidents (with their timeline and alerts),
status updates, post-mortems and action items, with change history, and the metrics
snapshots the worker computes.

Incidents are declared and moved through their lifecycle in the portal; here SRE leads
correct them. Every save goes through the actions the UI uses (``save_model`` and the inline
formsets call them), so a correction writes its timeline entry and history and marks the
metrics, role holders meet the same rule, and a post-mortem's writers stay on record. The
timeline stays append-only: only its key-event marks change, through the pin action.
"""

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from incidents.actions.incidents import (
    CORRECTABLE_FIELDS,
    incident_assign_role,
    incident_change_severity,
    incident_correct,
    incident_subscribe,
    timeline_entry_pin,
)
from incidents.actions.postmortems import (
    POSTMORTEM_WRITABLE_FIELDS,
    action_item_create,
    action_item_update,
    postmortem_update,
)
from incidents.choices import IncidentRole, IncidentStatus, PostMortemStatus
from incidents.models.incidents import (
    Incident,
    IncidentAlert,
    SeverityLevel,
    StatusUpdate,
    TimelineEntry,
)
from incidents.models.metrics import IncidentMetricsSnapshot
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.permissions import may_hold_role, role_refusal
from portal.autocomplete import AutocompleteGuard


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


class IncidentAdminForm(forms.ModelForm):
    """The rules the actions would refuse, as form errors: role holders who may act in the
    incident, and a closed incident's severity and roles staying as they are."""

    class Meta:
        model = Incident
        fields = [
            "title",
            "summary",
            "severity",
            "services",
            "team",
            *IncidentRole.values,
            "subscribers",
            *sorted(CORRECTABLE_FIELDS - {"title", "summary", "team"}),
        ]

    def clean(self):
        data = super().clean()
        changed = set(self.changed_data)
        team = data.get("team", self.instance.team)
        team_ids = {service.owner_team_id for service in data.get("services") or ()}
        team_ids |= {team.pk} if team else set()
        for role in IncidentRole.values:
            person = data.get(role)
            if role in changed and person is not None and not may_hold_role(person, team_ids):
                self.add_error(role, role_refusal(person))
        if self.instance.status == IncidentStatus.CLOSED:
            for name in changed & {"severity", *IncidentRole.values}:
                self.add_error(name, "The incident is closed: its severity and roles are final.")
        return data


@admin.register(Incident)
class IncidentAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    form = IncidentAdminForm
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
    readonly_fields = [
        "reference",
        "status",
        "source",
        "alert_group_key",
        "declared_by",
        "created_at",
        "updated_at",
    ]
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

    def save_model(self, request, obj, form, change):
        """Apply the form's changes through the actions, as the UI would."""
        data, changed = form.cleaned_data, set(form.changed_data)
        incident = Incident.objects.get(pk=obj.pk)
        incident_correct(
            incident=incident,
            by=request.user,
            services=data["services"] if "services" in changed else None,
            # In the form's order, so that the timeline names them as the page shows them.
            **{name: data[name] for name in form.changed_data if name in CORRECTABLE_FIELDS},
        )
        if "severity" in changed:
            incident_change_severity(
                incident=incident, severity=data["severity"], by=request.user, note="In the admin."
            )
        for role in IncidentRole.values:
            if role in changed:
                incident_assign_role(incident=incident, role=role, user=data[role], by=request.user)
        if "subscribers" in changed:
            wanted = set(data["subscribers"])
            current = set(incident.subscribers.all())
            for person in wanted ^ current:
                incident_subscribe(incident=incident, user=person, subscribed=person in wanted)
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The many-to-many fields went through the actions in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(StatusUpdate)
class StatusUpdateAdmin(admin.ModelAdmin):
    list_filter = ["kind"]
    list_select_related = ["incident", "created_by"]
    search_fields = ["subject", "body", "incident__reference"]
    list_display = [
        "subject",
        "incident",
        "kind",
        "created_by",
        "created_at",
        "sent_at",
        "attempts",
        "failed_at",
    ]
    readonly_fields = [field.name for field in StatusUpdate._meta.fields]

    # Sent messages are a record of what people were told.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


ACTION_ITEM_FIELDS = ["title", "owner", "due_date", "priority", "kind", "status", "wont_do_reason"]


class ActionItemFormSet(BaseInlineFormSet):
    def save_new(self, form, commit=True):
        data = {name: form.cleaned_data[name] for name in ACTION_ITEM_FIELDS}
        return action_item_create(postmortem=self.instance, **data)

    def save_existing(self, form, obj, commit=True):
        data = {name: form.cleaned_data[name] for name in ACTION_ITEM_FIELDS}
        return action_item_update(action_item=ActionItem.objects.get(pk=obj.pk), **data)


class ActionItemInline(AutocompleteGuard, admin.TabularInline):
    model = ActionItem
    formset = ActionItemFormSet
    fields = ACTION_ITEM_FIELDS
    autocomplete_fields = ["owner"]
    extra = 0
    # Action items are closed (done, won't do), not deleted: what was decided stays.
    can_delete = False


class PostMortemAdminForm(forms.ModelForm):
    class Meta:
        model = PostMortem
        fields = ["reviewers", *PostMortem.SECTIONS]

    def clean(self):
        data = super().clean()
        if self.instance.status == PostMortemStatus.PUBLISHED and self.changed_data:
            raise forms.ValidationError("The post-mortem is published; its record is final.")
        return data


@admin.register(PostMortem)
class PostMortemAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    form = PostMortemAdminForm
    list_display = ["incident", "status", "author", "due_at", "published_at"]
    list_filter = ["status"]
    list_select_related = ["incident", "author"]
    search_fields = ["incident__reference", "incident__title", "summary", "root_cause"]
    autocomplete_fields = ["reviewers"]
    fields = ["incident", "status", "author", "contributors", "reviewers", *PostMortem.SECTIONS]
    readonly_fields = [
        "incident",
        "status",
        "author",
        "contributors",
        "due_at",
        "published_at",
        "created_at",
        "updated_at",
    ]
    inlines = [ActionItemInline]

    # A post-mortem starts from its incident in the portal, and moves through its workflow
    # there (review is independent of its writers).
    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data)
        sections = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in POSTMORTEM_WRITABLE_FIELDS
        }
        reviewers = form.cleaned_data["reviewers"] if "reviewers" in changed else None
        if sections or reviewers is not None:
            postmortem_update(
                postmortem=PostMortem.objects.get(pk=obj.pk),
                by=request.user,
                reviewers=reviewers,
                **sections,
            )
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # Reviewers went through postmortem_update in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(ActionItem)
class ActionItemAdmin(AutocompleteGuard, SimpleHistoryAdmin):
    list_display = ["title", "postmortem", "owner", "priority", "kind", "status", "due_date"]
    list_filter = ["status", "priority", "kind"]
    list_select_related = ["postmortem__incident", "owner"]
    search_fields = ["title", "postmortem__incident__reference"]
    autocomplete_fields = ["postmortem", "owner"]
    readonly_fields = ["completed_at", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ACTION_ITEM_FIELDS}
        if change:
            saved = action_item_update(action_item=ActionItem.objects.get(pk=obj.pk), **data)
        else:
            saved = action_item_create(postmortem=form.cleaned_data["postmortem"], **data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def get_readonly_fields(self, request, obj=None):
        # An action item stays with its post-mortem.
        return [*self.readonly_fields, "postmortem"] if obj else self.readonly_fields


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
