"""Forms of the catalog and SLO UI. They validate input; the writes happen in services.actions."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from portal.forms import label_times_with_zone, show_only_when
from portal.roles import editable_team_ids, is_sre_lead
from portal.widgets import ChoicePicker
from services.choices import (
    BudgetingMethod,
    CriterionStatus,
    SLISource,
    Tier,
    Verdict,
    WindowKind,
)
from services.models.catalog import DESCRIPTION_MAX_LENGTH, Service, Team
from services.models.scorecards import Campaign
from services.models.slos import SLO, BudgetPolicy, BudgetPolicyTier, MaintenanceWindow


def https_by_default(model_field, **kwargs):
    # A link typed without a scheme means https (what Django 6 will assume anyway).
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


class ServiceForm(forms.ModelForm):
    tags = forms.CharField(
        required=False,
        help_text="Comma-separated, e.g. payments, python, pci.",
    )
    readiness_override = forms.CharField(
        required=False,
        label="Readiness override",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="SRE leads only: why this tier-1 or tier-2 service may enter production "
        "without an approved readiness review (kept in the service's history).",
    )

    class Meta:
        model = Service
        formfield_callback = https_by_default
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
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4, "maxlength": DESCRIPTION_MAX_LENGTH}),
            "depends_on": ChoicePicker,
        }
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
        self.user = user
        if not is_sre_lead(user):
            del self.fields["readiness_override"]

    def clean_tags(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("slug") and cleaned_data.get("name"):
            cleaned_data["slug"] = slugify(cleaned_data["name"])
        return cleaned_data

    def action_arguments(self) -> dict:
        """Keyword arguments for services.actions.service_create / service_update."""
        arguments = {name: self.cleaned_data[name] for name in [*self.Meta.fields, "tags"]}
        arguments["by"] = self.user
        arguments["readiness_override"] = self.cleaned_data.get("readiness_override", "")
        return arguments


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "slug", "description", "email", "chat_channel", "manager"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3, "maxlength": DESCRIPTION_MAX_LENGTH})
        }

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


class YAMLFilesForm(forms.Form):
    """An upload of YAML files, read as (file name, text) pairs."""

    # These files are small; a bigger upload is a mistake, not a catalog or a checklist.
    MAX_FILE_BYTES = 1024 * 1024

    files = MultipleFileField(
        label="Files",
        help_text="One or more YAML files.",
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


class BackstageImportForm(YAMLFilesForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].label = "Catalog files"
        self.fields[
            "files"
        ].help_text = "One or more catalog-info.yaml files; each may hold several entities."


class SLOForm(forms.ModelForm):
    """An SLO of one service (the view sets it on the instance). The model's clean() holds
    the cross-field rules: different queries, a known time zone, slices only with timeslices."""

    class Meta:
        model = SLO
        fields = [
            "name",
            "slug",
            "description",
            "sli_kind",
            "objective",
            "window_kind",
            "window_days",
            "time_zone",
            "budgeting_method",
            "slice_minutes",
            "slice_target",
            "source",
            "query_kind",
            "events_query",
            "total_query",
            "labels",
            "budget_policy",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "events_query": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            "total_query": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            "labels": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "objective": "Objective (%)",
            "window_days": "Rolling window (days)",
            "slice_minutes": "Slice length (minutes)",
            "slice_target": "Slice target (%)",
            "events_query": "Events query",
        }
        help_texts = {
            "slug": "Used in URLs; left empty, it is made from the name.",
            "events_query": "PromQL returning good (or bad, per the query kind) events per "
            "second, with {{.window}} where the range goes, e.g. "
            'sum(rate(http_requests_total{job="api",code!~"5.."}[{{.window}}])).',
            "total_query": "PromQL returning all events per second, with {{.window}}.",
            "labels": 'Optional, as JSON, e.g. {"journey": "checkout"}.',
            "budget_policy": "Empty: the default policy.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        # Only the fields that apply to the SLO being written show.
        timeslices = [BudgetingMethod.TIMESLICES]
        show_only_when(self, "slice_minutes", field="budgeting_method", values=timeslices)
        show_only_when(self, "slice_target", field="budgeting_method", values=timeslices)
        show_only_when(self, "window_days", field="window_kind", values=[WindowKind.ROLLING])
        calendar = [WindowKind.CALENDAR_MONTH]
        show_only_when(self, "time_zone", field="window_kind", values=calendar)
        # A pushed SLO's data comes from elsewhere: it needs no queries, and shows none.
        prometheus = [SLISource.PROMETHEUS]
        for name in ("query_kind", "events_query", "total_query"):
            show_only_when(self, name, field="source", values=prometheus)

    def clean_objective(self):
        objective = self.cleaned_data["objective"]
        if not 0 < objective < 100:
            raise ValidationError("The objective is a percentage above 0 and below 100.")
        return objective

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("slug") and cleaned_data.get("name"):
            cleaned_data["slug"] = slugify(cleaned_data["name"])
        if cleaned_data.get("budgeting_method") != BudgetingMethod.TIMESLICES:
            # Hidden, yet posted with what they held before the method changed.
            cleaned_data["slice_minutes"] = cleaned_data["slice_target"] = None
        return cleaned_data

    def action_arguments(self) -> dict:
        """Keyword arguments for services.actions.slo_create / slo_update."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MaintenanceWindowForm(forms.ModelForm):
    """Planned work to leave out of an SLO's figures; times in the viewer's time zone."""

    class Meta:
        model = MaintenanceWindow
        fields = ["start", "end", "reason"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_times_with_zone(self, "start", "end")

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        if start and end and end <= start:
            self.add_error("end", "A maintenance window ends after it starts.")
        return cleaned_data

    def action_arguments(self) -> dict:
        """Keyword arguments for services.actions.maintenance_window_create."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


#: What a tier is made of, for services.actions.slos.budget_policy_save.
TIER_FIELDS = ["name", "min_remaining", "min_included", "change_rule", "description"]


class BudgetPolicyTierFormSet(forms.BaseInlineFormSet):
    """A policy's tiers edited together (the admin's inline): the set keeps the rules of
    BudgetPolicy.validate_tiers, which the API and imports meet through the action."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        tiers = [BudgetPolicyTier(**fields) for fields in self.tier_fields()]
        try:
            BudgetPolicy.validate_tiers(tiers)
        except ValidationError as error:
            raise ValidationError(error.message_dict["tiers"]) from None

    def tier_fields(self) -> list[dict]:
        """The tiers the forms leave, as keyword arguments: deleted and empty forms left out."""
        return [
            {name: form.cleaned_data[name] for name in TIER_FIELDS}
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]


