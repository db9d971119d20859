"""FilterSets shared by the compliance pages and the API lists."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from portal.compliance.choices import (
    CheckKind,
    CheckMethod,
    FindingStatus,
    Frequency,
    Outcome,
    Severity,
)
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult, ComplianceStatus
from portal.compliance.selectors import overdue_q, stale_q, today
from portal.filters import PortalFilterSet
from portal.ordering import PortalOrderingFilter
from services.models.catalog import Service, Team

#: A filter's options by name whatever the case ("api-gateway" next to "API Gateway").
BY_NAME = (Lower("name"), "pk")


def either_select(yes: str, no: str) -> forms.Select:
    """A yes/no filter's select that reads as the list's other filters do."""
    return forms.Select(choices=[("", "Either"), ("true", yes), ("false", no)])


def _team_filter(field_name: str):
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name,
            to_field_name="slug",
            queryset=Team.objects.order_by(*BY_NAME),
            label="Team",
            distinct=False,
        )
    )


def _check_filter(field_name: str):
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name,
            to_field_name="slug",
            queryset=ComplianceCheck.objects.order_by(*BY_NAME),
            label="Check",
            distinct=False,
        )
    )


def _service_filter(field_name: str):
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name,
            to_field_name="slug",
            queryset=Service.objects.order_by(*BY_NAME),
            label="Service",
            distinct=False,
        )
    )


class ComplianceCheckFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    kind = django_filters.MultipleChoiceFilter(choices=CheckKind.choices, distinct=False)
    method = django_filters.MultipleChoiceFilter(choices=CheckMethod.choices, distinct=False)
    frequency = django_filters.MultipleChoiceFilter(choices=Frequency.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    enabled = django_filters.BooleanFilter()
    ordering = PortalOrderingFilter(
        tie_break=("name",),
        fields=(
            ("name", "name"),
            ("kind", "kind"),
            ("frequency", "frequency"),
            ("severity_rank", "severity"),
            ("failing_count", "failing"),
        ),
    )

    class Meta:
        model = ComplianceCheck
        fields = ["q", "kind", "method", "frequency", "severity", "enabled"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(slug__icontains=value) | Q(description__icontains=value)
        )


class ComplianceMatrixFilterSet(PortalFilterSet):
    """Rows of the matrix (services). `check` also narrows the columns; `result` and `stale`
    keep the services with such a cell (in the chosen checks' columns)."""

    q = django_filters.CharFilter(method="search", label="Search")
    team = _team_filter("owner_team__slug")
    check = _check_filter("compliance_statuses__compliance_check__slug")
    result = django_filters.ChoiceFilter(
        choices=[*Outcome.choices, ("none", "Not run yet")],
        method="filter_cells",
        label="Result",
        empty_label="Any result",
    )
    stale = django_filters.BooleanFilter(
        method="filter_cells", label="Stale", widget=either_select("Stale", "Up to date")
    )
    ordering = PortalOrderingFilter(
        tie_break=("name",),
        fields=(("name", "service"), ("owner_team__name", "team"), ("failing_count", "failing")),
    )

    class Meta:
        model = Service
        fields = ["q", "team", "check", "result", "stale"]

    def filter_queryset(self, queryset):
        # The check filter narrows the cells the other filters look at, not only the rows.
        checks = self.form.cleaned_data.get("check")
        cells = ComplianceStatus.objects.filter(service=OuterRef("pk"))
        if checks:
            cells = cells.filter(compliance_check__in=checks)
            queryset = queryset.filter(Exists(cells))
        result = self.form.cleaned_data.get("result")
        if result:
            queryset = queryset.filter(
                Exists(cells.filter(outcome="" if result == "none" else result))
            )
        stale = self.form.cleaned_data.get("stale")
        if stale is not None:
            stale_cells = Exists(cells.filter(stale_q(timezone.now())))
            queryset = queryset.filter(stale_cells if stale else ~stale_cells)
        for name in ("q", "team", "ordering"):
            value = self.form.cleaned_data.get(name)
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_cells(self, queryset, name, value):
        return queryset  # applied in filter_queryset, together with `check`

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))


class ComplianceResultFilterSet(PortalFilterSet):
    check = _check_filter("compliance_check__slug")
    service = _service_filter("service__slug")
    team = _team_filter("service__owner_team__slug")
    outcome = django_filters.MultipleChoiceFilter(choices=Outcome.choices, distinct=False)
    since = django_filters.IsoDateTimeFilter(field_name="checked_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="checked_at", lookup_expr="lt")
    # Ties (a shared outcome or value) newest first, as the list is unsorted.
    ordering = PortalOrderingFilter(
        tie_break=("-checked_at",),
        fields=(("checked_at", "checked"), ("outcome", "outcome"), ("value", "value")),
    )

    class Meta:
        model = ComplianceResult
        fields = ["check", "service", "team", "outcome", "since", "until"]


class ComplianceFindingFilterSet(PortalFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    team = _team_filter("team__slug")
    check = _check_filter("compliance_check__slug")
    service = _service_filter("service__slug")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Overdue", widget=either_select("Overdue", "Not overdue")
    )
    # Ties (a shared service, severity or status) soonest due first, as the list is unsorted.
    ordering = PortalOrderingFilter(
        tie_break=("due_date", "-opened_at"),
        fields=(
            ("due_date", "due"),
            ("opened_at", "opened"),
            ("severity_rank", "severity"),
            ("status", "status"),
            ("service__name", "service"),
        ),
    )

    class Meta:
        model = ComplianceFinding
        fields = ["status", "severity", "team", "check", "service", "overdue"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = overdue_q(today())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
