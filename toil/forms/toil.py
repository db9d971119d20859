"""Forms of the toil inventory's UI. They validate input; the writes happen in
toil.actions.toil, and the inventory's rules on toil.models.inventory."""

from django import forms
from django.db import models

from services.models.catalog import Service, Team
from toil.choices.toil import CHARACTERISTIC_FIELDS, ToilStatus
from toil.models.inventory import MAX_SERVICES_PER_ITEM, ToilEntry, ToilItem, organisation_today
from toil.spreadsheet import MAX_BYTES, SpreadsheetError, read_toil_csv


def _https_by_default(model_field, **kwargs):
    # A link typed without a scheme means https (what Django 6 will assume anyway).
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


class ToilItemForm(forms.ModelForm):
    """A toil item: the team only when adding (an item stays with its team), the services
    among those of the teams the person edits, the six characteristics as checkboxes."""

    # Under toil/templates/: the form renderer looks in the apps' folders, not the project's.
    template_name = "toil/_item_form_fields.html"

    automated_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="When it became automated (today when left empty).",
    )

    class Meta:
        model = ToilItem
        fields = [
            "team",
            "task",
            "description",
            "category",
            "frequency",
            "frequency_unit",
            "minutes_each",
            "automation_potential",
            *CHARACTERISTIC_FIELDS,
            "status",
            "automation_effort_hours",
            "automation_url",
            "services",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "services": forms.CheckboxSelectMultiple(attrs={"class": "choices"}),
        }
        labels = {"frequency": "How often", "frequency_unit": "Per"}
        formfield_callback = _https_by_default

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["team"]
            team_ids = [self.instance.team_id]
            self.fields["automated_on"].initial = self.instance.automated_on
        else:
            del self.fields["automated_on"]
            self.fields["team"].queryset = teams
            self.fields["team"].empty_label = None
            team_ids = [team.pk for team in teams]
        self.fields["services"].queryset = Service.objects.filter(
            owner_team_id__in=team_ids
        ).order_by("name")
        self.fields["services"].help_text = "The services it concerns, if any."

    def get_context(self):
        return super().get_context() | {"characteristic_names": CHARACTERISTIC_FIELDS}

    def clean_services(self):
        services = self.cleaned_data["services"]
        if len(services) > MAX_SERVICES_PER_ITEM:
            raise forms.ValidationError(f"Choose at most {MAX_SERVICES_PER_ITEM} services.")
        return services

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("automated_on") and cleaned.get("status") != ToilStatus.AUTOMATED:
            self.add_error("automated_on", "Only an automated item has an automation date.")
        return cleaned

    def action_arguments(self) -> dict:
        """Keyword arguments for toil_item_create / toil_item_update."""
        return {name: self.cleaned_data[name] for name in self.fields}


class ToilEntryForm(forms.ModelForm):
    """Time spent on a toil item: the items offered are those of the person's teams."""

    item = forms.ModelChoiceField(queryset=ToilItem.objects.none(), label="Toil item")

    class Meta:
        model = ToilEntry
        fields = ["item", "date", "minutes", "note"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
        labels = {"minutes": "Minutes spent"}

    def __init__(self, *args, items, fixed_item=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items
        self.fields["item"].label_from_instance = lambda item: f"{item.team.name}: {item.task}"
        self.fields["date"].initial = organisation_today()
        self.fields["date"].widget.attrs["max"] = organisation_today().isoformat()
        if fixed_item is not None:
            self.fields["item"].initial = fixed_item.pk
            self.fields["item"].widget = forms.HiddenInput()

    def action_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class TeamCapacityForm(forms.Form):
    hours_per_engineer = forms.IntegerField(
        min_value=1,
        max_value=744,
        required=False,
        label="Working hours per engineer per month",
        help_text="Leave empty for the portal's default.",
    )


class ToilImportForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    file = forms.FileField(
        label="Spreadsheet (CSV)",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="A header row with Task, Frequency, Time (min), Monthly Toil, Automation "
        "Priority (and optionally Automation potential, Category, Description); a row per task.",
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_BYTES // 1_000_000} MB.")
        try:
            return read_toil_csv(upload.read())
        except SpreadsheetError as error:
            raise forms.ValidationError(str(error)) from None


class MonthForm(forms.Form):
    """The month a page or the API shows, as YYYY-MM."""

    month = forms.DateField(input_formats=["%Y-%m"], required=False, label="Month")
