"""FilterSets shared by the UI lists and the API lists."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from portal.filters import PortalFilterSet
from portal.ordering import PortalOrderingFilter
from services.budget.figures import UNKNOWN_TIER
from services.choices import (
    AlertState,
    ExemptionStatus,
    Lifecycle,
    ReviewStatus,
    SLISource,
    Tier,
)
from services.models.catalog import Service, Tag, Team
from services.models.readiness import ReadinessChecklist, ReadinessReview
from services.models.scorecards import Campaign, Exemption, Scorecard, ScorecardResult
from services.models.slos import SLO
from services.selectors.readiness import production_without_review
from services.selectors.slos import policy_tier_names


class ServiceFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    # The API schema cannot infer a slug's type through a relation's lookup path: say it.
    team = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="owner_team__slug",
            to_field_name="slug",
            # A filter's options show names and submit slugs: only those are read (a thousand
            # services are a thousand options).
            queryset=Team.objects.only("slug", "name"),
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
            queryset=Tag.objects.only("slug", "name"),
            label="Tag",
        )
    )
    handles_personal_data = django_filters.BooleanFilter()
    unreviewed_in_production = django_filters.BooleanFilter(
        method="filter_unreviewed",
        label="In production without a readiness review",
        help_text="Tier-1/2 services in production without an approved, unexpired review.",
    )
    ordering = PortalOrderingFilter(
        tie_break=("tier", "name"),
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
        fields = [
            "q",
            "team",
            "tier",
            "lifecycle",
            "tag",
            "handles_personal_data",
            "unreviewed_in_production",
        ]

    def filter_unreviewed(self, queryset, name, value):
        if value is None:
            return queryset
        unreviewed = production_without_review(timezone.now()).values("pk")
        return queryset.filter(pk__in=unreviewed) if value else queryset.exclude(pk__in=unreviewed)

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


class TeamFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    ordering = PortalOrderingFilter(
        tie_break=("name",),
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


def _policy_tier_choices():
    return [(name, name) for name in [*policy_tier_names(), UNKNOWN_TIER]]


class NullsLastOrderingFilter(PortalOrderingFilter):
    """Sorting that keeps rows without a value at the end in both directions: an SLO never
    computed has no budget, which is neither the best nor the worst."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, nulls_last=True, **kwargs)


class SLOFilterSet(PortalFilterSet):
    """The scorecards' filters; the figures come from each SLO's status snapshot."""

    q = django_filters.CharFilter(method="search", label="Search")
    team = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="service__owner_team__slug",
            to_field_name="slug",
            queryset=Team.objects.only("slug", "name"),
            label="Team",
            distinct=False,
        )
    )
    service = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="service__slug",
            to_field_name="slug",
            queryset=Service.objects.only("slug", "name"),
            label="Service",
            distinct=False,
        )
    )
    tier = django_filters.MultipleChoiceFilter(
        field_name="service__tier", choices=Tier.choices, label="Service tier", distinct=False
    )
    # Tier names come from the policies in the database: the schema knows them only as text.
    policy_tier = extend_schema_field(OpenApiTypes.STR)(
        django_filters.MultipleChoiceFilter(
            method="filter_policy_tier", choices=_policy_tier_choices, label="Policy tier"
        )
    )
    alert = django_filters.MultipleChoiceFilter(
        field_name="status__alert", choices=AlertState.choices, label="Alert", distinct=False
    )
    stale = django_filters.BooleanFilter(field_name="status__stale", label="Stale")
    source = django_filters.ChoiceFilter(choices=SLISource.choices, label="SLI data")
    ordering = NullsLastOrderingFilter(
        tie_break=("service__tier", "service__name", "name"),
        fields=(
            ("budget_remaining", "budget"),
            ("attainment", "attainment"),
            ("name", "name"),
            ("service__name", "service"),
            ("service__owner_team__name", "team"),
        ),
    )

    class Meta:
        model = SLO
        fields = ["q", "team", "service", "tier", "policy_tier", "alert", "stale", "source"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(slug__icontains=value)
            | Q(service__name__icontains=value)
            | Q(description__icontains=value)
        )

    def filter_policy_tier(self, queryset, name, values):
        # An SLO never computed has no snapshot yet: its tier is unknown.
        if not values:
            return queryset
        condition = Q(status__policy_tier__in=values)
        if UNKNOWN_TIER in values:
            condition |= Q(status__isnull=True)
        return queryset.filter(condition)


