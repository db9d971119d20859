"""REST API for SLOs and budget policies.

SLOs are team-scoped like services (the SLO's team is its service's owner team); budget
policies are read by everyone and written by SRE leads. The status endpoint reads the
snapshot the worker stores; pushed buckets go through services.actions.slo_buckets_push.
"""

from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from portal.roles import IsSRELeadOrReadOnly, TeamScopedPermission, can_edit_team_records
from services.actions.sli import slo_buckets_push
from services.actions.slos import (
    budget_policy_create,
    budget_policy_delete,
    budget_policy_update,
    slo_create,
    slo_delete,
    slo_update,
)
from services.budget.figures import UNKNOWN_TIER, objective_from_percent
from services.budget.windows import BURN_RATE_KEYS
from services.choices import AlertState, WindowKind
from services.filters import SLOFilterSet
from services.models.catalog import Service
from services.models.slos import (
    MAX_BUCKET_EVENTS,
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    SLOStatus,
)
from services.selectors import slos as slo_selectors


class SLOStatusSummarySerializer(serializers.ModelSerializer):
    """The figures a list shows, from the snapshot; the full snapshot is at .../status/."""

    budget_remaining = serializers.FloatField(source="remaining", read_only=True)

    class Meta:
        model = SLOStatus
        fields = ["attainment", "budget_remaining", "policy_tier", "alert", "stale", "computed_at"]
        read_only_fields = fields


class SLOSerializer(serializers.HyperlinkedModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.all())
    team = serializers.SlugRelatedField(
        source="service.owner_team", slug_field="slug", read_only=True
    )
    budget_policy = serializers.SlugRelatedField(
        slug_field="slug", queryset=BudgetPolicy.objects.all(), allow_null=True, required=False
    )
    # Declared to replace the model's bounds (0.0001 to 99.9999) with one clear message.
    objective = serializers.DecimalField(
        max_digits=7, decimal_places=4, help_text="Percent, above 0 and below 100, e.g. 99.9."
    )
    status = serializers.SerializerMethodField()

    class Meta:
        model = SLO
        fields = [
            "id",
            "url",
            "service",
            "team",
            "name",
            "slug",
            "description",
            "sli_kind",
            "objective",
            "window_kind",
            "window_days",
            "time_zone",
            "budgeting_method",
            "slice_minutes",
            "slice_target",
            "source",
            "query_kind",
            "events_query",
            "total_query",
            "labels",
            "budget_policy",
            "status",
            "created_at",
            "updated_at",
        ]
        # Uniqueness per service is the model's rule; full_clean in the action reports it.
        validators = []

    @extend_schema_field(SLOStatusSummarySerializer(allow_null=True))
    def get_status(self, slo):
        status = getattr(slo, "status", None)
        return None if status is None else self._status_summary.to_representation(status)

    @cached_property
    def _status_summary(self) -> SLOStatusSummarySerializer:
        # One summary serializer for every row of a list: a new one per row would build its
        # fields again each time (a quarter of the list's cost).
        return SLOStatusSummarySerializer(context=self.context)

    def validate_objective(self, objective):
        if not 0 < objective < 100:
            raise serializers.ValidationError(
                "The objective is a percentage above 0 and below 100."
            )
        return objective

    def create(self, validated_data):
        return slo_create(**validated_data)

    def update(self, instance, validated_data):
        return slo_update(slo=instance, **validated_data)


class SLOFullStatusSerializer(serializers.Serializer):
    """An SLO's latest snapshot. An SLO never computed answers too: figures null, stale true."""

    objective = serializers.FloatField(
        help_text="As a fraction, like attainment: 0.999 for 99.9 %."
    )
    window = serializers.DictField(
        help_text="kind, days (rolling), time_zone, and the snapshot's start and end."
    )
    attainment = serializers.FloatField(allow_null=True)
    budget_remaining = serializers.FloatField(
        allow_null=True, help_text="Fraction of the error budget left; below 0 when overspent."
    )
    budget_consumed = serializers.FloatField(allow_null=True)
    burn_rates = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="Burn rate by look-back window: 5m 30m 1h 2h 6h 1d 3d, and the whole window.",
    )
    alert = serializers.ChoiceField(choices=AlertState.choices)
    policy_tier = serializers.CharField()
    coverage = serializers.FloatField(allow_null=True)
    stale = serializers.BooleanField()
    latest_data_at = serializers.DateTimeField(allow_null=True)
    time_until_exhaustion_seconds = serializers.FloatField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    last_sync_at = serializers.DateTimeField(allow_null=True)
    last_sync_error = serializers.CharField(allow_blank=True)
    compute_error = serializers.CharField(
        allow_blank=True,
        help_text="Empty, or “could not compute: …” when the last recompute of this SLO failed "
        "(the figures are then the last ones computed, and stale).",
    )

    @staticmethod
    def figures_of(slo: SLO) -> dict:
        status = getattr(slo, "status", None)
        window = {
            "kind": slo.window_kind,
            "days": slo.window_days if slo.window_kind == WindowKind.ROLLING else None,
            "time_zone": slo.time_zone,
            "start": status.window_start if status else None,
            "end": status.window_end if status else None,
        }
        figures = {"objective": objective_from_percent(slo.objective), "window": window}
        if status is None:
            return figures | {
                "attainment": None,
                "budget_remaining": None,
                "budget_consumed": None,
                "burn_rates": dict.fromkeys(BURN_RATE_KEYS),
                "alert": AlertState.NONE,
                "policy_tier": UNKNOWN_TIER,
                "coverage": None,
                "stale": True,
                "latest_data_at": None,
                "time_until_exhaustion_seconds": None,
                "computed_at": None,
                "last_sync_at": None,
                "last_sync_error": "",
                "compute_error": "",
            }
        exhaustion = status.time_until_exhaustion
        return figures | {
            "attainment": status.attainment,
            "budget_remaining": status.remaining,
            "budget_consumed": status.consumed,
            "burn_rates": {key: status.burn_rates.get(key) for key in BURN_RATE_KEYS},
            "alert": status.alert,
            "policy_tier": status.policy_tier,
            "coverage": status.coverage,
            "stale": status.stale,
            "latest_data_at": status.latest_data_at,
            "time_until_exhaustion_seconds": exhaustion.total_seconds() if exhaustion else None,
            "computed_at": status.computed_at,
            "last_sync_at": status.last_sync_at,
            "last_sync_error": status.last_sync_error,
            "compute_error": (
                f"could not compute: {status.compute_error}" if status.compute_error else ""
            ),
        }


class PushedBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField(
        help_text="Aligned to 5 minutes, with a time zone; not in the future, nor more than "
        "400 days back."
    )
    good = serializers.IntegerField(min_value=0, max_value=MAX_BUCKET_EVENTS)
    total = serializers.IntegerField(
        min_value=0,
        max_value=MAX_BUCKET_EVENTS,
        help_text=f"Events in the 5 minutes: at most {MAX_BUCKET_EVENTS:,} (10^12).",
    )


def _pushed_buckets(data) -> list[dict]:
    """Parse a push: a JSON list of {start, good, total}. The errors name each bad item by its
    position, like the action's own checks (which then judge alignment, order and the future)."""
    if not isinstance(data, list):
        raise serializers.ValidationError(
            {"buckets": ["Send a JSON list of {start, good, total} objects."]}
        )
    buckets, errors = [], []
    for position, item in enumerate(data):
        item_serializer = PushedBucketSerializer(data=item)
        if item_serializer.is_valid():
            buckets.append(item_serializer.validated_data)
            continue
        details = item_serializer.errors
        for field, messages in details.items():
            for message in messages if isinstance(messages, list) else [messages]:
                prefix = "" if field == api_settings.NON_FIELD_ERRORS_KEY else f"{field}: "
                errors.append(f"Bucket {position}: {prefix}{message}")
    if errors:
        raise serializers.ValidationError({"buckets": errors})
    return buckets


class SLOViewSet(viewsets.ModelViewSet):
    """SLOs; engineers write those of their own teams' services, SRE leads all of them."""

    serializer_class = SLOSerializer
    permission_classes = [TeamScopedPermission]
    filterset_class = SLOFilterSet

    def get_queryset(self):
        return slo_selectors.slo_list().order_by("service__name", "name")

    def perform_create(self, serializer):
        _check_may_edit_slos_of(self.request.user, serializer.validated_data["service"])
        serializer.save()

    def perform_update(self, serializer):
        # The object permission covered the current service; moving needs rights on the new one.
        if "service" in serializer.validated_data:
            _check_may_edit_slos_of(self.request.user, serializer.validated_data["service"])
        serializer.save()

    def perform_destroy(self, instance):
        slo_delete(slo=instance)

    @extend_schema(responses=SLOFullStatusSerializer)
    @action(detail=True, methods=["get"])
    def status(self, request, pk=None):
        """The latest status snapshot: attainment, budget, burn rates, alert, tier, freshness."""
        slo = self.get_object()
        return Response(SLOFullStatusSerializer(SLOFullStatusSerializer.figures_of(slo)).data)

    @extend_schema(
        request=PushedBucketSerializer(many=True),
        responses={
            202: inline_serializer("BucketPushResult", {"stored": serializers.IntegerField()})
        },
    )
    @action(detail=True, methods=["post"])
    def buckets(self, request, pk=None):
        """Push SLI buckets into an SLO fed by pushes: a list of {start, good, total}, at most
        10,000, each counting at most 10^12 events. Idempotent on start; all or nothing; the
        status is recomputed a few seconds after the push commits. A push into an SLO synced
        from Prometheus is refused (400, `source`)."""
        slo = self.get_object()
        stored = slo_buckets_push(slo=slo, buckets=_pushed_buckets(request.data))
        return Response({"stored": stored}, status=202)


def _check_may_edit_slos_of(user, service: Service) -> None:
    if not can_edit_team_records(user, service.owner_team_id):
        raise PermissionDenied(f"You cannot edit the SLOs of the service {service.slug}.")


class BudgetPolicyTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetPolicyTier
        fields = ["name", "min_remaining", "min_included", "change_rule", "description"]


class BudgetPolicySerializer(serializers.HyperlinkedModelSerializer):
    tiers = BudgetPolicyTierSerializer(many=True, help_text="Best tier first; one has no floor.")
    # Declared so that "only one default" is checked by the model's constraint, whose message
    # says so, instead of a generated uniqueness check that reads as nonsense.
    is_default = serializers.BooleanField(required=False)

    class Meta:
        model = BudgetPolicy
        fields = ["id", "url", "name", "slug", "description", "is_default", "tiers"]

    def create(self, validated_data):
        return budget_policy_create(**validated_data)

    def update(self, instance, validated_data):
        return budget_policy_update(policy=instance, **validated_data)


class BudgetPolicyViewSet(viewsets.ModelViewSet):
    """Budget policies: everyone reads them; SRE leads write them."""

    serializer_class = BudgetPolicySerializer
    permission_classes = [IsSRELeadOrReadOnly]

    def get_queryset(self):
        return slo_selectors.budget_policy_list()

    def perform_destroy(self, instance):
        budget_policy_delete(policy=instance)
