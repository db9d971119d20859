"""REST API for readiness checklists and reviews, with the UI's rules (services.readiness).

- /api/readiness-checklists/: every version, with its categories and criteria; SRE leads load
  new versions with POST /api/readiness-checklists/load/ (YAML body or multipart files).
- /api/readiness-reviews/: reviews with their criteria; POST {"service": SLUG} requests one;
  the workflow steps and the steps on one criterion are POST actions. Whether a step fits the
  review's status is the action's rule (a 400 naming the field), who may take it is this
  module's (a 403).
"""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiTypes, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from portal.roles import is_sre_lead
from services import readiness
from services.actions import readiness as readiness_actions
from services.actions.standards import checklist_load
from services.api.interchange import YAMLBodyParser, uploaded_sources
from services.choices import CriterionStatus, Verdict
from services.filters import ChecklistFilterSet, ReviewFilterSet
from services.models.catalog import Service
from services.models.readiness import (
    ChecklistCategory,
    ChecklistCriterion,
    ReadinessChecklist,
    ReadinessReview,
    ReviewEntry,
    ReviewItem,
    Waiver,
)
from services.selectors import readiness as readiness_selectors
from services.standards import StandardError


def _people():
    return get_user_model().objects.filter(is_active=True)


class LoadedSerializer(serializers.Serializer):
    source = serializers.CharField()
    key = serializers.CharField()
    version = serializers.IntegerField()
    created = serializers.BooleanField(help_text="False when the content was already loaded.")


LOAD_REQUEST = {"application/yaml": OpenApiTypes.STR, "multipart/form-data": OpenApiTypes.OBJECT}


def load_files(request, load) -> Response:
    """Run a loader over the uploaded files or the YAML body; a bad file is a 400 naming the
    file, the category and the key, and nothing is loaded."""
    if not is_sre_lead(request.user):
        raise PermissionDenied("Only SRE leads load checklists and scorecards.")
    try:
        loaded = load(sources=uploaded_sources(request), by=request.user)
    except StandardError as error:
        raise ParseError(f"{error}. Nothing was loaded.") from error
    return Response(LoadedSerializer(loaded, many=True).data)


class ChecklistCriterionSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="check_name", help_text="Empty when attested.")
    judged = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistCriterion
        fields = ["key", "title", "guidance", "tiers", "required", "check", "judged"]

    def get_judged(self, criterion) -> str:
        return "automatic" if criterion.is_automatic else "attested"


class ChecklistCategorySerializer(serializers.ModelSerializer):
    criteria = ChecklistCriterionSerializer(many=True, read_only=True)

    class Meta:
        model = ChecklistCategory
        fields = ["key", "title", "criteria"]


class ChecklistSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="readinesschecklist-detail")
    loaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    categories = ChecklistCategorySerializer(many=True, read_only=True)

    class Meta:
        model = ReadinessChecklist
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
            "categories",
        ]


class ChecklistViewSet(viewsets.ReadOnlyModelViewSet):
    """Readiness checklists, every version, newest first within each key."""

    serializer_class = ChecklistSerializer
    filterset_class = ChecklistFilterSet

    def get_queryset(self):
        return readiness_selectors.checklist_detail()

    @extend_schema(request=LOAD_REQUEST, responses=LoadedSerializer(many=True))
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, YAMLBodyParser])
    def load(self, request):
        """Load checklist files (SRE leads): each file whose content changed becomes its
        checklist's next version; all or nothing."""
        return load_files(request, checklist_load)


class WaiverSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Waiver
        fields = ["reason", "owner", "expires_on", "granted_by", "created_at"]


class ReviewItemSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="criterion.key", read_only=True)
    title = serializers.CharField(source="criterion.title", read_only=True)
    category = serializers.CharField(source="criterion.category.key", read_only=True)
    required = serializers.BooleanField(source="criterion.required", read_only=True)
    check = serializers.CharField(source="criterion.check_name", read_only=True)
    answered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # Text, since it may be empty: a read-only URL field is documented as a URI, which "" is not.
    evidence_url = serializers.CharField(read_only=True)
    waiver = serializers.SerializerMethodField()

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "key",
            "title",
            "category",
            "required",
            "check",
            "status",
            "evidence_url",
            "note",
            "answered_by",
            "answered_at",
            "verdict",
            "reviewer_comment",
            "check_reason",
            "check_url",
            "checked_at",
            "waiver",
        ]
        read_only_fields = fields

    @extend_schema_field(WaiverSerializer(allow_null=True))
    def get_waiver(self, item):
        waiver = getattr(item, "waiver", None) if item.status == CriterionStatus.WAIVED else None
        return WaiverSerializer(waiver).data if waiver else None


class ReviewEntrySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    criterion = serializers.CharField(source="item.criterion.key", read_only=True, default=None)

    class Meta:
        model = ReviewEntry
        fields = ["kind", "author", "text", "criterion", "created_at"]


class ReviewSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="readinessreview-detail")
    service = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Service.objects.select_related("owner_team"),
        help_text="The service's slug; set when the review is requested.",
    )
    checklist = serializers.SlugRelatedField(
        slug_field="key",
        queryset=ReadinessChecklist.objects.all(),
        required=False,
        help_text="The checklist's key (its newest version is used); production-readiness "
        "when left out.",
    )
    checklist_version = serializers.IntegerField(source="checklist.version", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()
    items = ReviewItemSerializer(many=True, read_only=True)
    entries = ReviewEntrySerializer(many=True, read_only=True)

    class Meta:
        model = ReadinessReview
        fields = [
            "id",
            "url",
            "service",
            "checklist",
            "checklist_version",
            "status",
            "requested_by",
            "reviewer",
            "submitted_at",
            "approved_at",
            "expires_at",
            "waivers_expire_on",
            "superseded_at",
            "progress",
            "items",
            "entries",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "submitted_at",
            "approved_at",
            "expires_at",
            "waivers_expire_on",
            "superseded_at",
        ]

    def get_progress(self, review) -> dict:
        progress = readiness.review_progress(review.items.all())
        return {
            "done": progress.done,
            "total": progress.total,
            "required_left": progress.required_left,
            "waived": progress.waived,
        }

    def create(self, validated_data):
        checklist = validated_data.get("checklist")
        return readiness_actions.review_request(
            service=validated_data["service"],
            by=self.context["request"].user,
            checklist_key=checklist.key if checklist else readiness.DEFAULT_CHECKLIST,
        )


class ReviewerSerializer(serializers.Serializer):
    reviewer = serializers.SlugRelatedField(
        slug_field="username",
        queryset=_people(),
        required=False,
        help_text="An SRE lead or PRR reviewer from outside the team; on a resubmission, the "
        "current reviewer when left out.",
    )


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000)


class AnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[
            CriterionStatus.PENDING,
            CriterionStatus.MET,
            CriterionStatus.NOT_MET,
            CriterionStatus.NOT_APPLICABLE,
        ]
    )
    evidence_url = serializers.URLField(
        required=False, allow_blank=True, default="", max_length=500
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class VerdictSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=[Verdict.ACCEPTED, Verdict.REJECTED])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class WaiveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=10000)
    owner = serializers.SlugRelatedField(slug_field="username", queryset=_people())
    expires_on = serializers.DateField()


class ReviewPermission(permissions.BasePermission):
    """Everyone signed in reads; who takes each step is services.readiness's rule."""

    RULES = {
        "submit": readiness.can_submit,
        "assign_reviewer": readiness.can_assign_reviewer,
        "approve": readiness.can_judge,
        "request_changes": readiness.can_judge,
        "comment": readiness.can_comment,
        "answer": readiness.can_answer,
        "judge": readiness.can_judge,
        "waive": readiness.can_judge,
        "unwaive": readiness.can_judge,
    }

    def has_permission(self, request, view):
        return request.user.is_authenticated

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        rule = self.RULES.get(view.action)
        return rule is not None and rule(request.user, obj)


ITEM_PATH = r"items/(?P<item_id>[0-9]+)"


class ReviewViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Readiness reviews with their criteria and history. Request one with POST
    {"service": SLUG}; move it with the workflow actions; answer, judge and waive its
    criteria with the item actions."""

    serializer_class = ReviewSerializer
    permission_classes = [ReviewPermission]
    filterset_class = ReviewFilterSet

    def get_queryset(self):
        return readiness_selectors.review_detail()

    def perform_create(self, serializer):
        service = serializer.validated_data["service"]
        if not readiness.can_request_review(self.request.user, service):
            raise PermissionDenied(
                f"Only the engineers of {service.owner_team.slug} and SRE leads request a review "
                f"of {service.slug}."
            )
        serializer.save()

    def _answer(self, review):
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data)

    def _step(self, request, payload_class, run):
        # The body is read first: a malformed one is a 400 whoever sends it (it tells nothing);
        # what it says is validated once the sender may take the step.
        request.data  # noqa: B018
        review = self.get_object()
        payload = payload_class(data=request.data) if payload_class else None
        if payload is not None:
            payload.is_valid(raise_exception=True)
        run(review, dict(payload.validated_data) if payload else {})
        return self._answer(review)

    @extend_schema(request=ReviewerSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Draft or changes requested → in review, with its reviewer."""
        return self._step(
            request,
            ReviewerSerializer,
            lambda review, data: readiness_actions.review_submit(
                review=review, by=request.user, reviewer=data.get("reviewer")
            ),
        )

    @extend_schema(request=ReviewerSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path="assign-reviewer")
    def assign_reviewer(self, request, pk=None):
        """Give an open review another reviewer (SRE leads; the team before submitting)."""

        def run(review, data):
            if data.get("reviewer") is None:
                raise serializers.ValidationError({"reviewer": ["Name the reviewer."]})
            readiness_actions.review_assign(
                review=review, by=request.user, reviewer=data["reviewer"]
            )

        return self._step(request, ReviewerSerializer, run)

    @extend_schema(request=CommentSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """In review → approved (with waivers when any), by its reviewer, once every required
        criterion is done; valid for READINESS_VALID_DAYS."""
        return self._step(
            request,
            CommentSerializer,
            lambda review, data: readiness_actions.review_approve(
                review=review, by=request.user, **data
            ),
        )

    @extend_schema(request=CommentSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        """In review → changes requested, by its reviewer, saying what must change."""
        return self._step(
            request,
            CommentSerializer,
            lambda review, data: readiness_actions.review_request_changes(
                review=review, by=request.user, **data
            ),
        )

    @extend_schema(request=TextSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        """Add a comment to the review's history."""
        return self._step(
            request,
            TextSerializer,
            lambda review, data: readiness_actions.review_comment(
                review=review, by=request.user, **data
            ),
        )

    def _item_step(self, request, item_id, payload_class, run):
        request.data  # noqa: B018 - a malformed body is a 400 before anything else (_step)
        review = self.get_object()
        item = readiness_selectors.review_item(review, int(item_id))
        if item is None:
            raise NotFound("This review has no such criterion.")
        payload = payload_class(data=request.data) if payload_class else None
        if payload is not None:
            payload.is_valid(raise_exception=True)
        run(item, dict(payload.validated_data) if payload else {})
        return self._answer(review)

    @extend_schema(request=AnswerSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path=f"{ITEM_PATH}/answer")
    def answer(self, request, pk=None, item_id=None):
        """The owner team answers a criterion: met (with evidence), not met, not applicable
        (with the reason), or pending to take the answer back."""
        return self._item_step(
            request,
            item_id,
            AnswerSerializer,
            lambda item, data: readiness_actions.review_item_answer(
                item=item, by=request.user, **data
            ),
        )

    @extend_schema(request=VerdictSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path=f"{ITEM_PATH}/judge")
    def judge(self, request, pk=None, item_id=None):
        """The reviewer accepts or rejects the team's answer (a rejection says why)."""
        return self._item_step(
            request,
            item_id,
            VerdictSerializer,
            lambda item, data: readiness_actions.review_item_judge(
                item=item, by=request.user, **data
            ),
        )

    @extend_schema(request=WaiveSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path=f"{ITEM_PATH}/waive")
    def waive(self, request, pk=None, item_id=None):
        """The reviewer waives a criterion until a date, with a reason and an owner."""
        return self._item_step(
            request,
            item_id,
            WaiveSerializer,
            lambda item, data: readiness_actions.review_item_waive(
                item=item, by=request.user, **data
            ),
        )

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path=f"{ITEM_PATH}/unwaive")
    def unwaive(self, request, pk=None, item_id=None):
        """The reviewer takes a waiver back."""
        return self._item_step(
            request,
            item_id,
            None,
            lambda item, data: readiness_actions.review_item_unwaive(item=item, by=request.user),
        )
