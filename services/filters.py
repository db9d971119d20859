"""FilterSets shared by the UI lists and the API lists."""

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from services.choices import Lifecycle, Tier
from services.models import Service, Tag, Team


class ServiceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    # The API schema cannot infer a slug's type through a relation's lookup path: say it.
    team = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="owner_team__slug",
            to_field_name="slug",
            queryset=Team.objects.all(),
            label="Team",
            distinct=False,
        )
    )
    # Only the tag filter crosses a to-many relation and needs DISTINCT (its default).
    tier = django_filters.MultipleChoiceFilter(choices=Tier.choices, distinct=False)
    lifecycle = django_filters.MultipleChoiceFilter(choices=Lifecycle.choices, distinct=False)
    tag = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="tags__slug",
            to_field_name="slug",
            queryset=Tag.objects.all(),
            label="Tag",
        )
    )
    handles_personal_data = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("tier", "tier"),
            ("lifecycle", "lifecycle"),
            ("owner_team__name", "team"),
            ("updated_at", "updated"),
            ("dependent_count", "dependents"),
        ),
    )

    class Meta:
        model = Service
        fields = ["q", "team", "tier", "lifecycle", "tag", "handles_personal_data"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(slug__icontains=value)
            | Q(description__icontains=value)
            | Q(system__icontains=value)
        )


class TeamFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("service_count", "services"), ("member_count", "members")),
    )

    class Meta:
        model = Team
        fields = ["q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(slug__icontains=value) | Q(description__icontains=value)
        )