# --- readiness and scorecards -----------------------------------------------------------------


def _team_filter(field_name):
    # The API schema cannot infer a slug's type through a relation's lookup path: say it.
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name,
            to_field_name="slug",
            queryset=Team.objects.all(),
            label="Team",
            distinct=False,
        )
    )


def _service_filter(field_name):
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name,
            to_field_name="slug",
            queryset=Service.objects.all(),
            label="Service",
            distinct=False,
        )
    )


class ReviewFilterSet(PortalFilterSet):
    """Readiness reviews; ``mine`` keeps those the signed-in person reviews."""

    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ReviewStatus.choices, distinct=False)
    team = _team_filter("service__owner_team__slug")
    service = _service_filter("service__slug")
    mine = django_filters.BooleanFilter(method="filter_mine", label="I review them")
    ordering = PortalOrderingFilter(
        fields=(
            ("created_at", "created"),
            ("submitted_at", "submitted"),
            ("status", "status"),
            ("service__name", "service"),
            ("expires_at", "expires"),
        ),
    )

    class Meta:
        model = ReadinessReview
        fields = ["q", "status", "team", "service", "mine"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(service__name__icontains=value) | Q(service__slug__icontains=value)
        )

    def filter_mine(self, queryset, name, value):
        if value is None or self.request is None:
            return queryset
        mine = Q(reviewer_id=self.request.user.pk)
        return queryset.filter(mine) if value else queryset.exclude(mine)


class ScorecardResultFilterSet(PortalFilterSet):
    """Services' scorecard results: the scorecards page, its CSV export and the API."""

    q = django_filters.CharFilter(method="search", label="Search")
    scorecard = django_filters.CharFilter(field_name="scorecard__key", label="Scorecard")
    team = _team_filter("service__owner_team__slug")
    service = _service_filter("service__slug")
    tier = django_filters.MultipleChoiceFilter(
        field_name="service__tier", choices=Tier.choices, label="Tier", distinct=False
    )
    lifecycle = django_filters.MultipleChoiceFilter(
        field_name="service__lifecycle",
        choices=Lifecycle.choices,
        label="Lifecycle",
        distinct=False,
    )
    level = django_filters.CharFilter(
        method="filter_level", label="Level", help_text="A level's name, or “none”."
    )
    ordering = PortalOrderingFilter(
        fields=(
            ("service__name", "service"),
            ("service__owner_team__name", "team"),
            ("score", "score"),
            ("level_rank", "level"),
            ("service__tier", "tier"),
        ),
    )

    class Meta:
        model = ScorecardResult
        fields = ["q", "scorecard", "team", "service", "tier", "lifecycle", "level"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(service__name__icontains=value) | Q(service__slug__icontains=value)
        )

    def filter_level(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.lower() == "none":
            return queryset.filter(level_rank=0)
        return queryset.filter(level__name__iexact=value)


class ExemptionFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ExemptionStatus.choices, distinct=False)
    team = _team_filter("service__owner_team__slug")
    service = _service_filter("service__slug")
    scorecard = django_filters.CharFilter(field_name="scorecard_key", label="Scorecard")
    ordering = PortalOrderingFilter(
        fields=(
            ("requested_at", "requested"),
            ("expires_on", "expires"),
            ("service__name", "service"),
            ("status", "status"),
        ),
    )

    class Meta:
        model = Exemption
        fields = ["q", "status", "team", "service", "scorecard"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(service__name__icontains=value)
            | Q(check_name__icontains=value)
            | Q(reason__icontains=value)
        )


class CampaignFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    scorecard = django_filters.CharFilter(field_name="scorecard_key", label="Scorecard")
    ordering = PortalOrderingFilter(
        fields=(("due_on", "due"), ("name", "name"), ("created_at", "created"))
    )

    class Meta:
        model = Campaign
        fields = ["q", "scorecard"]


class ChecklistFilterSet(PortalFilterSet):
    key = django_filters.CharFilter(label="Checklist")
    ordering = PortalOrderingFilter(
        fields=(("key", "key"), ("version", "version"), ("loaded_at", "loaded"))
    )

    class Meta:
        model = ReadinessChecklist
        fields = ["key"]


class ScorecardFilterSet(PortalFilterSet):
    key = django_filters.CharFilter(label="Scorecard")
    ordering = PortalOrderingFilter(
        fields=(("key", "key"), ("version", "version"), ("loaded_at", "loaded"))
    )

    class Meta:
        model = Scorecard
        fields = ["key"]
