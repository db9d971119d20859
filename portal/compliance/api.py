"""REST API of compliance checks, results and findings, with the UI's rules: everyone signed
in reads; SRE leads define checks and accept risks; the owner team's engineers (and SRE
leads) attest and acknowledge. Lists use the UI's FilterSets."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from portal.compliance import selectors
from portal.compliance.actions.attestations import compliance_attest
from portal.compliance.actions.checks import (
    CHECK_FIELDS,
    compliance_check_create,
    compliance_check_delete,
    compliance_check_update,
)
from portal.compliance.actions.findings import (
    compliance_finding_accept_risk,
    compliance_finding_acknowledge,
)
from portal.compliance.choices import FindingStatus
from portal.compliance.filters import (
    ComplianceCheckFilterSet,
    ComplianceFindingFilterSet,
    ComplianceResultFilterSet,
)
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceAttestation, ComplianceResult
from portal.roles import IsSRELeadOrReadOnly, can_edit_team_records, is_sre_lead
from services.models.catalog import Service, Tag


class ComplianceCheckSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="compliancecheck-detail")
    tag = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Tag.objects.all(),
        allow_null=True,
        required=False,
        help_text="The tag's slug, when the check applies to a tag.",
    )
    slug = serializers.SlugField(
        max_length=100, required=False, help_text="Made from the name when left out."
    )
    frequency = serializers.ChoiceField(
        choices=ComplianceCheck._meta.get_field("frequency").choices,
        required=False,
        help_text="Left out: the seed's default for the kind.",
    )

    class Meta:
        model = ComplianceCheck
        fields = ["id", "url", *CHECK_FIELDS, "created_at", "updated_at"]
        # Uniqueness and every other rule are the model's, checked by the action.
        extra_kwargs = {"name": {"validators": []}}

    def create(self, validated_data):
        return compliance_check_create(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return compliance_check_update(
            check=instance, by=self.context["request"].user, **validated_data
        )


class AttestationRequestSerializer(serializers.Serializer):
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), help_text="The service's slug."
    )
    evidence_url = serializers.URLField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ComplianceAttestationSerializer(serializers.ModelSerializer):
    check = serializers.SlugRelatedField(
        source="compliance_check", slug_field="slug", read_only=True
    )
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    attested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ComplianceAttestation
        fields = ["id", "check", "service", "attested_by", "attested_at", "evidence_url", "note"]
        read_only_fields = fields


class ComplianceCheckViewSet(viewsets.ModelViewSet):
    """Check definitions (as on /compliance/checks/); SRE leads create, change and delete."""

    serializer_class = ComplianceCheckSerializer
    permission_classes = [IsSRELeadOrReadOnly]
    filterset_class = ComplianceCheckFilterSet

    def get_permissions(self):
        if self.action == "attest":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        return selectors.check_list()

    def perform_destroy(self, instance):
        compliance_check_delete(check=instance)

    @extend_schema(request=AttestationRequestSerializer, responses=ComplianceAttestationSerializer)
    @action(detail=True, methods=["post"])
    def attest(self, request, pk=None):
        """Attest an attestation check for a service (its owner team's engineers, SRE leads);
        the check runs at once."""
        check = self.get_object()
        payload = AttestationRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        service = payload.validated_data["service"]
        if not can_edit_team_records(request.user, service.owner_team_id):
            raise PermissionDenied("Only the owner team's engineers and SRE leads attest.")
        attestation = compliance_attest(
            check=check,
            service=service,
            by=request.user,
            evidence_url=payload.validated_data["evidence_url"],
            note=payload.validated_data["note"],
        )
        return Response(ComplianceAttestationSerializer(attestation).data, status=201)


class ComplianceResultSerializer(serializers.ModelSerializer):
    check = serializers.SlugRelatedField(
        source="compliance_check", slug_field="slug", read_only=True
    )
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.SlugRelatedField(
        source="service.owner_team", slug_field="slug", read_only=True
    )

    class Meta:
        model = ComplianceResult
        fields = [
            "id",
            "check",
            "service",
            "team",
            "outcome",
            "value",
            "detail",
            "evidence",
            "started_at",
            "checked_at",
            "duration_ms",
        ]
        read_only_fields = fields


class ComplianceResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Every run of every check on every service, newest first; filter by check, service,
    team, outcome and time (since/until)."""

    serializer_class = ComplianceResultSerializer
    filterset_class = ComplianceResultFilterSet

    def get_queryset(self):
        return selectors.result_list()


class ComplianceFindingSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="compliancefinding-detail")
    check = serializers.SlugRelatedField(
        source="compliance_check", slug_field="slug", read_only=True
    )
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    risk_accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    overdue = serializers.SerializerMethodField()
    last_result = ComplianceResultSerializer(read_only=True)

    class Meta:
        model = ComplianceFinding
        fields = [
            "id",
            "url",
            "check",
            "service",
            "team",
            "severity",
            "status",
            "opened_at",
            "due_date",
            "overdue",
            "acknowledged_at",
            "acknowledged_by",
            "risk_reason",
            "risk_expires_on",
            "risk_accepted_at",
            "risk_accepted_by",
            "resolved_at",
            "reopened_at",
            "reopen_count",
            "last_result",
        ]
        read_only_fields = fields

    def get_overdue(self, finding) -> bool:
        return finding.status in (
            FindingStatus.OPEN,
            FindingStatus.ACKNOWLEDGED,
        ) and finding.due_date < self.context.setdefault("today", selectors.today())


class AcceptRiskSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    expires_on = serializers.DateField()


class ComplianceFindingPermission(permissions.BasePermission):
    """Everyone signed in reads; the owner team's engineers and SRE leads acknowledge; SRE
    leads accept risks."""

    def has_permission(self, request, view):
        return request.user.is_authenticated

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action == "accept_risk":
            return is_sre_lead(request.user)
        return can_edit_team_records(request.user, obj.team_id)


class ComplianceFindingViewSet(viewsets.ReadOnlyModelViewSet):
    """Findings opened by failed checks (every status); transitions as POST actions."""

    serializer_class = ComplianceFindingSerializer
    permission_classes = [ComplianceFindingPermission]
    filterset_class = ComplianceFindingFilterSet

    def get_queryset(self):
        return selectors.finding_list().select_related(
            "acknowledged_by",
            "risk_accepted_by",
            "last_result__compliance_check",
            "last_result__service__owner_team",
        )

    @extend_schema(request=None, responses=ComplianceFindingSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Open → acknowledged."""
        finding = self.get_object()
        compliance_finding_acknowledge(finding=finding, by=request.user)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=AcceptRiskSerializer, responses=ComplianceFindingSerializer)
    @action(detail=True, methods=["post"], url_path="accept-risk")
    def accept_risk(self, request, pk=None):
        """Open or acknowledged → accepted risk, with a reason and an expiry (SRE leads)."""
        finding = self.get_object()
        payload = AcceptRiskSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        compliance_finding_accept_risk(finding=finding, by=request.user, **payload.validated_data)
        return Response(self.get_serializer(self.get_object()).data)
