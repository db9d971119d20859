"""REST API for change requests and freezes.

- ``/api/changes/``: list (the UI list's filters), write (POST, as a draft), read, edit a draft
  (PATCH), delete a draft; moves as POST actions (``submit/``, ``schedule/``, ``start/``,
  ``complete/``, ``fail/``, ``roll-back/``, ``review/``), decisions (``approve/``, ``reject/``),
  the release checklist (``checklist/``), its timeline (``events/``), and what the gate would
  answer now (``gate/``, not recorded).
- ``/api/freeze-windows/``: freezes, with the UI's rights.
"""

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from incidents.models.incidents import Incident
from services.models.catalog import Service, Team
from toil import freezes, gate
from toil.actions import approvals as approval_actions
from toil.actions import changes as actions
from toil.actions import freezes as freeze_actions
from toil.api.gate import GateAnswerSerializer, ServiceSlugsField, gate_answer_data
from toil.choices.changes import (
    CHECKLIST_LABELS,
    ApprovalDecision,
    FreezeScope,
)
from toil.filters.changes import (
    ChangeFilterSet,
    FreezeFilterSet,
)
from toil.models.changes import (
    TEXT_MAX_LENGTH,
    ChangeApproval,
    ChangeEvent,
    ChangeRequest,
    FreezeWindow,
)
from toil.permissions.changes import (
    ChangePermission,
    FreezePermission,
    can_change_services,
    can_manage_freeze,
)
from toil.selectors import changes as selectors
from toil.selectors import freezes as freeze_selectors
from toil.selectors import gate as gate_selectors

User = get_user_model()


def _username_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs
    )


class ChangeApprovalSerializer(serializers.ModelSerializer):
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ChangeApproval
        fields = ["approver", "decision", "role", "comment", "created_at"]
        read_only_fields = fields


class ChangeSerializer(serializers.HyperlinkedModelSerializer):
    """A change request; what POST writes (a draft) and PATCH changes (while a draft)."""

    services = ServiceSlugsField()
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    implementer = _username_field(required=False, allow_null=True)
    incident = serializers.SlugRelatedField(
        slug_field="reference",
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        help_text="Reference of the linked incident (required for an emergency change).",
    )
    approvals_given = serializers.IntegerField(read_only=True)
    approvals_required = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "url",
            "title",
            "description",
            "category",
            "status",
            "services",
            "team",
            "author",
            "implementer",
            "window_start",
            "window_end",
            "time_zone",
            "rollback_plan",
            "incident",
            "checklist",
            "customer_facing",
            "data_migration",
            "rollback_tested",
            "tested_in_staging",
            "outside_working_hours",
            "risk_score",
            "risk_level",
            "approvals_given",
            "approvals_required",
            "conflicts",
            "submitted_at",
            "approved_at",
            "implemented_at",
            "finished_at",
            "reviewed_at",
            "review",
            "created_at",
        ]
        read_only_fields = [
            "status",
            "checklist",
            "risk_score",
            "risk_level",
            "conflicts",
            "submitted_at",
            "approved_at",
            "implemented_at",
            "finished_at",
            "reviewed_at",
            "review",
            "created_at",
        ]
        extra_kwargs = {
            "description": {"max_length": TEXT_MAX_LENGTH},
            "rollback_plan": {"max_length": TEXT_MAX_LENGTH},
            "url": {"view_name": "change-detail"},
        }

    def get_approvals_required(self, change) -> int:
        return selectors.approvals_required(change)

    def validate_services(self, services):
        request = self.context["request"]
        if not can_change_services(request.user, services):
            raise serializers.ValidationError("Name at least one service of your teams.")
        return services

    def create(self, validated_data):
        return actions.change_create(author=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return actions.change_update(
            change=instance, by=self.context["request"].user, **validated_data
        )


class ChangeDetailSerializer(ChangeSerializer):
    approvals = ChangeApprovalSerializer(many=True, read_only=True)
    overridden_freezes = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(ChangeSerializer.Meta):
        fields = [*ChangeSerializer.Meta.fields, "approvals", "overridden_freezes"]


class ChangeEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ChangeEvent
        fields = ["at", "kind", "actor", "from_status", "to_status", "text"]
        read_only_fields = fields


class MoveSerializer(serializers.Serializer):
    acknowledge_conflicts = serializers.BooleanField(
        default=False, help_text="schedule/: accept the conflicts found (recorded on the change)."
    )
    review = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_MAX_LENGTH,
        help_text="review/: the post-implementation review.",
    )


class ChangeDecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH
    )


class ChecklistSerializer(serializers.Serializer):
    item = serializers.ChoiceField(choices=sorted(CHECKLIST_LABELS))
    done = serializers.BooleanField(default=True)


