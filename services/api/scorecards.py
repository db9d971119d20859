"""REST API for maturity scorecards, with the UI's permissions and FilterSets.

- /api/scorecards/: every version with its levels and rules; SRE leads load new versions with
  POST /api/scorecards/load/.
- /api/scorecard-results/?service=&team=&level=: each service's level, score and every rule's
  outcome on the current scorecards, with its readiness.
- /api/exemptions/: requested by the owner team (POST), approved or refused by SRE leads.
- /api/campaigns/: SRE leads write them; everyone reads them with their progress.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from portal.roles import IsSRELeadOrReadOnly, can_edit, is_sre_lead
from services.actions import scorecards as scorecard_actions
from services.actions.standards import scorecard_load
from services.api.interchange import YAMLBodyParser
from services.api.readiness import LOAD_REQUEST, LoadedSerializer, load_files
from services.choices import ReadinessState, Tier
from services.filters import (
    CampaignFilterSet,
    ExemptionFilterSet,
    ScorecardFilterSet,
    ScorecardResultFilterSet,
)
from services.models.catalog import Service
from services.models.scorecards import (
    Campaign,
    Exemption,
    Scorecard,
    ScorecardLevel,
    ScorecardResult,
    ScorecardRule,
)
from services.selectors import readiness as readiness_selectors
from services.selectors import scorecards as scorecard_selectors


class ScorecardLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScorecardLevel
        fields = ["rank", "name"]


class ScorecardRuleSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="check_name")
    level = serializers.CharField(source="level.name")

    class Meta:
        model = ScorecardRule
        fields = ["check", "title", "level", "weight"]


class ScorecardSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="scorecard-detail")
    loaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    levels = ScorecardLevelSerializer(many=True, read_only=True)
    rules = ScorecardRuleSerializer(many=True, read_only=True)

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "url",
            "key",
            "version",
            "title",
            "description",
            "content_hash",
            "source_name",
            "loaded_at",
            "loaded_by",
            "levels",
            "rules",
        ]


class ScorecardViewSet(viewsets.ReadOnlyModelViewSet):
    """Maturity scorecards, every version, newest first within each key."""

    serializer_class = ScorecardSerializer
    filterset_class = ScorecardFilterSet

    def get_queryset(self):
        return scorecard_selectors.scorecard_versions()

    @extend_schema(request=LOAD_REQUEST, responses=LoadedSerializer(many=True))
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, YAMLBodyParser])
    def load(self, request):
        """Load scorecard files (SRE leads): each file whose content changed becomes its
        scorecard's next version, and every service is scored again; all or nothing."""
        return load_files(request, scorecard_load)


class RuleOutcomeSerializer(serializers.Serializer):
    check = serializers.CharField()
    title = serializers.CharField()
    weight = serializers.IntegerField()
    level_rank = serializers.IntegerField()
    passed = serializers.BooleanField()
    exempt = serializers.BooleanField(help_text="Failing, but an exemption counts it as passed.")
    reason = serializers.CharField()
    fix_url = serializers.CharField(help_text="Where it is fixed; empty when passed.")


@extend_schema_field(RuleOutcomeSerializer(many=True))
class OutcomesField(serializers.JSONField):
    """The rules' outcomes, stored as the API shows them: handed over as they are, without a
    serializer per rule (25 results of 21 rules each)."""


class ScorecardResultSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.CharField(source="service.owner_team.slug", read_only=True)
    tier = serializers.IntegerField(source="service.tier", read_only=True)
    lifecycle = serializers.CharField(source="service.lifecycle", read_only=True)
    scorecard = serializers.CharField(source="scorecard.key", read_only=True)
    scorecard_version = serializers.IntegerField(source="scorecard.version", read_only=True)
    level = serializers.CharField(
        source="level.name", read_only=True, allow_null=True, default=None
    )
    outcomes = OutcomesField(read_only=True)
    readiness = serializers.SerializerMethodField()
    in_production_without_review = serializers.SerializerMethodField()

    class Meta:
        model = ScorecardResult
        fields = [
            "service",
            "team",
            "tier",
            "lifecycle",
            "scorecard",
            "scorecard_version",
            "level",
            "level_rank",
            "score",
            "failing",
            "outcomes",
            "readiness",
            "in_production_without_review",
            "computed_at",
        ]

    def _readiness(self, result) -> tuple[str, bool]:
        cached = getattr(result, "_readiness", None)
        if cached is None:
            service = result.service
            cached = readiness_selectors.annotated_readiness(
                result, tier=service.tier, lifecycle=service.lifecycle, now=self.context["now"]
            )
            result._readiness = cached
        return cached

    @extend_schema_field(serializers.ChoiceField(choices=ReadinessState.choices))
    def get_readiness(self, result) -> str:
        return self._readiness(result)[0]

    def get_in_production_without_review(self, result) -> bool:
        return self._readiness(result)[1]


class ScorecardResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Each service's standing on the current scorecards: level (null below the first),
    score 0 to 100, the failing rules and every rule's outcome with its reason."""

    serializer_class = ScorecardResultSerializer
    filterset_class = ScorecardResultFilterSet

    def get_queryset(self):
        current = scorecard_selectors.newest_versions().values("pk")
        return readiness_selectors.with_readiness(
            scorecard_selectors.result_list().filter(scorecard__in=current),
            service_field="service_id",
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}


class ExemptionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="exemption-detail")
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.select_related("owner_team")
    )
    scorecard = serializers.SlugField(
        source="scorecard_key",
        required=False,
        default=scorecard_selectors.DEFAULT_SCORECARD,
        help_text="The scorecard's key.",
    )
    check = serializers.CharField(
        source="check_name", max_length=100, help_text="The rule's check."
    )
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Exemption
        fields = [
            "id",
            "url",
            "service",
            "scorecard",
            "check",
            "reason",
            "expires_on",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = ["status", "decided_at", "decision_note"]

    def create(self, validated_data):
        return scorecard_actions.exemption_request(
            service=validated_data["service"],
            scorecard_key=validated_data["scorecard_key"],
            check_name=validated_data["check_name"],
            reason=validated_data["reason"],
            expires_on=validated_data["expires_on"],
            by=self.context["request"].user,
        )


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class ExemptionPermission(permissions.BasePermission):
    """Everyone signed in reads; the owner team (and SRE leads) ask; SRE leads decide."""

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        if view.action in {"approve", "reject"}:
            return is_sre_lead(request.user)
        return True


class ExemptionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Exemptions from scorecard rules: an exempt rule counts as passed until it expires."""

    serializer_class = ExemptionSerializer
    permission_classes = [ExemptionPermission]
    filterset_class = ExemptionFilterSet

    def get_queryset(self):
        return scorecard_selectors.exemption_list()

    def perform_create(self, serializer):
        service = serializer.validated_data["service"]
        if not can_edit(self.request.user, service):
            raise PermissionDenied(
                f"Only the engineers of {service.owner_team.slug} and SRE leads ask for "
                f"exemptions for {service.slug}."
            )
        serializer.save()

    def _decide(self, request, decide):
        exemption = self.get_object()
        payload = DecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        decide(exemption=exemption, by=request.user, **payload.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=exemption.pk)).data)

    @extend_schema(request=DecisionSerializer, responses=ExemptionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Pending → approved (SRE leads): the rule counts as passed until it expires."""
        return self._decide(request, scorecard_actions.exemption_approve)

    @extend_schema(request=DecisionSerializer, responses=ExemptionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Pending → refused (SRE leads), with a note saying why."""
        return self._decide(request, scorecard_actions.exemption_reject)


class CampaignProgressSerializer(serializers.Serializer):
    services = serializers.IntegerField(help_text="Services in scope: its tiers, not deprecated.")
    at_target = serializers.IntegerField(help_text="Of them, at the target level or above.")
    percent = serializers.IntegerField()
    teams = serializers.ListField(
        child=serializers.DictField(), help_text="Per team: team, services, at_target, percent."
    )


class CampaignSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="campaign-detail", lookup_field="slug")
    scorecard = serializers.SlugField(source="scorecard_key", max_length=100)
    tiers = serializers.ListField(
        child=serializers.ChoiceField(choices=Tier.values), allow_empty=False, max_length=3
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "url",
            "name",
            "slug",
            "description",
            "scorecard",
            "target_level",
            "tiers",
            "due_on",
            "created_by",
            "created_at",
            "progress",
        ]

    @extend_schema_field(CampaignProgressSerializer(allow_null=True))
    def get_progress(self, campaign):
        progress = self.context.get("progress", {}).get(campaign.pk)
        if progress is None:
            return None
        return {
            "services": progress.services,
            "at_target": progress.at_target,
            "percent": progress.percent,
            "teams": [
                {
                    "team": team.team.slug,
                    "services": team.services,
                    "at_target": team.at_target,
                    "percent": team.percent,
                }
                for team in progress.teams
            ],
        }

    def validate_tiers(self, tiers):
        return sorted({int(tier) for tier in tiers})

    def create(self, validated_data):
        return scorecard_actions.campaign_create(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return scorecard_actions.campaign_update(campaign=instance, **validated_data)


class CampaignViewSet(viewsets.ModelViewSet):
    """Campaigns: every service of some tiers at a scorecard level by a date, with progress
    overall and per team. SRE leads write them."""

    serializer_class = CampaignSerializer
    permission_classes = [IsSRELeadOrReadOnly]
    filterset_class = CampaignFilterSet
    lookup_field = "slug"

    def get_queryset(self):
        return scorecard_selectors.campaign_list()

    def _progress(self, campaigns) -> dict:
        return {
            progress.campaign.pk: progress
            for progress in scorecard_selectors.campaigns_progress(campaigns=list(campaigns))
        }

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        context = {**self.get_serializer_context(), "progress": self._progress(page)}
        serializer = self.get_serializer_class()(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        campaign = self.get_object()
        context = {**self.get_serializer_context(), "progress": self._progress([campaign])}
        return Response(self.get_serializer_class()(campaign, context=context).data)

    def perform_destroy(self, instance):
        scorecard_actions.campaign_delete(campaign=instance)
