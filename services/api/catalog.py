"""REST API for the catalog: teams, memberships, tags and services.

Reads come from services.selectors, writes go through services.actions, and the
permissions are portal.roles' rules, so the API allows exactly what the UI allows.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.reverse import reverse

from portal.api.fields import CappedListField, listed, listed_many, listed_prefetch
from portal.api.lookups import NaturalKeyLookupMixin
from portal.roles import IsSRELeadOrReadOnly, TeamScopedPermission, can_edit_team_records
from services.actions.catalog import (
    membership_set,
    service_create,
    service_delete,
    service_update,
    team_create,
    team_delete,
    team_update,
)
from services.choices import ReadinessState
from services.filters import ServiceFilterSet, TeamFilterSet
from services.models.catalog import (
    DESCRIPTION_MAX_LENGTH,
    MAX_DEPENDENCIES_PER_SERVICE,
    MAX_TAGS_PER_SERVICE,
    Membership,
    Service,
    Tag,
    Team,
)
from services.selectors import catalog as catalog_selectors
from services.selectors.readiness import annotated_readiness, with_readiness


class TeamMemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "role"]
        read_only_fields = fields


class TeamSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="team-detail", lookup_field="slug")
    manager = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        allow_null=True,
        required=False,
    )
    members = TeamMemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Team
        fields = [
            "id",
            "url",
            "name",
            "slug",
            "description",
            "email",
            "chat_channel",
            "manager",
            "members",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": {"max_length": DESCRIPTION_MAX_LENGTH}}

    def create(self, validated_data):
        return team_create(**validated_data)

    def update(self, instance, validated_data):
        return team_update(team=instance, **validated_data)


class MembershipSerializer(serializers.HyperlinkedModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all()
    )

    class Meta:
        model = Membership
        fields = ["id", "url", "team", "user", "role"]

    def validate(self, attrs):
        # A membership is a person's place in one team: moving it would silently change
        # two teams' rights at once, so a change of team or person is a delete and a create.
        if self.instance is not None:
            for field in ("team", "user"):
                if field in attrs and attrs[field] != getattr(self.instance, field):
                    raise serializers.ValidationError(
                        {field: "Cannot be changed; delete this membership and create another."}
                    )
        return attrs

    def create(self, validated_data):
        # Without a role, the model's default (engineer), as the schema says.
        role = validated_data.get("role", Membership._meta.get_field("role").get_default())
        return membership_set(team=validated_data["team"], user=validated_data["user"], role=role)

    def update(self, instance, validated_data):
        return membership_set(
            team=instance.team,
            user=instance.user,
            role=validated_data.get("role", instance.role),
        )


class TagSerializer(serializers.ModelSerializer):
    service_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "slug", "service_count"]


class TagNamesField(CappedListField):
    """Tags are written as names (new ones are created) and read back as names."""

    child = serializers.CharField(max_length=100)

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_TAGS_PER_SERVICE, **kwargs)

    def get_attribute(self, instance):
        return listed(instance, self.source)

    def to_representation(self, data):
        return [tag.name for tag in data]


class ServiceSlugsField(CappedListField):
    """Services named by slug, looked up in one query (at most
    MAX_DEPENDENCIES_PER_SERVICE of them), each unknown slug named in the error."""

    child = serializers.SlugField(max_length=150)

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_DEPENDENCIES_PER_SERVICE, **kwargs)

    def to_internal_value(self, data):
        slugs = list(dict.fromkeys(super().to_internal_value(data)))
        found = {service.slug: service for service in Service.objects.filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in found]
        if unknown:
            raise serializers.ValidationError(
                [f"No service has the slug “{slug}”." for slug in unknown]
            )
        return [found[slug] for slug in slugs]

    def get_attribute(self, instance):
        return listed(instance, self.source)

    def to_representation(self, data):
        return [service.slug for service in data]


class ServiceSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="service-detail", lookup_field="slug")
    owner_team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    depends_on = ServiceSlugsField(required=False)
    dependents = listed_many(serializers.SlugRelatedField, slug_field="slug", read_only=True)
    tags = TagNamesField(required=False)
    readiness = serializers.SerializerMethodField()
    in_production_without_review = serializers.SerializerMethodField()
    readiness_override = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="SRE leads only: why this tier-1/2 service may move into production without "
        "an approved readiness review (kept in its history).",
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "url",
            "name",
            "slug",
            "description",
            "owner_team",
            "tier",
            "lifecycle",
            "kind",
            "system",
            "repository_url",
            "runbook_url",
            "dashboard_url",
            "oncall_url",
            "pagerduty_service_id",
            "handles_personal_data",
            "data_retention_days",
            "depends_on",
            "dependents",
            "tags",
            "readiness",
            "in_production_without_review",
            "readiness_override",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": {"max_length": DESCRIPTION_MAX_LENGTH}}

    def to_representation(self, service):
        tag_names = getattr(service, "tag_names", None)
        if tag_names is None:
            return super().to_representation(service)
        return self._list_row(service, tag_names)

    #: A placeholder slug, for the detail address of every row of a list from one reverse().
    _SLUG = "slug-of-the-row"

    def _list_row(self, service, tag_names) -> dict:
        """A row of the list (its services read with_relation_keys()): what DRF's fields
        write, in their order and formats, written directly; going field by field through DRF
        costs several times the row's own work, and the list shows up to 200 rows."""
        shared = getattr(self, "_row_shared", None)
        if shared is None:
            url = reverse(
                "service-detail",
                kwargs={"slug": self._SLUG},
                request=self.context.get("request"),
                format=self.context.get("format"),
            )
            shared = self._row_shared = (
                *url.split(self._SLUG, 1),
                serializers.DateTimeField().to_representation,
                timezone.now(),
            )
        url_start, url_end, moment, now = shared
        state, unreviewed = annotated_readiness(
            service, tier=service.tier, lifecycle=service.lifecycle, now=now
        )
        return {
            "id": service.pk,
            "url": f"{url_start}{service.slug}{url_end}",
            "name": service.name,
            "slug": service.slug,
            "description": service.description,
            "owner_team": service.owner_team.slug,
            "tier": service.tier,
            "lifecycle": service.lifecycle,
            "kind": service.kind,
            "system": service.system,
            "repository_url": service.repository_url,
            "runbook_url": service.runbook_url,
            "dashboard_url": service.dashboard_url,
            "oncall_url": service.oncall_url,
            "pagerduty_service_id": service.pagerduty_service_id,
            "handles_personal_data": service.handles_personal_data,
            "data_retention_days": service.data_retention_days,
            "depends_on": service.depends_on_slugs,
            "dependents": service.dependent_slugs,
            "tags": tag_names,
            "readiness": state,
            "in_production_without_review": unreviewed,
            "created_at": moment(service.created_at),
            "updated_at": moment(service.updated_at),
        }

    def _readiness(self, service) -> tuple[str, bool]:
        cached = getattr(service, "_readiness", None)
        if cached is None:
            if not hasattr(service, "readiness_open_status"):  # just written: read it afresh
                service = with_readiness(Service.objects.filter(pk=service.pk)).get()
            cached = annotated_readiness(
                service, tier=service.tier, lifecycle=service.lifecycle, now=timezone.now()
            )
            service._readiness = cached
        return cached

    @extend_schema_field(serializers.ChoiceField(choices=ReadinessState.choices))
    def get_readiness(self, service) -> str:
        return self._readiness(service)[0]

    def get_in_production_without_review(self, service) -> bool:
        return self._readiness(service)[1]

    def create(self, validated_data):
        return service_create(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return service_update(service=instance, by=self.context["request"].user, **validated_data)


class TeamViewSet(NaturalKeyLookupMixin, viewsets.ModelViewSet):
    """Teams, addressed by slug (their ids still work)."""

    lookup_field = "slug"
    serializer_class = TeamSerializer
    permission_classes = [IsSRELeadOrReadOnly]
    filterset_class = TeamFilterSet

    def get_queryset(self):
        return catalog_selectors.team_list().prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("user"))
        )

    def perform_destroy(self, instance):
        team_delete(team=instance)


