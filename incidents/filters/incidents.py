"""FilterSets shared by the UI lists and the API lists."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from incidents.choices import OPEN_STATUSES, IncidentStatus, Severity
from incidents.models.incidents import Incident
from portal.filters import PortalFilterSet
from portal.ordering import PortalOrderingFilter
from services.models.catalog import Service, Team

_AffectedService = Incident.services.through


class IncidentFilterSet(PortalFilterSet):
    """Filters of the incident list. Without an ``ordering`` the list keeps the
    selector's order: open incidents first, then the most recent."""

    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    open = django_filters.BooleanFilter(method="filter_open", label="Open")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    # The API schema cannot infer a slug's type through a method filter: say it.
    service = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            method="filter_service",
            to_field_name="slug",
            # A filter's options show names and submit slugs: only those are read (a thousand
            # services are a thousand options).
            queryset=Service.objects.only("slug", "name"),
            label="Affected service",
        )
    )
    team = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            method="filter_team",
            to_field_name="slug",
            queryset=Team.objects.only("slug", "name"),
            label="Team",
            help_text="The owning team or the team of an affected service.",
        )
    )
    started = django_filters.DateFromToRangeFilter(field_name="started_at", label="Started between")
    ordering = PortalOrderingFilter(
        tie_break=("-started_at",),
        fields=(
            ("started_at", "started"),
            ("severity", "severity"),
            ("status", "status"),
            ("reference", "reference"),
            ("title", "title"),
        ),
    )

    class Meta:
        model = Incident
        fields = ["q", "status", "open", "severity", "service", "team", "started"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__iexact=value)
            | Q(title__icontains=value)
            | Q(summary__icontains=value)
            | Q(impact__icontains=value)
        )

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        condition = Q(status__in=OPEN_STATUSES)
        return queryset.filter(condition if value else ~condition)

    # Affected services are a to-many relation: EXISTS keeps one row per incident without
    # the cost of DISTINCT over a large list.
    def filter_service(self, queryset, name, services):
        if not services:
            return queryset
        affected = _AffectedService.objects.filter(incident=OuterRef("pk"), service__in=services)
        return queryset.filter(Exists(affected))

    def filter_team(self, queryset, name, teams):
        if not teams:
            return queryset
        affected = _AffectedService.objects.filter(
            incident=OuterRef("pk"), service__owner_team__in=teams
        )
        return queryset.filter(Q(team__in=teams) | Exists(affected))
