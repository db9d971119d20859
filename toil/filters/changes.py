"""FilterSets of change requests, freezes, gate decisions and overrides, deployments and
incident causes, shared by the UI lists and the API lists."""

import datetime as dt

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from portal.filters import PortalFilterSet
from portal.ordering import PortalOrderingFilter
from portal.timezones import portal_zone
from services.models.catalog import Service, Team
from toil.choices.changes import (
    ChangeCategory,
    ChangeStatus,
    DeploymentStatus,
    FreezeScope,
    GateDecisionKind,
)
from toil.models.changes import (
    ChangeRequest,
    FreezeWindow,
    GateDecision,
    GateDecisionService,
    GateOverride,
)
from toil.models.deployments import Deployment, IncidentCause
from toil.selectors.changes import changes_awaiting_approval

RISK_LEVELS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]


def _service_filter(method: str, label: str = "Service"):
    # The API schema cannot infer a slug's type through a method filter: say it.
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            method=method, to_field_name="slug", queryset=Service.objects.all(), label=label
        )
    )


def _slug_filter(field_name: str, queryset, label: str):
    """A to-one relation chosen by slug (``field_name`` ends in ``__slug``: the filter compares
    the chosen records' slugs)."""
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name,
            to_field_name="slug",
            queryset=queryset,
            label=label,
            distinct=False,
        )
    )


class ChangeFilterSet(PortalFilterSet):
    """Filters of the change list. Without an ``ordering``: the latest planned first."""

    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ChangeStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=ChangeCategory.choices)
    risk_level = django_filters.MultipleChoiceFilter(choices=RISK_LEVELS, label="Risk")
    service = _service_filter("filter_service")
    team = _slug_filter("team__slug", Team.objects.all(), "Team")
    window = django_filters.DateFromToRangeFilter(field_name="window_start", label="Planned")
    runs_on = django_filters.DateFilter(method="filter_runs_on", label="Runs on")
    awaiting = django_filters.BooleanFilter(method="filter_awaiting", label="Awaiting my approval")
    # Ties (a shared status, category or title) latest planned first, as the list is unsorted.
    ordering = PortalOrderingFilter(
        tie_break=("-window_start",),
        fields=(
            ("window_start", "window"),
            ("status", "status"),
            ("category", "category"),
            ("risk_score", "risk"),
            ("title", "title"),
            ("id", "id"),
        ),
    )

    class Meta:
        model = ChangeRequest
        fields = [
            "q",
            "status",
            "category",
            "risk_level",
            "service",
            "team",
            "window",
            "runs_on",
            "awaiting",
        ]

    def filter_awaiting(self, queryset, name, value):
        """The changes the person asking may decide on now (yes), or the others (no)."""
        if value is None or self.request is None:
            return queryset
        mine = changes_awaiting_approval(self.request.user).values("pk")
        return queryset.filter(pk__in=mine) if value else queryset.exclude(pk__in=mine)

    def filter_runs_on(self, queryset, name, day):
        """Changes whose window overlaps the day (in the portal's zone, as the calendar's
        days are): one that began the day before and runs into it too, unlike ``window``,
        which compares the planned start."""
        if day is None:
            return queryset
        zone = portal_zone()
        start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        return queryset.filter(window_start__lt=end, window_end__gt=start)

    def search(self, queryset, name, value):
        value = value.strip().lstrip("#")
        if not value:
            return queryset
        condition = Q(title__icontains=value) | Q(description__icontains=value)
        if value.isdigit():
            condition |= Q(pk=int(value))
        return queryset.filter(condition)

    def filter_service(self, queryset, name, services):
        if not services:
            return queryset
        touched = ChangeRequest.services.through.objects.filter(
            changerequest=OuterRef("pk"), service__in=services
        )
        return queryset.filter(Exists(touched))


class FreezeFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    scope = django_filters.MultipleChoiceFilter(choices=FreezeScope.choices)
    team = _slug_filter("team__slug", Team.objects.all(), "Team")
    service = _service_filter("filter_service", "Covers service")
    upcoming = django_filters.BooleanFilter(method="filter_upcoming", label="Not over yet")
    ordering = PortalOrderingFilter(
        tie_break=("start", "name"), fields=(("start", "start"), ("name", "name"))
    )

    class Meta:
        model = FreezeWindow
        fields = ["q", "scope", "team", "service", "upcoming"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(reason__icontains=value))

    def filter_service(self, queryset, name, services):
        """Freezes over the services: theirs, their teams' and the organisation's."""
        if not services:
            return queryset
        return queryset.filter(
            Q(scope=FreezeScope.ORGANISATION)
            | Q(scope=FreezeScope.TEAM, team__in={service.owner_team_id for service in services})
            | Q(scope=FreezeScope.SERVICE, service__in=services)
        )

    def filter_upcoming(self, queryset, name, value):
        if value is None:
            return queryset
        # A repeating freeze is not over while it repeats (its rule may end it: the page says).
        not_over = ~Q(recurrence="") | Q(end__gt=timezone.now())
        return queryset.filter(not_over if value else ~not_over)


class GateDecisionFilterSet(PortalFilterSet):
    service = _service_filter("filter_service")
    decision = django_filters.MultipleChoiceFilter(choices=GateDecisionKind.choices)
    category = django_filters.MultipleChoiceFilter(choices=ChangeCategory.choices)
    change = django_filters.NumberFilter(field_name="change_id", label="Change request")
    asked = django_filters.DateFromToRangeFilter(field_name="asked_at", label="Asked between")
    ordering = django_filters.OrderingFilter(
        fields=(("asked_at", "asked"), ("decision", "decision"))
    )

    class Meta:
        model = GateDecision
        fields = ["service", "decision", "category", "change", "asked"]

    def filter_service(self, queryset, name, services):
        if not services:
            return queryset
        about = GateDecisionService.objects.filter(decision=OuterRef("pk"), service__in=services)
        return queryset.filter(Exists(about))


class GateOverrideFilterSet(PortalFilterSet):
    service = _slug_filter("service__slug", Service.objects.all(), "Service")
    active = django_filters.BooleanFilter(method="filter_active", label="In force now")
    ordering = django_filters.OrderingFilter(
        fields=(("starts_at", "starts"), ("expires_at", "expires"))
    )

    class Meta:
        model = GateOverride
        fields = ["service", "active"]

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        active = Q(revoked_at=None, starts_at__lte=now, expires_at__gt=now)
        return queryset.filter(active if value else ~active)


class DeploymentFilterSet(PortalFilterSet):
    service = _slug_filter("service__slug", Service.objects.all(), "Service")
    team = _slug_filter("service__owner_team__slug", Team.objects.all(), "Team")
    environment = django_filters.CharFilter(field_name="environment")
    status = django_filters.MultipleChoiceFilter(choices=DeploymentStatus.choices)
    change = django_filters.NumberFilter(field_name="change_id", label="Change request")
    version = django_filters.CharFilter(field_name="version")
    finished = django_filters.DateFromToRangeFilter(
        field_name="finished_at", label="Finished between"
    )
    # Ties (a shared status or version) the latest finished first, as the list is unsorted.
    ordering = PortalOrderingFilter(
        tie_break=("-finished_at",),
        fields=(("finished_at", "finished"), ("status", "status"), ("version", "version")),
    )

    class Meta:
        model = Deployment
        fields = ["service", "team", "environment", "status", "change", "version", "finished"]


class IncidentCauseFilterSet(PortalFilterSet):
    incident = django_filters.CharFilter(field_name="incident__reference", label="Incident")
    deployment = django_filters.NumberFilter(field_name="deployment_id")
    service = _slug_filter("deployment__service__slug", Service.objects.all(), "Service")

    class Meta:
        model = IncidentCause
        fields = ["incident", "deployment", "service"]
