"""REST API of the toil inventory, with the UI's rules: everyone signed in reads; engineers
write their own teams' items and their own logged time; SRE leads everything.

Reads come from toil.selectors.toil, writes go through toil.actions.toil, and a refused
write (an item of another team, a day to come, a frequency out of range) is a 400 naming the
field.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as BadRequest
from rest_framework.response import Response

from portal.api.fields import CappedListField
from portal.roles import (
    TeamScopedPermission,
    can_create_anything,
    can_edit_team_records,
    is_sre_lead,
)
from services.api.catalog import ServiceSlugsField
from services.models.catalog import Team
from toil import roi
from toil.actions.toil import (
    toil_entry_delete,
    toil_entry_log,
    toil_entry_update,
    toil_item_create,
    toil_item_delete,
    toil_item_update,
)
from toil.choices.toil import CHARACTERISTIC_FIELDS, ToilCategory
from toil.filters.toil import TeamToilMonthFilterSet, ToilEntryFilterSet, ToilItemFilterSet
from toil.forms.toil import MonthForm
from toil.models.inventory import (
    DESCRIPTION_MAX_LENGTH,
    MAX_SERVICES_PER_ITEM,
    TeamToilMonth,
    ToilEntry,
    ToilItem,
)
from toil.selectors import toil as selectors


class ItemServicesField(ServiceSlugsField):
    """The services an item concerns, by slug: at most MAX_SERVICES_PER_ITEM."""

    def __init__(self, **kwargs):
        CappedListField.__init__(self, max_length=MAX_SERVICES_PER_ITEM, **kwargs)


class ToilItemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="toilitem-detail")
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    services = ItemServicesField(required=False)
    automated_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="With status `automated`: the day it became automated (today by default).",
    )
    characteristics_met = serializers.IntegerField(read_only=True)
    may_not_be_toil = serializers.BooleanField(
        read_only=True, help_text="Fewer than four of the six characteristics of toil."
    )
    monthly_hours = serializers.SerializerMethodField()
    roi_score = serializers.FloatField(
        read_only=True, help_text="Monthly minutes times automation potential."
    )
    payback_months = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Automation effort ÷ monthly hours; null while the effort is not estimated.",
    )
    baseline_monthly_hours = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = ToilItem
        fields = [
            "id",
            "url",
            "team",
            "services",
            "task",
            "description",
            "category",
            "frequency",
            "frequency_unit",
            "minutes_each",
            "automation_potential",
            *CHARACTERISTIC_FIELDS,
            "characteristics_met",
            "may_not_be_toil",
            "status",
            "automated_on",
            "retired_on",
            "automation_effort_hours",
            "automation_url",
            "monthly_hours",
            "roi_score",
            "payback_months",
            "baseline_monthly_hours",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["retired_on"]
        extra_kwargs = {"description": {"max_length": DESCRIPTION_MAX_LENGTH}}

    @extend_schema_field(OpenApiTypes.DOUBLE)
    def get_monthly_hours(self, item) -> float:
        return item.monthly_minutes / 60

    def create(self, validated_data):
        validated_data.pop("automated_on", None)
        return toil_item_create(created_by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return toil_item_update(item=instance, **validated_data)


class ToilItemViewSet(viewsets.ModelViewSet):
    """The toil inventory across teams, most worth automating first (filters `q`, `team`,
    `category`, `status`, `service`; `ordering` by `roi`, `hours`, `payback`, `potential`,
    `task`, `team`, `status`). An item stays with its team; one with logged time cannot be
    deleted (retire it)."""

    serializer_class = ToilItemSerializer
    permission_classes = [TeamScopedPermission]
    filterset_class = ToilItemFilterSet

    def get_queryset(self):
        return selectors.toil_item_list()

    def perform_create(self, serializer):
        team = serializer.validated_data["team"]
        if not can_edit_team_records(self.request.user, team.pk):
            raise PermissionDenied(f"You cannot add toil items to the team {team.slug}.")
        serializer.save()

    def perform_destroy(self, instance):
        toil_item_delete(item=instance)


class ToilEntrySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="toilentry-detail")
    item = serializers.PrimaryKeyRelatedField(
        queryset=ToilItem.objects.select_related("team"), help_text="The toil item's id."
    )
    task = serializers.CharField(source="item.task", read_only=True)
    team = serializers.CharField(source="item.team.slug", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ToilEntry
        fields = ["id", "url", "item", "task", "team", "user", "date", "minutes", "note"]

    def create(self, validated_data):
        return toil_entry_log(user=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return toil_entry_update(entry=instance, by=self.context["request"].user, **validated_data)


class ToilEntryPermission(permissions.BasePermission):
    """Everyone signed in reads; engineers log time (against their own teams' items, which
    the action checks, naming the item) and change what they logged; SRE leads everything."""

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or can_create_anything(request.user)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return obj.user_id == request.user.pk or is_sre_lead(request.user)


class ToilEntryViewSet(viewsets.ModelViewSet):
    """Time logged against toil items, newest first (filters `team`, `item`, `user`,
    `category`, `date_after`, `date_before`; `ordering` by `date`, `minutes`, `task`)."""

    serializer_class = ToilEntrySerializer
    permission_classes = [ToilEntryPermission]
    filterset_class = ToilEntryFilterSet

    def get_queryset(self):
        return selectors.toil_entry_list()

    def perform_destroy(self, instance):
        toil_entry_delete(entry=instance)


class CategoryHoursSerializer(serializers.Serializer):
    estimated = serializers.FloatField()
    measured = serializers.FloatField()


class TeamToilSerializer(serializers.Serializer):
    """A team's toil in a month: toil.roi.TeamMonthFigures."""

    team = serializers.SerializerMethodField()
    month = serializers.SerializerMethodField()
    cap_percent = serializers.FloatField(source="figures.cap_percent")
    engineers = serializers.IntegerField(source="figures.engineers")
    hours_per_engineer = serializers.FloatField(source="figures.hours_per_engineer")
    capacity_hours = serializers.FloatField(source="figures.capacity_hours")
    estimated_hours = serializers.FloatField(
        source="figures.estimated_hours", help_text="From the inventory."
    )
    measured_hours = serializers.FloatField(
        source="figures.measured_hours", help_text="Logged time plus incident roles."
    )
    logged_hours = serializers.FloatField(source="figures.logged_hours")
    incident_hours = serializers.FloatField(source="figures.incident_hours")
    estimated_share = serializers.FloatField(source="figures.estimated_share", allow_null=True)
    share = serializers.FloatField(
        source="figures.share",
        allow_null=True,
        help_text="Measured hours ÷ capacity, a fraction; null for a team without engineers.",
    )
    over_cap = serializers.BooleanField(source="figures.over_cap")
    by_category = serializers.SerializerMethodField()
    hours_saved = serializers.FloatField(source="figures.hours_saved")
    processes_automated = serializers.IntegerField(source="figures.processes_automated")
    automated_hours = serializers.FloatField(source="figures.automated_hours")
    identified_hours = serializers.FloatField(source="figures.identified_hours")
    automation_coverage = serializers.FloatField(
        source="figures.automation_coverage", allow_null=True
    )
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the worker computed it; null: computed just now."
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_team(self, toil) -> str:
        return toil.team.slug

    @extend_schema_field(OpenApiTypes.STR)
    def get_month(self, toil) -> str:
        return f"{toil.figures.month:%Y-%m}"

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                category: {
                    "type": "object",
                    "properties": {
                        "estimated": {"type": "number"},
                        "measured": {"type": "number"},
                    },
                    "required": ["estimated", "measured"],
                }
                for category in ToilCategory.values
            },
        }
    )
    def get_by_category(self, toil) -> dict:
        return {
            category: toil.figures.by_category.get(category, {"estimated": 0.0, "measured": 0.0})
            for category in ToilCategory.values
        }