class ChangeViewSet(viewsets.ModelViewSet):
    """Change requests: everyone signed in reads; engineers write them for their teams'
    services; the author, implementer, the change's teams and SRE leads move them; approvers
    decide (toil.approvals says who)."""

    permission_classes = [ChangePermission]
    filterset_class = ChangeFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if self.action == "list":
            # Each row names its implementer and incident too.
            return selectors.change_list().select_related("implementer", "incident")
        return selectors.change_detail()

    def get_serializer_class(self):
        if self.action == "list":
            return ChangeSerializer
        return ChangeDetailSerializer

    def _detail(self, change, response_status=status.HTTP_200_OK):
        fresh = selectors.change_detail().get(pk=change.pk)
        serializer = ChangeDetailSerializer(fresh, context=self.get_serializer_context())
        return Response(serializer.data, status=response_status)

    def _validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request, *args, **kwargs):
        serializer = ChangeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        change = serializer.save()
        return self._detail(change, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = ChangeSerializer(
            self.get_object(),
            data=request.data,
            partial=kwargs.pop("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return self._detail(serializer.save())

    def perform_destroy(self, instance):
        actions.change_delete(change=instance, by=self.request.user)

    def _move(self, move: str):
        change = self.get_object()
        data = self._validated(MoveSerializer)
        actions.change_move(change=change, move=move, by=self.request.user, **data)
        return self._detail(change)

    @extend_schema(request=MoveSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit the draft for approval: its approvers are emailed."""
        return self._move("submit")

    @extend_schema(request=MoveSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Schedule the approved change. Conflicts (a freeze, another change to the same
        service in the window, a budget freeze, an open SEV1/SEV2) refuse it with a 400 naming
        each under ``conflicts``, unless ``acknowledge_conflicts`` accepts them."""
        return self._move("schedule")

    @extend_schema(request=MoveSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._move("start")

    @extend_schema(request=MoveSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._move("complete")

    @extend_schema(request=MoveSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def fail(self, request, pk=None):
        return self._move("fail")

    @extend_schema(request=MoveSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"], url_path="roll-back", url_name="roll-back")
    def roll_back(self, request, pk=None):
        return self._move("roll_back")

    @extend_schema(request=MoveSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Record the post-implementation review (``review``, required)."""
        return self._move("review")

    def _decide(self, decision: str):
        change = self.get_object()
        data = self._validated(ChangeDecisionSerializer)
        approval_actions.change_decide(
            change=change, by=self.request.user, decision=decision, **data
        )
        return self._detail(change)

    @extend_schema(request=ChangeDecisionSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(ApprovalDecision.APPROVE)

    @extend_schema(request=ChangeDecisionSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the change; ``comment`` is required."""
        return self._decide(ApprovalDecision.REJECT)

    @extend_schema(request=ChecklistSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def checklist(self, request, pk=None):
        change = self.get_object()
        data = self._validated(ChecklistSerializer)
        actions.change_checklist_tick(change=change, by=request.user, **data)
        return self._detail(change)

    @extend_schema(responses=ChangeEventSerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None)
    def events(self, request, pk=None):
        change = self.get_object()
        page = self.paginate_queryset(selectors.change_events(change))
        return self.get_paginated_response(ChangeEventSerializer(page, many=True).data)

    @extend_schema(responses=GateAnswerSerializer)
    @action(detail=True, methods=["get"], filterset_class=None)
    def gate(self, request, pk=None):
        """What the deploy gate would answer now for a deploy of this change's services in
        its category (a preview: not recorded)."""
        change = self.get_object()
        now = timezone.now()
        facts = gate_selectors.gate_facts(
            services=list(change.services.all()), category=change.category, change=change, now=now
        )
        return Response(gate_answer_data(request, gate.decide(facts), evaluated_at=now))


# --- freezes ----------------------------------------------------------------------------------


class FreezeWindowSerializer(serializers.HyperlinkedModelSerializer):
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), required=False, allow_null=True
    )
    overriders = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        many=True,
        required=False,
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FreezeWindow
        fields = [
            "id",
            "url",
            "name",
            "reason",
            "scope",
            "team",
            "service",
            "start",
            "end",
            "time_zone",
            "recurrence",
            "overriders",
            "created_by",
            "created_at",
        ]
        extra_kwargs = {
            "reason": {"max_length": TEXT_MAX_LENGTH},
            "url": {"view_name": "freezewindow-detail"},
        }

    def validate(self, attrs):
        request = self.context["request"]
        instance = self.instance
        scope = attrs.get("scope", getattr(instance, "scope", FreezeScope.ORGANISATION))
        team = attrs.get("team", getattr(instance, "team", None))
        service = attrs.get("service", getattr(instance, "service", None))
        # Before the permission check, which needs the team or the service.
        if lacking := freezes.scope_errors(scope, team=team, service=service):
            raise serializers.ValidationError(lacking)
        if not can_manage_freeze(request.user, scope=scope, team=team, service=service):
            raise PermissionDenied(
                "SRE leads freeze the whole organisation; engineers their own team's services."
            )
        return attrs

    def create(self, validated_data):
        return freeze_actions.freeze_create(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return freeze_actions.freeze_update(
            freeze=instance, by=self.context["request"].user, **validated_data
        )


class FreezeWindowViewSet(viewsets.ModelViewSet):
    """Freeze windows: everyone signed in reads; SRE leads freeze the organisation, engineers
    their teams' services."""

    permission_classes = [FreezePermission]
    filterset_class = FreezeFilterSet
    serializer_class = FreezeWindowSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return freeze_selectors.freeze_list().order_by("start", "pk")

    def perform_destroy(self, instance):
        freeze_actions.freeze_delete(freeze=instance, by=self.request.user)