class MembershipViewSet(viewsets.ModelViewSet):
    queryset = Membership.objects.select_related("team", "user")
    serializer_class = MembershipSerializer
    permission_classes = [IsSRELeadOrReadOnly]


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TagSerializer

    def get_queryset(self):
        return catalog_selectors.tag_list()


class ServiceViewSet(NaturalKeyLookupMixin, viewsets.ModelViewSet):
    """Services, addressed by slug (their ids still work); engineers write those of their own
    teams, SRE leads all of them."""

    lookup_field = "slug"
    serializer_class = ServiceSerializer
    permission_classes = [TeamScopedPermission]
    filterset_class = ServiceFilterSet

    def get_queryset(self):
        # Dependencies are shown as slugs only: fetch just those, one query per direction.
        slugs = Service.objects.only("id", "slug").order_by("slug")
        if self.action == "list" and connection.vendor == "postgresql":
            # Tags and dependencies as the lists of names and slugs the rows show, read in the
            # services' own query (ServiceSerializer._list_row).
            return with_readiness(
                catalog_selectors.with_relation_keys(
                    catalog_selectors.service_list().prefetch_related(None)
                )
            )
        if self.action == "list":
            # SQLite (`make run`) has no arrays: into plain lists, which the serializer's
            # fields read (listed_prefetch); the rows are the same.
            return with_readiness(
                catalog_selectors.service_list()
                .prefetch_related(None)
                .prefetch_related(
                    listed_prefetch("tags", Tag.objects.only("id", "name").order_by("name")),
                    listed_prefetch("depends_on", slugs),
                    listed_prefetch("dependents", slugs),
                )
            )
        return with_readiness(
            catalog_selectors.service_list().prefetch_related(
                Prefetch("depends_on", queryset=slugs), Prefetch("dependents", queryset=slugs)
            )
        )

    def perform_create(self, serializer):
        self._check_may_own(serializer.validated_data["owner_team"])
        serializer.save()

    def perform_update(self, serializer):
        # The object permission covered the current team; moving needs rights on the new one.
        if "owner_team" in serializer.validated_data:
            self._check_may_own(serializer.validated_data["owner_team"])
        serializer.save()

    def perform_destroy(self, instance):
        service_delete(service=instance)

    def _check_may_own(self, team):
        if not can_edit_team_records(self.request.user, team.pk):
            raise PermissionDenied(f"You cannot edit the services of the team {team.slug}.")