MONTH_PARAMETER = OpenApiParameter(
    "month", OpenApiTypes.STR, description="YYYY-MM; this month when not given."
)


class TeamToilView(generics.GenericAPIView):
    """A team's toil in a month: capacity, estimated and measured hours, share against the
    cap, by category, hours saved and automation coverage."""

    serializer_class = TeamToilSerializer
    queryset = Team.objects.all()
    filter_backends = []
    pagination_class = None

    @extend_schema(parameters=[MONTH_PARAMETER], responses=TeamToilSerializer)
    def get(self, request, pk):
        team = get_object_or_404(Team, pk=pk)
        form = MonthForm(request.query_params)
        if not form.is_valid():
            raise BadRequest({"month": ["Give the month as YYYY-MM, e.g. 2026-03."]})
        month = form.cleaned_data["month"] or selectors.current_month()
        toil = selectors.team_toil_month(team, roi.month_start(month))
        return Response(TeamToilSerializer(toil).data)


class TeamToilMonthSerializer(TeamToilSerializer):
    """A stored TeamToilMonth, read as the figures it holds."""

    def to_representation(self, snapshot):
        return super().to_representation(
            selectors.TeamToilFigures(snapshot.team, snapshot.figures(), snapshot.computed_at)
        )


class TeamToilMonthViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every team's stored monthly toil figures (filters `month` YYYY-MM, `team`, `over_cap`,
    `q`; `ordering` by `share`, `measured`, `estimated`, `saved`, `coverage`, `team`,
    `month`): which teams are over the cap this month is `?month=…&over_cap=true`."""

    serializer_class = TeamToilMonthSerializer
    filterset_class = TeamToilMonthFilterSet

    def get_queryset(self):
        return (
            TeamToilMonth.objects.filter(team__isnull=False)
            .select_related("team")
            .order_by("-month", "team__name")
        )
