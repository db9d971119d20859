from django import forms
from django.core.exceptions import ValidationError

from portal.reports.models import ORG_SCOPE
from services.models.catalog import Team


class SubscriptionForm(forms.Form):
    """Which report to subscribe to: “org” or a team's slug."""

    scope = forms.CharField(max_length=100)

    def clean_scope(self):
        scope = self.cleaned_data["scope"].strip()
        if scope == ORG_SCOPE:
            return None
        team = Team.objects.filter(slug=scope).first()
        if team is None:
            raise ValidationError(
                f"No team “{scope}”: the scope is “{ORG_SCOPE}” or a team's slug."
            )
        return team

    def action_arguments(self):
        return {"team": self.cleaned_data["scope"]}