# --- readiness reviews ------------------------------------------------------------------------


class _ArgumentsForm(forms.Form):
    def action_arguments(self) -> dict:
        return dict(self.cleaned_data)


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReviewerForm(_ArgumentsForm):
    """Who reviews: an SRE lead or a PRR reviewer from outside the service's team."""

    reviewer = forms.ModelChoiceField(queryset=None, empty_label="Choose a reviewer")

    def __init__(self, *args, reviewers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers
        self.fields["reviewer"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )


class ItemAnswerForm(_ArgumentsForm):
    status = forms.ChoiceField(label="Answer")
    evidence_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", label="Evidence link"
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="How it is met, or why it does not apply to this service.",
    )

    def __init__(self, *args, automatic: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (CriterionStatus.MET, "Met"),
            (CriterionStatus.NOT_MET, "Not met"),
            (CriterionStatus.NOT_APPLICABLE, "Not applicable"),
            (CriterionStatus.PENDING, "Take the answer back"),
        ]
        if automatic:
            choices = [
                (CriterionStatus.NOT_APPLICABLE, "Not applicable"),
                (CriterionStatus.PENDING, "Let the portal's check decide"),
            ]
        self.fields["status"].choices = choices


class ItemJudgeForm(_ArgumentsForm):
    verdict = forms.ChoiceField(
        choices=[(Verdict.ACCEPTED, "Accept"), (Verdict.REJECTED, "Reject")],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when rejecting: say what is missing.",
    )


class WaiverForm(_ArgumentsForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(
        queryset=None, help_text="Who answers for closing the gap before the waiver expires."
    )
    expires_on = forms.DateField(widget=_date_input(), label="Expires on")

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people
        self.fields["owner"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )


class ReviewCommentForm(_ArgumentsForm):
    text = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 3}))


class ReviewDecisionForm(_ArgumentsForm):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


# --- scorecards ---------------------------------------------------------------------------------


class ExemptionForm(_ArgumentsForm):
    check_name = forms.ChoiceField(label="Rule")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    expires_on = forms.DateField(widget=_date_input(), label="Until")

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check_name"].choices = [(rule.check_name, rule.title) for rule in rules]


class ExemptionDecisionForm(_ArgumentsForm):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when refusing.",
    )


class CampaignForm(forms.ModelForm):
    tiers = forms.TypedMultipleChoiceField(
        choices=Tier.choices, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    scorecard_key = forms.ChoiceField(label="Scorecard")

    class Meta:
        model = Campaign
        fields = ["name", "slug", "description", "scorecard_key", "target_level", "tiers", "due_on"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "due_on": _date_input()}
        help_texts = {
            "slug": "Used in URLs; left empty, it is made from the name.",
            "target_level": "The level every service in scope should reach, e.g. Silver.",
        }

    def __init__(self, *args, scorecards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["scorecard_key"].choices = [
            (scorecard.key, scorecard.title) for scorecard in scorecards
        ]

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("slug") and cleaned_data.get("name"):
            cleaned_data["slug"] = slugify(cleaned_data["name"])
        return cleaned_data

    def action_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
