"""The report archive's filters, shared by /reports/ and /api/reports/."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from portal.filters import PortalFilterSet
from portal.ordering import PortalOrderingFilter
from portal.reports.models import ORG_SCOPE, MonthlyReport
from portal.reports.months import parse_month
from services.models.catalog import Team


class ReportFilterForm(forms.Form):
    def clean_scope(self):
        scope = (self.cleaned_data.get("scope") or "").strip()
        if scope and scope != ORG_SCOPE and not Team.objects.filter(slug=scope).exists():
            raise ValidationError(
                f"No team “{scope}”: the scope is “{ORG_SCOPE}” or a team's slug."
            )
        return scope

    def clean_month(self):
        month = (self.cleaned_data.get("month") or "").strip()
        if month:
            try:
                parse_month(month)
            except ValidationError as error:
                raise ValidationError(error.message_dict["month"]) from error
        return month


class ReportFilterSet(PortalFilterSet):
    scope = django_filters.CharFilter(
        method="filter_scope", label="Scope", help_text="“org” or a team's slug."
    )
    month = django_filters.CharFilter(method="filter_month", label="Month", help_text="YYYY-MM")
    # Ties (a month's reports, a team's months) as the list is unsorted: latest month first,
    # then by team name whatever the case (the organisation's last).
    ordering = PortalOrderingFilter(
        tie_break=("-month", "team__name"),
        fields=(("month", "month"), ("team__name", "scope"), ("generated_at", "generated")),
    )

    class Meta:
        model = MonthlyReport
        fields = ["scope", "month"]
        form = ReportFilterForm

    def filter_scope(self, queryset, name, value):
        if value == ORG_SCOPE:
            return queryset.filter(team=None)
        return queryset.filter(team__slug=value)

    def filter_month(self, queryset, name, value):
        return queryset.filter(month=parse_month(value).first_day)
