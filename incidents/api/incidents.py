"""REST API for incidents, their timeline and status updates.

``/api/incidents/`` lists (with the UI list's filters), declares (POST), shows and
edits (PATCH: title, summary, impact, users affected, start and detection times,
affected services). Lifecycle moves are actions on an incident: ``status/``,
``severity/``, ``roles/``, ``notes/`` and ``timeline/{entry}/pin/`` (POST), its
``timeline/`` reads, and ``status-updates/`` reads and sends (POST), with a draft to start
from at ``status-updates/draft/?kind=``. Permissions are incidents.permissions',
the UI's; domain errors come back as 400s naming the field.
"""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents import limits
from incidents.actions.incidents import (
    incident_add_note,
    incident_assign_role,
    incident_change_severity,
    incident_change_status,
    incident_declare,
    incident_update,
    timeline_entry_pin,
)
from incidents.actions.status_updates import status_update_queue
from incidents.choices import IncidentRole, IncidentStatus, Severity, StatusUpdateKind
from incidents.filters.incidents import IncidentFilterSet
from incidents.models.incidents import Incident, IncidentAlert, StatusUpdate, TimelineEntry
from incidents.permissions import IncidentPermission
from incidents.selectors import incidents as incident_selectors
from incidents.status_updates import recipients_of, unfilled_prompt_errors
from portal.api.fields import listed_many, listed_prefetch
from portal.api.lookups import NaturalKeyLookupMixin
from services.models.catalog import Service

User = get_user_model()


def _username_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs
    )


class IncidentSerializer(serializers.HyperlinkedModelSerializer):
    """An incident as lists show it; also what PATCH changes (through incident_update)."""

    url = serializers.HyperlinkedIdentityField(
        view_name="incident-detail", lookup_field="reference"
    )

    services = listed_many(
        serializers.SlugRelatedField,
        slug_field="slug",
        queryset=Service.objects.all(),
        required=False,
    )
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    commander = serializers.SlugRelatedField(slug_field="username", read_only=True)
    tech_lead = serializers.SlugRelatedField(slug_field="username", read_only=True)
    communications_lead = serializers.SlugRelatedField(slug_field="username", read_only=True)
    scribe = serializers.SlugRelatedField(slug_field="username", read_only=True)
    declared_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "url",
            "reference",
            "title",
            "summary",
            "severity",
            "status",
            "is_open",
            "services",
            "team",
            "commander",
            "tech_lead",
            "communications_lead",
            "scribe",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "closed_at",
            "users_affected",
            "impact",
            "source",
            "alert_group_key",
            "declared_by",
            "created_at",
        ]
        read_only_fields = [
            "reference",
            "severity",
            "status",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "closed_at",
            "source",
            "alert_group_key",
            "created_at",
        ]

    def update(self, instance, validated_data):
        return incident_update(incident=instance, by=self.context["request"].user, **validated_data)


class IncidentAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentAlert
        fields = ["fingerprint", "status", "labels", "annotations", "starts_at", "ends_at"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    """An incident's full record: also its subscribers, alerts and post-mortem status."""

    subscribers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    alerts = IncidentAlertSerializer(many=True, read_only=True)
    postmortem_status = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "subscribers", "alerts", "postmortem_status"]

    def get_postmortem_status(self, incident) -> str | None:
        postmortem = getattr(incident, "postmortem", None)
        return postmortem.status if postmortem else None


class IncidentDeclareSerializer(serializers.Serializer):
    """What declaring takes: a few fields, the rest defaults (now, the declarer's team)."""

    title = serializers.CharField(max_length=limits.TITLE_MAX_LENGTH)
    severity = serializers.ChoiceField(choices=Severity.choices)
    services = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), many=True, required=False
    )
    summary = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.SUMMARY_MAX_LENGTH
    )
    impact = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.IMPACT_MAX_LENGTH
    )
    users_affected = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    started_at = serializers.DateTimeField(required=False)
    detected_at = serializers.DateTimeField(required=False)
    commander = _username_field(required=False, allow_null=True)


def _note_field(help_text: str = ""):
    return serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=limits.NOTE_MAX_LENGTH,
        help_text=help_text,
    )


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = _note_field(
        "Why; required to move the incident back (reopening it), and kept on the timeline."
    )


class SeverityChangeSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
    note = _note_field()


class RoleAssignmentSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=IncidentRole.choices)
    user = _username_field(allow_null=True, help_text="Username; null leaves the role empty.")


class TimelineEntrySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "kind", "text", "author", "pinned", "created_at"]
        read_only_fields = ["id", "kind", "author", "created_at"]
        # A note takes what the UI's note form takes.
        extra_kwargs = {"at": {"required": False}, "text": {"max_length": limits.NOTE_MAX_LENGTH}}


class PinSerializer(serializers.Serializer):
    pinned = serializers.BooleanField(default=True)


class StatusUpdateSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    delivery = serializers.ChoiceField(
        choices=["queued", "sending", "retrying", "sent", "failed"],
        read_only=True,
        help_text="Where its sending stands; last_error says why it is retrying or failed.",
    )

    class Meta:
        model = StatusUpdate
        fields = [
            "id",
            "kind",
            "subject",
            "body",
            "created_by",
            "created_at",
            "delivery",
            "sent_at",
            "recipients",
            "attempts",
            "next_attempt_at",
            "last_error",
            "failed_at",
        ]
        read_only_fields = fields


class StatusUpdateSendSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StatusUpdateKind.choices)
    subject = serializers.CharField(max_length=limits.STATUS_UPDATE_SUBJECT_MAX_LENGTH)
    body = serializers.CharField(max_length=limits.STATUS_UPDATE_BODY_MAX_LENGTH)

    def validate(self, data):
        errors = unfilled_prompt_errors(subject=data["subject"], body=data["body"])
        if errors:
            raise serializers.ValidationError(errors)
        return data


class StatusUpdateDraftSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StatusUpdateKind.choices)
    subject = serializers.CharField()
    body = serializers.CharField()
    recipients = serializers.ListField(child=serializers.EmailField())


class IncidentViewSet(
    NaturalKeyLookupMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents, addressed by reference (their ids still work): everyone signed in reads;
    engineers declare; the commander and SRE leads steer; its teams and role holders write
    the timeline."""

    lookup_field = "reference"
    permission_classes = [IncidentPermission]
    filterset_class = IncidentFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Actions on what hangs off an incident: they need the incident row, not its whole record.
    SUBRESOURCE_ACTIONS = frozenset({"timeline", "status_updates", "notes", "pin"})

    def get_queryset(self):
        if self.action == "list":
            # The list shows its services' slugs (in the order of their names): those only,
            # into a plain list (listed_prefetch). The people come from with_people, so the
            # commander needs no join.
            services = Service.objects.only("id", "slug", "name").order_by("name")
            return incident_selectors.with_people(
                incident_selectors.incident_list()
                .select_related(None)
                .select_related("team")
                .prefetch_related(None)
                .prefetch_related(listed_prefetch("services", services))
            )
        if self.action in self.SUBRESOURCE_ACTIONS:
            # The permission check needs the affected services' teams, nothing more.
            return Incident.objects.prefetch_related("services")
        return incident_selectors.incident_detail()

    def get_serializer_class(self):
        if self.action == "list":
            return IncidentSerializer
        return IncidentDetailSerializer

    def _detail_response(self, incident, response_status=status.HTTP_200_OK):
        fresh = incident_selectors.incident_detail().get(pk=incident.pk)
        serializer = IncidentDetailSerializer(fresh, context=self.get_serializer_context())
        return Response(serializer.data, status=response_status)

    def _validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=IncidentDeclareSerializer, responses={201: IncidentDetailSerializer})
    def create(self, request):
        data = self._validated(IncidentDeclareSerializer)
        incident = incident_declare(declared_by=request.user, **data)
        return self._detail_response(incident, status.HTTP_201_CREATED)

    @extend_schema(request=StatusChangeSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, reference=None):
        incident = self.get_object()
        data = self._validated(StatusChangeSerializer)
        incident_change_status(incident=incident, by=request.user, **data)
        return self._detail_response(incident)

    @extend_schema(request=SeverityChangeSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def severity(self, request, reference=None):
        incident = self.get_object()
        data = self._validated(SeverityChangeSerializer)
        incident_change_severity(incident=incident, by=request.user, **data)
        return self._detail_response(incident)

    @extend_schema(request=RoleAssignmentSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def roles(self, request, reference=None):
        incident = self.get_object()
        data = self._validated(RoleAssignmentSerializer)
        incident_assign_role(incident=incident, by=request.user, **data)
        return self._detail_response(incident)

    @extend_schema(request=TimelineEntrySerializer, responses={201: TimelineEntrySerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, reference=None):
        incident = self.get_object()
        data = self._validated(TimelineEntrySerializer)
        entry = incident_add_note(incident=incident, by=request.user, **data)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None)
    def timeline(self, request, reference=None):
        incident = self.get_object()
        page = self.paginate_queryset(incident_selectors.timeline_entry_list(incident))
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)

    @extend_schema(request=PinSerializer, responses=TimelineEntrySerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"timeline/(?P<entry_id>\d+)/pin",
        url_name="timeline-pin",
    )
    def pin(self, request, reference=None, entry_id=None):
        incident = self.get_object()
        entry = get_object_or_404(TimelineEntry, incident=incident, pk=entry_id)
        data = self._validated(PinSerializer)
        timeline_entry_pin(entry=entry, pinned=data["pinned"])
        return Response(TimelineEntrySerializer(entry).data)

    @extend_schema(methods=["GET"], request=None, responses=StatusUpdateSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=StatusUpdateSendSerializer,
        responses={201: StatusUpdateSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="status-updates", filterset_class=None)
    def status_updates(self, request, reference=None):
        """GET: the incident's status updates, newest first. POST: send one (kind, subject,
        body; prompts of a draft filled in) by email to its teams and followers."""
        incident = self.get_object()
        if request.method == "POST":
            data = self._validated(StatusUpdateSendSerializer)
            update = status_update_queue(incident=incident, by=request.user, **data)
            return Response(StatusUpdateSerializer(update).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(incident_selectors.status_update_list(incident))
        return self.get_paginated_response(StatusUpdateSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("kind", enum=StatusUpdateKind.values, required=True)],
        responses=StatusUpdateDraftSerializer,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="status-updates/draft",
        url_name="status-update-draft",
        filterset_class=None,
    )
    def status_update_draft(self, request, reference=None):
        """The draft of a status update of ``?kind=`` from the incident's facts, with who
        would receive it: fill in its prompts (``[[…]]``) and POST it to status-updates/."""
        incident = self.get_object()
        kind = serializers.ChoiceField(choices=StatusUpdateKind.choices)
        try:
            kind = kind.run_validation(request.query_params.get("kind", ""))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"kind": error.detail}) from error
        draft = incident_selectors.status_update_draft(incident, kind, now=timezone.now())
        data = {
            "kind": kind,
            "subject": draft.subject,
            "body": draft.body,
            "recipients": recipients_of(incident),
        }
        return Response(StatusUpdateDraftSerializer(data).data)
