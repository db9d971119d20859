"""REST API for deployments, the incidents they caused and DORA's figures.

- ``/api/deployments/``: pipelines report a deployment (POST), idempotent on (service,
  environment, version): 201 the first time, 200 with the same record after (updated with
  what was sent). Lists with the UI's filters.
- ``/api/incident-causes/``: which deployment caused which incident (POST sets or replaces,
  DELETE clears), with the incident page's rights.
- ``/api/dora/?team=&service=&month=YYYY-MM``: the four keys and the rework rate per month,
  for a service, a team or the organisation (12 months, or the month asked for).
"""

import datetime as dt

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models.incidents import Incident
from portal.api.fields import CappedListField
from services.models.catalog import Service, Team
from toil import dora
from toil.actions.deployments import deployment_record, incident_cause_set
from toil.choices.changes import PRODUCTION
from toil.filters.changes import DeploymentFilterSet, IncidentCauseFilterSet
from toil.models.changes import ChangeRequest
from toil.models.deployments import MAX_COMMITS, Deployment, IncidentCause
from toil.permissions.changes import (
    DeploymentPermission,
    can_link_incident_cause,
    can_report_deployment,
)
from toil.selectors import deployments as deployment_selectors


class CommitSerializer(serializers.Serializer):
    sha = serializers.RegexField(r"^[0-9a-fA-F]{7,64}$", help_text="The commit's hash.")
    committed_at = serializers.DateTimeField(required=False, allow_null=True)


class DeploymentSerializer(serializers.ModelSerializer):
    """A deployment as pipelines report it; ``commits`` or ``first_commit_at`` give the lead
    time (the oldest commit's time counts)."""

    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.all())
    environment = serializers.CharField(max_length=50, default=PRODUCTION)
    commits = CappedListField(child=CommitSerializer(), max_length=MAX_COMMITS, required=False)
    change = serializers.PrimaryKeyRelatedField(
        queryset=ChangeRequest.objects.all(), required=False, allow_null=True
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lead_time_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "service",
            "environment",
            "version",
            "started_at",
            "finished_at",
            "status",
            "commits",
            "first_commit_at",
            "change",
            "created_by",
            "created_at",
            "lead_time_seconds",
        ]
        read_only_fields = ["created_by", "created_at"]
        # Idempotent on (service, environment, version): the action updates, so DRF's own
        # uniqueness check must not refuse a repeat.
        validators = []

    def get_lead_time_seconds(self, deployment) -> float | None:
        lead_time = deployment.lead_time
        return None if lead_time is None else lead_time.total_seconds()

    def validate(self, attrs):
        started, finished = attrs.get("started_at"), attrs.get("finished_at")
        if started and finished and finished < started:
            raise serializers.ValidationError(
                {"finished_at": "A deployment cannot finish before it started."}
            )
        if not can_report_deployment(self.context["request"].user, attrs["service"]):
            raise PermissionDenied("Only the service's team and SRE leads report its deployments.")
        return attrs


class DeploymentViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Deployments: everyone signed in reads; the service's engineers (their pipelines) and
    SRE leads report them."""

    permission_classes = [DeploymentPermission]
    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilterSet

    def get_queryset(self):
        return deployment_selectors.deployment_list().select_related("created_by")

    @extend_schema(
        responses={201: DeploymentSerializer, 200: DeploymentSerializer},
        description="201 when new; 200 when this (service, environment, version) was already "
        "reported (the record is updated with what was sent).",
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deployment, created = deployment_record(by=request.user, **serializer.validated_data)
        data = DeploymentSerializer(deployment, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class IncidentCauseSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="reference", queryset=Incident.objects.all())
    deployment = serializers.PrimaryKeyRelatedField(queryset=Deployment.objects.all())
    linked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IncidentCause
        fields = ["id", "incident", "deployment", "linked_by", "linked_at"]
        read_only_fields = ["linked_by", "linked_at"]
        # One cause per incident: posting another replaces it (incident_cause_set).
        validators = []
        extra_kwargs = {"incident": {"validators": []}}


class IncidentCauseViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Which deployment caused an incident ("caused by deployment" on the incident page).
    Whoever writes the incident's timeline sets it; POST replaces an incident's cause."""

    serializer_class = IncidentCauseSerializer
    filterset_class = IncidentCauseFilterSet

    def get_queryset(self):
        return deployment_selectors.incident_cause_list()

    def _check(self, incident):
        incident = Incident.objects.prefetch_related("services").get(pk=incident.pk)
        if not can_link_incident_cause(self.request.user, incident):
            raise PermissionDenied("Only the incident's teams and responders say what caused it.")
        return incident

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = self._check(serializer.validated_data["incident"])
        cause = incident_cause_set(
            incident=incident,
            deployment=serializer.validated_data["deployment"],
            by=request.user,
        )
        return Response(
            IncidentCauseSerializer(cause, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance):
        incident = self._check(instance.incident)
        incident_cause_set(incident=incident, deployment=None, by=self.request.user)


class DoraFiguresSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    scope = serializers.CharField(help_text="organisation, team:<slug> or service:<slug>")
    deployments = serializers.IntegerField()
    successful = serializers.IntegerField()
    failures = serializers.IntegerField()
    deployment_frequency = serializers.FloatField(help_text="Successful deployments per day.")
    lead_time_seconds = serializers.FloatField(allow_null=True)
    change_failure_rate = serializers.FloatField(allow_null=True)
    recovery_time_seconds = serializers.FloatField(allow_null=True)
    recovered = serializers.IntegerField()
    unrecovered = serializers.IntegerField()
    rework_rate = serializers.FloatField(allow_null=True)
    bands = serializers.DictField(child=serializers.CharField(allow_null=True))
    band = serializers.CharField(allow_null=True)


class DoraQuerySerializer(serializers.Serializer):
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False
    )
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), required=False
    )
    month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", required=False, help_text="YYYY-MM")

    def validate(self, attrs):
        if attrs.get("team") and attrs.get("service"):
            raise serializers.ValidationError({"service": "Ask for a team or a service, not both."})
        return attrs


class DoraView(APIView):
    """DORA's four keys and the rework rate, month by month, from the worker's snapshots."""

    @extend_schema(
        parameters=[
            OpenApiParameter("team", OpenApiTypes.STR, description="A team's slug."),
            OpenApiParameter("service", OpenApiTypes.STR, description="A service's slug."),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; else 12 months."),
        ],
        responses=DoraFiguresSerializer(many=True),
    )
    def get(self, request):
        query = DoraQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        team, service = query.validated_data.get("team"), query.validated_data.get("service")
        month = query.validated_data.get("month")
        now = timezone.now()
        series = deployment_selectors.dora_series(team=team, service=service, months=12, now=now)
        months = series.months
        if month:
            year, number = (int(part) for part in month.split("-"))
            wanted = (year, number)
            if wanted not in series.figures:
                series.figures[wanted] = deployment_selectors.dora_scope_month(
                    deployment_selectors.dora_key(team=team, service=service),
                    dt.date(year, number, 1),
                )
            months = [wanted]
        scope = (
            f"service:{service.slug}"
            if service
            else f"team:{team.slug}"
            if team
            else "organisation"
        )
        rows = []
        for key in reversed(months):
            figures = series.figures[key]
            rows.append(
                {
                    "month": f"{key[0]:04d}-{key[1]:02d}",
                    "scope": scope,
                    "deployments": figures.deployments,
                    "successful": figures.successful,
                    "failures": figures.failures,
                    "deployment_frequency": figures.deployment_frequency,
                    "lead_time_seconds": figures.lead_time,
                    "change_failure_rate": figures.change_failure_rate,
                    "recovery_time_seconds": figures.recovery_time,
                    "recovered": figures.recovered,
                    "unrecovered": figures.unrecovered,
                    "rework_rate": figures.rework_rate,
                    "bands": dora.bands(figures),
                    "band": dora.overall_band(figures),
                }
            )
        return Response(DoraFiguresSerializer(rows, many=True).data)
