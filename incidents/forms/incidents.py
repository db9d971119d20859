"""Forms of the incident UI. They validate input; the writes happen in incidents.actions."""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents import limits
from incidents.choices import IncidentRole, IncidentStatus, Severity, StatusUpdateKind
from incidents.lifecycle import backward_statuses, forward_statuses
from incidents.metrics import PERIOD_MONTHS
from incidents.models.incidents import Incident
from incidents.permissions import incident_team_ids
from incidents.selectors.incidents import engineers_and_sre_leads, people_who_may_act
from incidents.status_updates import unfilled_prompt_errors
from portal.forms import label_times_with_zone
from portal.widgets import ChoicePicker
from services.models.catalog import Service, Team


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person):
        return person.get_full_name() or person.username


class IncidentDeclareForm(forms.Form):
    """The few things worth typing while something is on fire; the rest can come later."""

    title = forms.CharField(
        max_length=limits.TITLE_MAX_LENGTH, help_text="What users see, e.g. “Checkout fails”."
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.SEV3)
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.order_by("name"),
        required=False,
        widget=ChoicePicker,
        label="Affected services",
        help_text="The first one's team owns the incident.",
    )
    summary = forms.CharField(
        required=False,
        max_length=limits.SUMMARY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional.",
    )
    started_at = forms.DateTimeField(
        required=False,
        label="Started",
        help_text="When users started to be affected; empty means now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_times_with_zone(self, "started_at")


class IncidentStatusForm(forms.Form):
    """The statuses the incident may move on to, the next one first. Going back (reopening)
    is a separate form, IncidentReopenForm: a slip of this one never reverses the incident."""

    status = forms.ChoiceField(choices=())

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (status, IncidentStatus(status).label) for status in forward_statuses(incident.status)
        ]


class IncidentReopenForm(forms.Form):
    """Moving the incident back (reopening a resolved one, or back to investigating): it
    asks for the reason, which the timeline keeps, and for a confirmation."""

    status = forms.ChoiceField(choices=(), label="Back to")
    note = forms.CharField(
        label="Reason",
        max_length=limits.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What came back, what we saw"}),
    )
    confirm = forms.BooleanField(label="Yes, move the incident back")

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, prefix="reopen", **kwargs)
        self.fields["status"].choices = [
            (status, IncidentStatus(status).label) for status in backward_statuses(incident.status)
        ]
        self.reopens = incident.status == IncidentStatus.RESOLVED
        if self.reopens:
            self.fields["confirm"].label = "Yes, reopen the resolved incident"


class IncidentSeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)


class IncidentRoleForm(forms.Form):
    """A role for a person who may act in the incident: an engineer of its teams or an SRE
    lead (incidents.permissions.may_hold_role); nobody else is offered."""

    role = forms.ChoiceField(choices=IncidentRole.choices)
    person = PersonChoiceField(queryset=None, required=False, empty_label="Nobody")

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        team_ids = incident_team_ids(incident)
        field = self.fields["person"]
        if self.is_bound:  # the queryset checks the choice
            field.queryset = engineers_and_sre_leads(team_ids).order_by("first_name", "username")
        else:
            # Shown only: the people as choices from a prepared statement, without the
            # queryset's build (it is the page's dearest, and a form only shown never uses it).
            field.queryset = get_user_model().objects.none()
            field.choices = [("", field.empty_label)] + [
                (person.pk, field.label_from_instance(person))
                for person in people_who_may_act(team_ids=list(team_ids))
            ]


class IncidentNoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=limits.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What happened, what you tried"}),
    )
    pinned = forms.BooleanField(required=False, label="Key event")


class StatusUpdateKindForm(forms.Form):
    kind = forms.ChoiceField(choices=StatusUpdateKind.choices, widget=forms.RadioSelect)


class StatusUpdateForm(forms.Form):
    """A status update as it will be sent. Prompts of the draft (``[[…]]``) must be filled in
    or removed first: readers must never get a template's blanks."""

    kind = forms.ChoiceField(choices=StatusUpdateKind.choices, widget=forms.HiddenInput)
    subject = forms.CharField(max_length=limits.STATUS_UPDATE_SUBJECT_MAX_LENGTH)
    body = forms.CharField(
        max_length=limits.STATUS_UPDATE_BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 18}),
    )

    def clean(self):
        cleaned_data = super().clean()
        errors = unfilled_prompt_errors(
            subject=cleaned_data.get("subject", ""), body=cleaned_data.get("body", "")
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned_data


class IncidentMetricsForm(forms.Form):
    """The period and scope of the metrics page: the last N months, the whole organisation or
    one team."""

    PERIODS = [(months, f"{months} months") for months in PERIOD_MONTHS]

    months = forms.TypedChoiceField(
        choices=PERIODS, coerce=int, initial=12, required=False, label="Period"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        # The page's select adds its own "All teams" option.
        empty_label=None,
    )

    month = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        label="Calendar month",
        help_text="YYYY-MM: that month alone (in the portal's time zone), as its monthly "
        "report counts it.",
        error_messages={"invalid": "Write a month as YYYY-MM, e.g. 2026-05."},
    )

    def period_months(self) -> int:
        return (self.is_valid() and self.cleaned_data["months"]) or self.fields["months"].initial

    def calendar_month(self) -> tuple[dt.datetime, dt.datetime] | None:
        """[start, end) of the month asked for, at midnights in TIME_ZONE; None without one."""
        if not self.is_valid() or not self.cleaned_data.get("month"):
            return None
        year, month = (int(part) for part in self.cleaned_data["month"].split("-"))
        zone = timezone.get_default_timezone()
        start = dt.datetime(year, month, 1, tzinfo=zone)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return start, end


class IncidentEditForm(forms.ModelForm):
    """The incident's details; status, severity and roles change through their own forms."""

    class Meta:
        model = Incident
        fields = [
            "title",
            "summary",
            "impact",
            "users_affected",
            "services",
            "started_at",
            "detected_at",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "impact": forms.Textarea(attrs={"rows": 3}),
            "services": ChoicePicker,
        }
        labels = {
            "services": "Affected services",
            "started_at": "Started",
            "detected_at": "Detected",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = Service.objects.order_by("name")
        label_times_with_zone(self, "started_at", "detected_at")

    def action_arguments(self) -> dict:
        """Keyword arguments for incidents.actions.incident_update."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
