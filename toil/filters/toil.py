"""FilterSets of the toil inventory and the logged time, shared by the UI lists and the API
lists."""

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from portal.filters import PortalFilterSet
from portal.ordering import PortalOrderingFilter
from services.filters import NullsLastOrderingFilter
from services.models.catalog import Service, Team
from toil.choices.toil import ToilCategory, ToilStatus
from toil.models.inventory import TeamToilMonth, ToilEntry, ToilItem


class ToilItemFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    team = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="team__slug",
            to_field_name="slug",
            queryset=Team.objects.order_by("name"),
            label="Team",
            distinct=False,
        )
    )
    category = django_filters.MultipleChoiceFilter(choices=ToilCategory.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=ToilStatus.choices, distinct=False)
    # Only the service filter crosses a to-many relation and needs DISTINCT (its default).
    service = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="services__slug",
            to_field_name="slug",
            queryset=Service.objects.order_by("name"),
            label="Service",
        )
    )
    # Items without an estimated effort have no payback: last, whichever the direction.
    ordering = NullsLastOrderingFilter(
        fields=(
            ("roi_score", "roi"),
            ("monthly_minutes", "hours"),
            ("payback_months", "payback"),
            ("automation_potential", "potential"),
            ("task", "task"),
            ("team__name", "team"),
            ("status", "status"),
        ),
    )

    class Meta:
        model = ToilItem
        fields = ["q", "team", "category", "status", "service"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(task__icontains=value) | Q(description__icontains=value))


class ToilEntryFilterSet(PortalFilterSet):
    team = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="item__team__slug",
            to_field_name="slug",
            queryset=Team.objects.order_by("name"),
            label="Team",
            distinct=False,
        )
    )
    item = django_filters.NumberFilter(field_name="item_id", label="Toil item (id)")
    user = django_filters.CharFilter(field_name="user__username", label="Person (username)")
    category = django_filters.MultipleChoiceFilter(
        field_name="item__category", choices=ToilCategory.choices, distinct=False
    )
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="From")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="Until")
    # Ties (a shared length or task) newest first, as the list is unsorted.
    ordering = PortalOrderingFilter(
        tie_break=("-date",),
        fields=(("date", "date"), ("minutes", "minutes"), ("item__task", "task")),
    )

    class Meta:
        model = ToilEntry
        fields = ["team", "item", "user", "category", "date_after", "date_before"]


class TeamToilMonthFilterSet(PortalFilterSet):
    """Teams' monthly toil figures: the organisation's page (one month) and the API."""

    q = django_filters.CharFilter(
        field_name="team__name", lookup_expr="icontains", label="Team name"
    )
    month = extend_schema_field(OpenApiTypes.STR)(
        django_filters.DateFilter(input_formats=["%Y-%m"], label="Month (YYYY-MM)")
    )
    team = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="team__slug",
            to_field_name="slug",
            queryset=Team.objects.order_by("name"),
            label="Team",
            distinct=False,
        )
    )
    over_cap = django_filters.BooleanFilter(label="Over the cap")
    # A team without engineers has no share: last, whichever the direction.
    ordering = NullsLastOrderingFilter(
        fields=(
            ("share", "share"),
            ("measured_hours", "measured"),
            ("estimated_hours", "estimated"),
            ("hours_saved", "saved"),
            ("automation_coverage", "coverage"),
            ("team__name", "team"),
            ("month", "month"),
        ),
    )

    class Meta:
        model = TeamToilMonth
        fields = ["q", "month", "team", "over_cap"]
