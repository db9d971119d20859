"""Forms of the compliance pages. They validate input; writes happen in the actions."""

from django import forms
from django.db.models.functions import Lower

from portal.compliance.actions.checks import CHECK_FIELDS
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.runs import ComplianceAttestation
from services.models.catalog import Tag


class ComplianceCheckForm(forms.ModelForm):
    class Meta:
        model = ComplianceCheck
        fields = list(CHECK_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "query": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        }
        help_texts = {
            "slug": "Used in URLs; left empty, it is made from the name.",
            "frequency": "Left empty: the seed's default for the kind (data retention daily, "
            "consent tracking weekly, data export monthly).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["frequency"].required = False
        self.fields["tag"].queryset = Tag.objects.order_by(Lower("name"), "pk")

    def action_arguments(self) -> dict:
        """Keyword arguments for compliance_check_create / compliance_check_update."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class AttestationForm(forms.ModelForm):
    # A link typed without a scheme means https (what Django 6 will assume anyway).
    evidence_url = forms.URLField(
        label="Evidence link",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="A link to the evidence: a ticket, a report, a dashboard.",
    )

    class Meta:
        model = ComplianceAttestation
        fields = ["evidence_url", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"note": "What was verified, and how."}

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("evidence_url") and not (cleaned.get("note") or "").strip():
            raise forms.ValidationError("Give the evidence: a link, a note, or both.")
        return cleaned

    def action_arguments(self) -> dict:
        return {
            "evidence_url": self.cleaned_data["evidence_url"],
            "note": self.cleaned_data["note"],
        }


class AcceptRiskForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why the failure is acceptable for now.",
    )
    expires_on = forms.DateField(
        label="Accepted until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="After this day the finding is open again if the check still fails.",
    )

    def action_arguments(self) -> dict:
        return {
            "reason": self.cleaned_data["reason"],
            "expires_on": self.cleaned_data["expires_on"],
        }
