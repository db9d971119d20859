"""Forms of change requests, freezes, the gate's overrides, the DORA page and the incident's
cause. They validate input; the writes happen in toil.actions."""

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models.incidents import Incident
from portal.timezones import time_zone_error
from services.models.catalog import Service, Team
from toil import freezes
from toil.actions.changes import CHANGE_FIELDS
from toil.actions.freezes import FREEZE_FIELDS
from toil.choices.changes import (
    CATEGORY_EXAMPLES,
    CHECKLIST_LABELS,
    ApprovalDecision,
    ChangeCategory,
    FreezeScope,
)
from toil.models.changes import ChangeRequest, FreezeWindow

#: Zones offered first in the time-zone list; any IANA name is accepted.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def _people():
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "username")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person):
        return person.get_full_name() or person.username


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, person):
        return person.get_full_name() or person.username


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, service):
        return f"{service.name} (tier {service.tier})"


def _local(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _in_zone(value: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The wall-clock time typed (Django made it aware in the viewer's zone) read in ``zone``."""
    naive = timezone.make_naive(value) if timezone.is_aware(value) else value
    return naive.replace(tzinfo=zone)


def _shown_in(value: dt.datetime | None, zone_name: str) -> dt.datetime | None:
    """A stored time as a naive wall-clock time in ``zone_name``, for a datetime-local input."""
    if value is None:
        return None
    return value.astimezone(zoneinfo.ZoneInfo(zone_name)).replace(tzinfo=None)


class TimeZoneField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.widget.attrs.update({"list": "time-zones", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value).strip()
        if error := time_zone_error(value):
            raise ValidationError(error)
        return value


class LocalWindowMixin:
    """Start and end typed as wall-clock times in the form's chosen time zone."""

    window_fields = ("window_start", "window_end")

    def clean(self):
        cleaned = super().clean()
        zone_name = cleaned.get("time_zone")
        if zone_name:
            zone = zoneinfo.ZoneInfo(zone_name)
            for name in self.window_fields:
                if cleaned.get(name):
                    cleaned[name] = _in_zone(cleaned[name], zone).astimezone(dt.UTC)
        start, end = (cleaned.get(name) for name in self.window_fields)
        if start and end and end <= start:
            self.add_error(self.window_fields[1], "The end must come after the start.")
        return cleaned


class ChangeForm(LocalWindowMixin, forms.Form):
    """A change request: what, where, when, how risky, how to undo it."""

    title = forms.CharField(max_length=200)
    category = forms.ChoiceField(
        choices=[
            (value, f"{label}: {CATEGORY_EXAMPLES[value]}")
            for value, label in ChangeCategory.choices
        ],
        widget=forms.RadioSelect,
        initial=ChangeCategory.STANDARD,
    )
    services = ServiceChoiceField(
        queryset=Service.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="The first one's team owns the change.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    window_start = _local("Planned start")
    window_end = _local("Planned end")
    time_zone = TimeZoneField(
        initial=settings.TIME_ZONE, help_text="The zone the start and end are written in."
    )
    implementer = PersonChoiceField(queryset=_people(), required=False, empty_label="Not yet known")
    rollback_plan = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required unless the change is low-risk.",
    )
    incident = forms.ModelChoiceField(
        queryset=Incident.objects.order_by("-started_at"),
        to_field_name="reference",
        required=False,
        label="Linked incident",
        help_text="Required for an emergency change: the reference, e.g. INC-2026-0042.",
        widget=forms.TextInput(attrs={"placeholder": "INC-2026-0042"}),
    )
    customer_facing = forms.BooleanField(required=False, label="Will customers notice it?")
    data_migration = forms.BooleanField(required=False, label="Does it migrate data?")
    rollback_tested = forms.BooleanField(required=False, label="Was the rollback tested?")
    tested_in_staging = forms.BooleanField(required=False, label="Was it tested in staging?")
    outside_working_hours = forms.BooleanField(
        required=False, label="Does it happen outside working hours?"
    )

    QUESTIONNAIRE = (
        "customer_facing",
        "data_migration",
        "rollback_tested",
        "tested_in_staging",
        "outside_working_hours",
    )

    def __init__(self, *args, instance: ChangeRequest | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            initial = {name: getattr(instance, name) for name in CHANGE_FIELDS}
            initial["services"] = list(instance.services.all())
            initial["incident"] = instance.incident.reference if instance.incident_id else ""
            for name in self.window_fields:
                initial[name] = _shown_in(getattr(instance, name), instance.time_zone)
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        category = cleaned.get("category")
        missing_incident = not cleaned.get("incident") and "incident" not in self.errors
        if category == ChangeCategory.EMERGENCY and missing_incident:
            self.add_error("incident", "An emergency change needs the incident it answers.")
        if (
            category
            and category != ChangeCategory.LOW_RISK
            and not cleaned.get("rollback_plan", "").strip()
        ):
            self.add_error("rollback_plan", "Say how to undo it: required unless low-risk.")
        return cleaned

    def action_arguments(self) -> dict:
        data = {name: self.cleaned_data[name] for name in CHANGE_FIELDS}
        data["services"] = list(self.cleaned_data["services"])
        return data


class ChangeMoveForm(forms.Form):
    review = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Post-implementation review",
    )
    acknowledge_conflicts = forms.BooleanField(
        required=False, label="Schedule it despite the conflicts listed"
    )


class ChangeDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=ApprovalDecision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when you reject it.",
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") == ApprovalDecision.REJECT
            and not cleaned.get("comment", "").strip()
        ):
            self.add_error("comment", "Say why: a rejection needs a comment.")
        return cleaned


class ChecklistForm(forms.Form):
    item = forms.ChoiceField(choices=sorted(CHECKLIST_LABELS.items()))
    done = forms.BooleanField(required=False)


class FreezeForm(LocalWindowMixin, forms.Form):
    """A freeze window: its first (or only) occurrence as wall-clock times in its zone."""

    window_fields = ("start", "end")

    name = forms.CharField(max_length=150)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    scope = forms.ChoiceField(choices=FreezeScope.choices, widget=forms.RadioSelect)
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, to_field_name="slug"
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), required=False, to_field_name="slug"
    )
    start = _local("Starts")
    end = _local("Ends")
    time_zone = TimeZoneField(initial=settings.TIME_ZONE)
    recurrence = forms.CharField(
        required=False,
        max_length=300,
        label="Repeats (RFC 5545 rule)",
        help_text="Empty for a one-off freeze. E.g. FREQ=WEEKLY;BYDAY=FR repeats it every "
        "week; add ;UNTIL=20261231T000000 to stop.",
    )
    overriders = PeopleChoiceField(
        queryset=_people(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="May schedule changes into it",
        help_text="Besides SRE leads.",
    )

    def __init__(self, *args, instance: FreezeWindow | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            initial = {name: getattr(instance, name) for name in FREEZE_FIELDS}
            initial["team"] = instance.team.slug if instance.team_id else ""
            initial["service"] = instance.service.slug if instance.service_id else ""
            initial["overriders"] = list(instance.overriders.all())
            for name in self.window_fields:
                initial[name] = _shown_in(getattr(instance, name), instance.time_zone)
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean_recurrence(self):
        recurrence = self.cleaned_data["recurrence"].strip()
        if message := freezes.recurrence_error(recurrence):
            raise ValidationError(message)
        return recurrence

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("scope")
        lacking = freezes.scope_errors(
            scope, team=cleaned.get("team"), service=cleaned.get("service")
        )
        for field, message in lacking.items():
            self.add_error(field, message)
        if scope != FreezeScope.TEAM:
            cleaned["team"] = None
        if scope != FreezeScope.SERVICE:
            cleaned["service"] = None
        return cleaned

    def action_arguments(self) -> dict:
        data = {name: self.cleaned_data[name] for name in FREEZE_FIELDS}
        data["overriders"] = list(self.cleaned_data["overriders"])
        return data


class GateOverrideForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug"
    )
    hours = forms.IntegerField(
        min_value=1,
        initial=2,
        label="For how many hours",
    )
    reason = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        most = settings.GATE_OVERRIDE_MAX_HOURS
        self.fields["hours"].widget.attrs["max"] = most
        self.fields["hours"].help_text = f"At most {most}."

    def clean_hours(self):
        hours = self.cleaned_data["hours"]
        if hours > settings.GATE_OVERRIDE_MAX_HOURS:
            raise ValidationError(
                f"An override lasts at most {settings.GATE_OVERRIDE_MAX_HOURS} hours."
            )
        return hours


class DoraScopeForm(forms.Form):
    """The DORA page's scope: the organisation, a team or a service."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), to_field_name="slug", required=False
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug", required=False
    )


class IncidentCauseForm(forms.Form):
    deployment = forms.IntegerField(
        required=False, min_value=1, help_text="Empty: the cause is not known."
    )
