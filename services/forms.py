"""Forms of the catalog UI. They validate input; the writes happen in services.actions."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from portal.roles import editable_team_ids, is_sre_lead
from services.models import Service, Team


def add_action_error(form: forms.Form, error: ValidationError) -> None:
    """Show a ValidationError raised by an action on the form: on its field when the form
    has that field, otherwise at the top, so no action error turns into a 500."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _https_by_default(model_field, **kwargs):
    # A link typed without a scheme means https (what Django 6 will assume anyway).
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


class ServiceForm(forms.ModelForm):
    tags = forms.CharField(
        required=False,
        help_text="Comma-separated, e.g. payments, python, pci.",
    )

    class Meta:
        model = Service
        formfield_callback = _https_by_default
        fields = [
            "name",
            "slug",
            "owner_team",
            "tier",
            "lifecycle",
            "description",
            "system",
            "kind",
            "repository_url",
            "runbook_url",
            "dashboard_url",
            "oncall_url",
            "pagerduty_service_id",
            "handles_personal_data",
            "data_retention_days",
            "depends_on",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        labels = {
            "repository_url": "Repository URL",
            "runbook_url": "Runbook URL",
            "dashboard_url": "Dashboard URL",
            "pagerduty_service_id": "PagerDuty service ID",
        }
        help_texts = {
            "slug": "Used in URLs; left empty, it is made from the name.",
            "depends_on": "The services this one calls or needs to work.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        teams = Team.objects.order_by("name")
        if not is_sre_lead(user):
            # Engineers may only give services to the teams whose records they edit.
            teams = teams.filter(pk__in=editable_team_ids(user))
        self.fields["owner_team"].queryset = teams
        dependencies = Service.objects.order_by("name")
        if self.instance.pk:
            dependencies = dependencies.exclude(pk=self.instance.pk)
            self.initial["tags"] = ", ".join(tag.name for tag in self.instance.tags.all())
        self.fields["depends_on"].queryset = dependencies
        self.fields["depends_on"].widget.attrs["size"] = 8

    def clean_tags(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("slug") and cleaned_data.get("name"):
            cleaned_data["slug"] = slugify(cleaned_data["name"])
        return cleaned_data

    def action_arguments(self) -> dict:
        """Keyword arguments for services.actions.service_create / service_update."""
        return {name: self.cleaned_data[name] for name in [*self.Meta.fields, "tags"]}


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "slug", "description", "email", "chat_channel", "manager"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = get_user_model().objects.order_by("username")

    def action_arguments(self) -> dict:
        """Keyword arguments for services.actions.team_create / team_update."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that accepts several files (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, list | tuple) and data:
            return [clean_one(item, initial) for item in data]
        # No file at all: the single-file check raises "This field is required."
        return [clean_one(data, initial)]


class BackstageImportForm(forms.Form):
    # Catalog files are small; a bigger upload is a mistake, not a catalog.
    MAX_FILE_BYTES = 1024 * 1024

    files = MultipleFileField(
        label="Catalog files",
        help_text="One or more catalog-info.yaml files; each may hold several entities.",
        widget=MultipleFileInput(attrs={"accept": ".yaml,.yml"}),
    )

    def clean_files(self) -> list[tuple[str, str]]:
        """The uploads as (file name, text) pairs."""
        sources = []
        for upload in self.cleaned_data["files"]:
            if upload.size > self.MAX_FILE_BYTES:
                raise ValidationError(f"{upload.name} is larger than 1 MB.")
            try:
                sources.append((upload.name, upload.read().decode("utf-8")))
            except UnicodeDecodeError:
                raise ValidationError(f"{upload.name} is not UTF-8 text.") from None
        return sources
