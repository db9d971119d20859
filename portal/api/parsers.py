"""Request parsers for the API that no body can push into a 500.

- JSON nested deeper than ``MAX_NESTING`` levels is a 400 (the standard decoder recurses:
  100,000 brackets raised RecursionError), and so is a body that is not JSON.
- A NUL character in any string or key of the body is a 400 naming its field: PostgreSQL
  cannot store one, and a lookup with one (a slug, a username) failed in the database.
- Form and multipart bodies get the same NUL check.
Sizes are Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``: reading a larger body raises
RequestDataTooBig, which portal.api.errors answers with a 413.
"""

from django.http import QueryDict
from rest_framework import exceptions, parsers
from rest_framework.utils import json

# Deep enough for every payload the portal takes (the Alertmanager webhook is 4 levels).
MAX_NESTING = 64
NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."


def _field_name(path: str) -> str:
    return path or "non_field_errors"


def check_parsed(data: object, *, max_nesting: int = MAX_NESTING, refuse_nul: bool = True) -> None:
    """Refuse data nested deeper than ``max_nesting`` containers, or (unless the caller checks
    its fields itself) holding a NUL in a key or a string; the error names where
    (``alerts[1].labels.service``)."""
    stack = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            depth += 1
            if depth > max_nesting:
                raise exceptions.ParseError(f"JSON nested deeper than {max_nesting} levels.")
            if isinstance(value, dict):
                for key, item in value.items():
                    item_path = f"{path}.{key}" if path else key
                    if refuse_nul and NUL in key:
                        raise exceptions.ValidationError({_field_name(path): [NUL_MESSAGE]})
                    stack.append((item, item_path, depth))
            else:
                stack.extend((item, f"{path}[{i}]", depth) for i, item in enumerate(value))
        elif refuse_nul and isinstance(value, str) and NUL in value:
            raise exceptions.ValidationError({_field_name(path): [NUL_MESSAGE]})


def check_query_dict(data: QueryDict) -> None:
    for key, values in data.lists():
        if NUL in key or any(isinstance(v, str) and NUL in v for v in values):
            raise exceptions.ValidationError(
                {key.replace(NUL, "") or "non_field_errors": [NUL_MESSAGE]}
            )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting bound and the NUL check."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as error:
            raise exceptions.ParseError(f"JSON parse error - not {encoding} text") from error
        parse_constant = json.strict_constant if self.strict else None
        try:
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError as error:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_NESTING} levels.") from error
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        check_parsed(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_query_dict(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        check_query_dict(parsed.data)
        return parsed
