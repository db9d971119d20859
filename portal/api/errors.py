"""How the API answers when something goes wrong: JSON, a status that says whose fault it
is, never a 500 for what the client sent.

- A Django ``ValidationError`` (from ``full_clean``, a model's ``clean()`` or an action's
  domain rule) is a 400 naming the fields, exactly as a serializer's own validation would.
- A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (or with too many form fields or files) is a
  413 in JSON, not Django's HTML error page.
- A database that cannot be reached is a 503 with ``Retry-After``: the request may well work
  in a moment, and nothing was written.
Everything else is DRF's own handling.
"""

import logging

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, serializers, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; try again shortly."
    default_code = "service_unavailable"

    def __init__(self, detail=None, code=None, wait=RETRY_AFTER_SECONDS):
        super().__init__(detail, code)
        # DRF's handler turns ``wait`` into the Retry-After header.
        self.wait = wait


def validation_error_detail(error: DjangoValidationError) -> dict | list:
    """A Django ValidationError as a serializer's error detail: field → messages, with
    errors about no field in particular under DRF's non-field key."""
    detail = serializers.as_serializer_error(error)
    if NON_FIELD_ERRORS in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
    return detail


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(validation_error_detail(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(str(exc))
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return PayloadTooLarge(str(exc))
    if isinstance(exc, DATABASE_ERRORS):
        logger.warning("Database unavailable while answering an API request", exc_info=exc)
        return ServiceUnavailable()
    return exc


def exception_handler(exc, context):
    """REST_FRAMEWORK's EXCEPTION_HANDLER: the conversions above, then DRF's handler."""
    return drf_exception_handler(_as_api_exception(exc), context)
