"""REST API for the deploy gate.

- ``/api/deploy-gate/``: the pipelines' one call. A deny is an answer (200), not an error:
  4xx only for bad input. Every answer is recorded; ``/api/gate-decisions/`` lists them.
- ``/api/gate-overrides/``: SRE leads' overrides (create, list, revoke).
"""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.fields import CappedListField
from services.models.catalog import Service
from toil import gate
from toil.actions import gate as gate_actions
from toil.choices.changes import (
    ChangeCategory,
    GateDecisionKind,
)
from toil.filters.changes import (
    GateDecisionFilterSet,
    GateOverrideFilterSet,
)
from toil.models.changes import (
    MAX_SERVICES_PER_CHANGE,
    TEXT_MAX_LENGTH,
    ChangeRequest,
    GateDecision,
    GateOverride,
)
from toil.permissions.changes import (
    DeploymentPermission,
    OverridePermission,
)
from toil.selectors import changes as selectors
from toil.selectors import gate as gate_selectors


class ServiceSlugsField(CappedListField):
    """Services named by slug, looked up in one query, each unknown slug named."""

    child = serializers.SlugField(max_length=150)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_SERVICES_PER_CHANGE)
        kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        slugs = list(dict.fromkeys(super().to_internal_value(data)))
        found = {service.slug: service for service in Service.objects.filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in found]
        if unknown:
            raise serializers.ValidationError(
                [f"No service has the slug “{slug}”." for slug in unknown]
            )
        return [found[slug] for slug in slugs]

    def to_representation(self, data):
        return [service.slug for service in data.all()]


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    url = serializers.CharField(help_text="Where to see it (absolute); empty when nowhere.")
    effect = serializers.ChoiceField(
        choices=[gate.DENY, gate.NEEDS_APPROVAL, gate.INFO],
        help_text="What it does to the decision; info: waived, noted for the record.",
    )


class GateAnswerSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=GateDecisionKind.choices)
    reasons = ReasonSerializer(many=True)
    evaluated_at = serializers.DateTimeField()
    id = serializers.IntegerField(
        required=False, help_text="The recorded decision (absent for a preview)."
    )


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if url else ""


def gate_answer_data(request, answer: gate.GateAnswer, *, evaluated_at, decision_id=None):
    data = {
        "decision": answer.decision,
        "reasons": [
            {
                "code": reason.code,
                "message": reason.message,
                "url": _absolute(request, reason.url),
                "effect": reason.effect,
            }
            for reason in answer.reasons
        ],
        "evaluated_at": evaluated_at,
    }
    if decision_id is not None:
        data["id"] = decision_id
    return GateAnswerSerializer(data).data


class DeployGateRequestSerializer(serializers.Serializer):
    services = ServiceSlugsField(help_text="Slugs of the services to deploy.")
    category = serializers.ChoiceField(choices=ChangeCategory.choices)
    change = serializers.PrimaryKeyRelatedField(
        queryset=ChangeRequest.objects.all(),
        required=False,
        allow_null=True,
        help_text="The change request the deploy belongs to (its number).",
    )
    version = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)

    def validate(self, attrs):
        change = attrs.get("change")
        if change is not None and change.category != attrs["category"]:
            raise serializers.ValidationError(
                {
                    "change": f"Change #{change.pk} is a {change.get_category_display().lower()} "
                    f"change, not a {ChangeCategory(attrs['category']).label.lower()} one."
                }
            )
        return attrs


class DeployGateView(APIView):
    """The deploy gate for pipelines: may these services be deployed now? Engineers (their
    pipelines' tokens) and SRE leads ask; every answer is recorded."""

    permission_classes = [DeploymentPermission]

    @extend_schema(
        request=DeployGateRequestSerializer,
        responses={200: GateAnswerSerializer},
        description="`decision` is allow, needs_approval or deny, with every reason (code, "
        "message, url, effect). A deny is an answer (200): 4xx only for bad input, naming the "
        "field.",
    )
    def post(self, request):
        serializer = DeployGateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        change = data.get("change")
        if change is not None:
            change = selectors.change_for_gate().get(pk=change.pk)
        decision, answer = gate_actions.gate_evaluate(
            services=data["services"],
            category=data["category"],
            change=change,
            version=data["version"],
            by=request.user,
        )
        return Response(
            gate_answer_data(
                request, answer, evaluated_at=decision.asked_at, decision_id=decision.pk
            )
        )


class GateDecisionSerializer(serializers.ModelSerializer):
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    asked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True)

    class Meta:
        model = GateDecision
        fields = [
            "id",
            "asked_at",
            "asked_by",
            "services",
            "category",
            "change",
            "version",
            "decision",
            "reasons",
        ]
        read_only_fields = fields


class GateDecisionViewSet(viewsets.ReadOnlyModelViewSet):
    """The gate's recorded answers, newest first: read by everyone signed in."""

    serializer_class = GateDecisionSerializer
    filterset_class = GateDecisionFilterSet

    def get_queryset(self):
        return gate_selectors.gate_decision_list()


class GateOverrideSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.all())
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = GateOverride
        fields = [
            "id",
            "service",
            "reason",
            "starts_at",
            "expires_at",
            "revoked_at",
            "created_by",
            "created_at",
            "active",
        ]
        read_only_fields = ["revoked_at", "created_by", "created_at"]
        extra_kwargs = {
            "reason": {"max_length": TEXT_MAX_LENGTH},
            "expires_at": {
                "help_text": f"At most GATE_OVERRIDE_MAX_HOURS "
                f"({settings.GATE_OVERRIDE_MAX_HOURS} by default) after it starts."
            },
            "starts_at": {"required": False},
        }

    def get_active(self, override) -> bool:
        return override.active_at(timezone.now())

    def create(self, validated_data):
        return gate_actions.gate_override_create(by=self.context["request"].user, **validated_data)


class GateOverrideViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """SRE leads' overrides of the gate's denials for a service; revoked, never edited."""

    permission_classes = [OverridePermission]
    serializer_class = GateOverrideSerializer
    filterset_class = GateOverrideFilterSet

    def get_queryset(self):
        return gate_selectors.gate_override_list()

    @extend_schema(request=None, responses=GateOverrideSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        override = self.get_object()
        gate_actions.gate_override_revoke(override=override, by=request.user)
        return Response(GateOverrideSerializer(override, context={"request": request}).data)
