"""REST API for post-mortems and action items, with the UI's rules (incidents.postmortems).

Reads come from incidents.selectors.postmortems, writes go through incidents.actions, and a
domain refusal (a workflow step out of order, a missing reason) is a 400 naming the field.
"""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from incidents import limits, postmortems
from incidents.actions.postmortems import (
    action_item_create,
    action_item_set_status,
    action_item_update,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_start,
    postmortem_submit_for_review,
    postmortem_update,
)
from incidents.choices import ActionItemStatus
from incidents.filters.postmortems import ActionItemFilterSet, PostMortemFilterSet
from incidents.models.incidents import Incident
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.selectors import postmortems as postmortem_selectors
from portal.api.fields import listed_many, listed_prefetch
from portal.roles import can_create_anything, is_sre_lead


def _people():
    return get_user_model().objects.filter(is_active=True)


class PostMortemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="postmortem-detail")
    incident = serializers.SlugRelatedField(
        slug_field="reference",
        queryset=Incident.objects.prefetch_related("services"),
        help_text="The incident's reference; set when the post-mortem is started.",
    )
    incident_title = serializers.CharField(source="incident.title", read_only=True)
    severity = serializers.CharField(source="incident.severity", read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewers = listed_many(
        serializers.SlugRelatedField, slug_field="username", queryset=_people(), required=False
    )
    contributors = listed_many(
        serializers.SlugRelatedField,
        slug_field="username",
        read_only=True,
        help_text="Who wrote its sections; none of them may publish it.",
    )
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = PostMortem
        fields = [
            "id",
            "url",
            "incident",
            "incident_title",
            "severity",
            "status",
            "author",
            "reviewers",
            "contributors",
            *PostMortem.SECTIONS,
            "due_at",
            "overdue",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "due_at", "published_at"]

    def validate_incident(self, incident):
        if self.instance is not None and incident != self.instance.incident:
            raise serializers.ValidationError("A post-mortem stays with its incident.")
        return incident

    def create(self, validated_data):
        """Start the post-mortem from its incident, then apply any sections sent along."""
        incident = validated_data.pop("incident")
        user = self.context["request"].user
        postmortem = postmortem_start(incident=incident, by=user)
        if validated_data:
            postmortem = postmortem_update(postmortem=postmortem, by=user, **validated_data)
        return postmortem

    def update(self, instance, validated_data):
        validated_data.pop("incident", None)
        return postmortem_update(
            postmortem=instance, by=self.context["request"].user, **validated_data
        )


def _may_write_at_all(user) -> bool:
    """Engineers and SRE leads write; a viewer's write is refused before its body is read."""
    return user.is_authenticated and can_create_anything(user)


class PostMortemPermission(permissions.BasePermission):
    """Everyone signed in reads. Editors change and submit; an independent reviewer (an
    assigned reviewer or an SRE lead who did not write it) publishes; reviewers and editors
    return one in review to draft. Whether the step fits the status is the action's rule (a
    400), who may take it is this one (a 403 saying why)."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return request.user.is_authenticated
        return _may_write_at_all(request.user)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        may_review = is_sre_lead(user) or postmortems.is_reviewer(user, obj)
        if view.action == "publish":
            refusal = postmortems.publish_refusal(user, obj)
            if refusal:
                self.message = refusal
            return refusal is None
        if view.action == "return_to_draft":
            return may_review or postmortems.is_postmortem_editor(user, obj)
        if view.action == "submit":
            return postmortems.is_postmortem_editor(user, obj)
        return postmortems.can_edit_postmortem(user, obj)


class PostMortemViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Post-mortems of every status (the UI's search shows the published ones); started
    with POST {"incident": "INC-…"}, written with PATCH, moved with the workflow actions."""

    serializer_class = PostMortemSerializer
    permission_classes = [PostMortemPermission]
    filterset_class = PostMortemFilterSet

    def get_queryset(self):
        people = get_user_model().objects.order_by("username")
        if self.action == "list":
            # The list shows people by username, into plain lists (listed_prefetch), and not
            # the incident's services (the selector's prefetch is for permission checks).
            usernames = people.only("id", "username")
            return (
                postmortem_selectors.postmortem_list()
                .prefetch_related(None)
                .prefetch_related(
                    listed_prefetch("reviewers", usernames),
                    listed_prefetch("contributors", usernames),
                )
                .order_by("-created_at", "-id")
            )
        return (
            postmortem_selectors.postmortem_list()
            .prefetch_related(Prefetch("contributors", queryset=people))
            .order_by("-created_at", "-id")
        )

    def perform_create(self, serializer):
        incident = serializer.validated_data["incident"]
        if not postmortems.can_start_postmortem(self.request.user, incident):
            raise PermissionDenied(
                "Only the incident's commander, its teams' engineers and SRE leads start it."
            )
        serializer.save()

    def _workflow_step(self, step):
        postmortem = self.get_object()
        step(postmortem=postmortem, by=self.request.user)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses=PostMortemSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Draft → in review; needs at least one reviewer."""
        return self._workflow_step(postmortem_submit_for_review)

    @extend_schema(request=None, responses=PostMortemSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """In review → published, by a reviewer or an SRE lead."""
        return self._workflow_step(postmortem_publish)

    @extend_schema(request=None, responses=PostMortemSerializer)
    @action(detail=True, methods=["post"], url_path="return-to-draft")
    def return_to_draft(self, request, pk=None):
        """In review → draft."""
        return self._workflow_step(postmortem_return_to_draft)


class ActionItemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="actionitem-detail")
    postmortem = serializers.PrimaryKeyRelatedField(
        queryset=postmortem_selectors.postmortem_detail(), help_text="The post-mortem's id."
    )
    incident = serializers.CharField(source="postmortem.incident.reference", read_only=True)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=_people(), allow_null=True, required=False
    )
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "url",
            "postmortem",
            "incident",
            "title",
            "owner",
            "due_date",
            "priority",
            "kind",
            "status",
            "wont_do_reason",
            "overdue",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_at"]

    def validate_postmortem(self, postmortem):
        if self.instance is not None and postmortem != self.instance.postmortem:
            raise serializers.ValidationError("An action item stays with its post-mortem.")
        return postmortem

    def create(self, validated_data):
        return action_item_create(**validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("postmortem", None)
        return action_item_update(action_item=instance, **validated_data)


class ActionItemStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ActionItemStatus.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.WONT_DO_REASON_MAX_LENGTH
    )


class ActionItemPermission(permissions.BasePermission):
    """Everyone signed in reads; the owner, the post-mortem's editors and SRE leads write."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS or view.action != "create":
            # Changes to an item are decided on the item (its owner may be anyone).
            return request.user.is_authenticated
        return _may_write_at_all(request.user)

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or postmortems.can_edit_action_item(
            request.user, obj
        )


class ActionItemViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Action items of every post-mortem, with ``overdue`` computed; filter with status,
    owner, overdue, kind, priority and incident. They are closed (done, won't do), not
    deleted, so that what was decided stays on record."""

    serializer_class = ActionItemSerializer
    permission_classes = [ActionItemPermission]
    filterset_class = ActionItemFilterSet

    def get_queryset(self):
        if self.action == "list":
            # The list shows the owner and the incident's reference: not the incident's team,
            # the post-mortem's author or the incident's services (for permission checks).
            return (
                postmortem_selectors.action_item_list()
                .select_related(None)
                .select_related("owner", "postmortem__incident")
                .prefetch_related(None)
                .order_by("due_date", "id")
            )
        return postmortem_selectors.action_item_list().order_by("due_date", "id")

    def perform_create(self, serializer):
        postmortem = serializer.validated_data["postmortem"]
        if not postmortems.can_manage_action_items(self.request.user, postmortem):
            raise PermissionDenied(
                "Only the post-mortem's editors and SRE leads add action items to it."
            )
        serializer.save()

    @extend_schema(request=ActionItemStatusSerializer, responses=ActionItemSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        """Move the item to a status; "wont_do" needs a reason."""
        action_item = self.get_object()
        payload = ActionItemStatusSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        action_item_set_status(action_item=action_item, **payload.validated_data)
        return Response(self.get_serializer(self.get_object()).data)
