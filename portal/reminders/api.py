"""/api/me/digest/: the signed-in person's digest choice and their latest digests."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.profile.actions import profile_update
from portal.profile.selectors import profile_of
from portal.reminders.models import Digest
from portal.reminders.selectors import digests_of


class DigestLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = Digest
        fields = ["day", "status", "item_count", "escalated_count", "sent_at", "last_error"]


class DigestPreferenceSerializer(serializers.Serializer):
    digest_enabled = serializers.BooleanField()
    time_zone = serializers.CharField(
        read_only=True,
        help_text="The zone the browser last reported; the digest goes out at 08:00 there.",
    )
    recent_digests = DigestLogSerializer(many=True, read_only=True)


class DigestPreferenceView(APIView):
    """Whether the signed-in person gets the daily digest (escalations to managers go out
    regardless), their zone, and their latest digests."""

    serializer_class = DigestPreferenceSerializer

    def _answer(self, user):
        profile = profile_of(user)
        data = {
            "digest_enabled": profile.digest_enabled,
            "time_zone": profile.zone_name,
            "recent_digests": digests_of(user),
        }
        return Response(DigestPreferenceSerializer(data).data)

    @extend_schema(responses=DigestPreferenceSerializer)
    def get(self, request):
        return self._answer(request.user)

    @extend_schema(request=DigestPreferenceSerializer, responses=DigestPreferenceSerializer)
    def put(self, request):
        serializer = DigestPreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile_update(
            user=request.user, digest_enabled=serializer.validated_data["digest_enabled"]
        )
        return self._answer(request.user)

    @extend_schema(request=DigestPreferenceSerializer, responses=DigestPreferenceSerializer)
    def patch(self, request):
        return self.put(request)
