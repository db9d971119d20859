"""/api/reports/ (the archive, read-only: the list, and each report with its HTML and text)
and /api/report-subscriptions/ (the signed-in person's subscriptions; SRE leads see all)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError as APIValidationError

from portal.reports import selectors
from portal.reports.actions import subscription_create, subscription_delete
from portal.reports.filters import ReportFilterSet
from portal.reports.forms import SubscriptionForm
from portal.reports.models import MonthlyReport, ReportSubscription
from portal.roles import is_sre_lead


class ReportSerializer(serializers.ModelSerializer):
    scope = serializers.CharField(read_only=True, help_text="“org” or the team's slug.")
    scope_name = serializers.CharField(read_only=True)
    month = serializers.SerializerMethodField()
    sent_count = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "scope",
            "scope_name",
            "month",
            "status",
            "subject",
            "generated_at",
            "deliveries_planned_at",
            "sent_count",
            "skipped",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(help_text="YYYY-MM"))
    def get_month(self, report) -> str:
        return report.month_key

    def get_url(self, report) -> str:
        return self.context["request"].build_absolute_uri(report.get_absolute_url())


class ReportDetailSerializer(ReportSerializer):
    images = serializers.SerializerMethodField()

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "html", "text", "figures", "images"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_images(self, report) -> list[dict]:
        from django.urls import reverse

        request = self.context["request"]
        return [
            {
                "name": image.name,
                "alt": image.alt,
                "url": request.build_absolute_uri(
                    reverse("report_image", args=[report.scope, report.month_key, image.name])
                ),
            }
            for image in report.images.defer("png")
        ]


class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Every report of every month; ``?scope=org|<team slug>&month=YYYY-MM`` narrows it (an
    unknown scope or a malformed month is a 400 saying so)."""

    filterset_class = ReportFilterSet

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.report_list().defer(None)
        return selectors.report_list()

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer


class ReportSubscriptionSerializer(serializers.ModelSerializer):
    scope = serializers.CharField(help_text="“org” or a team's slug.")
    scope_name = serializers.CharField(read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ReportSubscription
        fields = ["id", "scope", "scope_name", "user", "created_at"]
        read_only_fields = ["id", "scope_name", "user", "created_at"]

    def validate_scope(self, value):
        form = SubscriptionForm({"scope": value})
        if not form.is_valid():
            raise serializers.ValidationError(form.errors["scope"])
        return form.cleaned_data["scope"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["scope"] = instance.scope
        return data


class ReportSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in person's report subscriptions (SRE leads read everyone's): POST
    ``{"scope": "org"}`` or a team's slug subscribes, DELETE unsubscribes."""

    serializer_class = ReportSubscriptionSerializer

    def get_queryset(self):
        subscriptions = selectors.subscription_list()
        if getattr(self, "swagger_fake_view", False):  # the schema is made without a user
            return subscriptions.none()
        if self.action == "list" and is_sre_lead(self.request.user):
            return subscriptions
        return subscriptions.filter(user=self.request.user)

    def perform_create(self, serializer):
        from django.core.exceptions import ValidationError

        try:
            serializer.instance = subscription_create(
                user=self.request.user, team=serializer.validated_data["scope"]
            )
        except ValidationError as error:
            raise APIValidationError(error.message_dict) from error

    def perform_destroy(self, instance):
        subscription_delete(user_id=instance.user_id, team_id=instance.team_id)
