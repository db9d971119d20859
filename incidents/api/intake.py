"""``POST /api/alerts/alertmanager/``: Alertmanager's webhook receiver.

Alertmanager is no portal user: it proves itself with the bearer token of
``settings.ALERTMANAGER_WEBHOOK_TOKEN`` (its ``http_config.authorization.credentials``),
compared in constant time. While that setting is empty, every call is refused.
"""

import hmac
import json

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, parsers, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import limits
from incidents.alertmanager.intake import webhook_receive
from incidents.alertmanager.payload import PayloadError, parse_webhook
from portal.api.parsers import MAX_NESTING, check_parsed

ALERTMANAGER = "alertmanager"


class AlertmanagerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <ALERTMANAGER_WEBHOOK_TOKEN>``; anything else is refused
    with the reason, since this endpoint has no other way in."""

    def authenticate(self, request):
        expected = settings.ALERTMANAGER_WEBHOOK_TOKEN
        if not expected:
            raise exceptions.AuthenticationFailed(
                "Alert intake is off: ALERTMANAGER_WEBHOOK_TOKEN is not set on the portal."
            )
        scheme, _, token = authentication.get_authorization_header(request).partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            raise exceptions.AuthenticationFailed(
                "Missing bearer token: send 'Authorization: Bearer <token>'."
            )
        if not hmac.compare_digest(token.strip(), expected.encode()):
            raise exceptions.AuthenticationFailed("Wrong bearer token.")
        return AnonymousUser(), ALERTMANAGER

    def authenticate_header(self, request):
        return 'Bearer realm="alertmanager"'


class AlertmanagerTokenScheme(OpenApiAuthenticationExtension):
    target_class = AlertmanagerTokenAuthentication
    name = "alertmanagerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


class DeliveryTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "delivery_too_large"


class AlertmanagerJSONParser(parsers.BaseParser):
    """JSON with the delivery's own size bound (limits.MAX_DELIVERY_BYTES) instead of the
    portal's 2.5 MB, so that a large alert group is taken (DRF's JSONParser reads through
    ``request.body``, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE). Nesting deeper than Python's
    parser goes is a 400, like any malformed body."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(limits.MAX_DELIVERY_BYTES + 1) if stream is not None else b""
        if len(body) > limits.MAX_DELIVERY_BYTES:
            raise DeliveryTooLarge(
                f"The delivery is over {limits.MAX_DELIVERY_BYTES // (1024 * 1024)} MB: set "
                "max_alerts in the webhook's configuration."
            )
        try:
            data = json.loads(body)
        except RecursionError as error:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_NESTING} levels.") from error
        except ValueError as error:  # UnicodeDecodeError included
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        # The portal's nesting bound on every JSON body; NUL characters are refused by the
        # payload's own validation (incidents.alertmanager.payload), which names the label or field.
        check_parsed(data, refuse_nul=False)
        return data


class IsAlertmanager(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.auth == ALERTMANAGER


class AlertmanagerWebhookView(APIView):
    """Takes Alertmanager's webhook (payload version 4) and turns it into incident changes."""

    authentication_classes = [AlertmanagerTokenAuthentication]
    permission_classes = [IsAlertmanager]
    # JSON only: a form-encoded body would otherwise be read as a payload too.
    parser_classes = [AlertmanagerJSONParser]

    @extend_schema(
        summary="Alertmanager webhook (payload version 4)",
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="What the delivery changed."),
            400: OpenApiResponse(
                description="Not JSON, or not a version 4 payload, or more alerts than "
                "the portal takes per delivery; the field is named."
            ),
            401: OpenApiResponse(description="Missing or wrong bearer token."),
            413: OpenApiResponse(description="A body over the delivery size limit."),
        },
    )
    def post(self, request):
        try:
            webhook = parse_webhook(request.data)
        except PayloadError as error:
            raise exceptions.ValidationError(
                {error.field or "non_field_errors": [error.problem]}
            ) from error
        outcome = webhook_receive(webhook=webhook)
        return Response(outcome.as_dict())
