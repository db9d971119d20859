from django import forms


class DigestPreferenceForm(forms.Form):
    digest_enabled = forms.BooleanField(
        required=False,
        label="Email me each morning what is due or overdue",
        help_text="At 08:00 in your time zone, only on days when something is due. "
        "Escalations about your teams reach managers and SRE leads regardless.",
    )

    def action_arguments(self):
        return {"digest_enabled": self.cleaned_data["digest_enabled"]}
