"""The API schema's truth beyond what drf-spectacular infers.

AutoSchema: a read-only field is nullable when the model field it reads (or any relation on
the way to it) may be null: ``commander`` shows a username, or null while nobody commands.
drf-spectacular only looks at ``allow_null``, which read-only fields are never given.

document_error_responses, a postprocessing hook: the error answers every operation can give.

drf-spectacular documents what a view declares, mostly its 2xx. The portal's answers to
bad input, missing rights and outages are uniform (portal.api.errors, DRF's handling), so
they are documented here once for every operation:
- 400: field → messages (or a list of messages, or ``detail``) for input that is refused;
- 401 / 403: ``detail``; 404 on operations with a path parameter or a page number;
- 413 on operations with a request body; 429 when throttled; 503 while the database is away.
A response a view documents itself is kept; only its missing JSON body is filled in.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework import serializers

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
JSON = "application/json"

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERRORS = {
    "description": "Field name → its messages; `non_field_errors` or `detail` for the whole "
    "request; a list of messages for a refusal of the whole request.",
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {}},
                    {"type": "string"},
                    {"type": "object"},
                ]
            },
        },
        {"type": "array", "items": {"type": "string"}},
    ],
}
COMPONENTS = {"ErrorDetail": DETAIL, "ValidationErrors": VALIDATION_ERRORS}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}

ALWAYS = {
    "400": ("Refused input: the fields and what is wrong with them.", "ValidationErrors"),
    "429": ("Too many requests: see Retry-After.", "ErrorDetail"),
    "503": ("The database is unavailable: try again after Retry-After.", "ErrorDetail"),
}
AUTHENTICATED = {
    "401": ("Not signed in, or a missing, wrong or expired token.", "ErrorDetail"),
    "403": ("Signed in, but not allowed to do this.", "ErrorDetail"),
}
WITH_PATH_PARAMETER = {"404": ("No such record, or no such page.", "ErrorDetail")}
WITH_BODY = {"413": ("The request body is too large.", "ErrorDetail")}


def _error_response(description: str, component: str, status: str) -> dict:
    response = {
        "description": description,
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }
    if status in {"429", "503"}:
        response["headers"] = RETRY_AFTER
    return response


def _needs_authentication(operation: dict, default_security: list) -> bool:
    security = operation.get("security", default_security)
    return bool(security) and {} not in security


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    default_security = result.get("security", [])
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            errors = dict(ALWAYS)
            if _needs_authentication(operation, default_security):
                errors.update(AUTHENTICATED)
            parameters = [*path_item.get("parameters", []), *operation.get("parameters", [])]
            # A page past the last is a 404 too ("Invalid page.").
            if "{" in path or any(
                p.get("in") == "path" or p.get("name") == "page" for p in parameters
            ):
                errors.update(WITH_PATH_PARAMETER)
            if "requestBody" in operation:
                errors.update(WITH_BODY)
            responses = operation.setdefault("responses", {})
            for status, (description, component) in errors.items():
                documented = responses.get(status)
                if documented is None:
                    responses[status] = _error_response(description, component, status)
                elif "content" not in documented:
                    documented["content"] = _error_response(description, component, status)[
                        "content"
                    ]
    return result


def _reads_a_nullable_model_field(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or field.source == "*":
        return False
    for attribute in field.source_attrs:
        try:
            model_field = model._meta.get_field(attribute)
        except FieldDoesNotExist:
            return False
        if getattr(model_field, "null", False):
            return True
        model = model_field.related_model
        if model is None:
            return False
    return False


class AutoSchema(openapi.AutoSchema):
    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if (
            isinstance(field, serializers.Field)
            and field.read_only
            and not field.allow_null
            and _reads_a_nullable_model_field(field)
        ):
            meta["nullable"] = True
        return meta
