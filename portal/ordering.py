"""Sorting of the lists (UI and API alike): text case-insensitively ("api-gateway" next to
"API Gateway", not after every capital), and ties broken the same way every time, so that a
row never jumps between pages."""

import django_filters
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F
from django.db.models.constants import LOOKUP_SEP
from django.db.models.functions import Lower

_TEXT_FIELDS = (models.CharField, models.TextField)


def _is_text(model, path: str) -> bool:
    """Whether ``path`` (``owner_team__name``) names a text column of ``model``; False for
    annotations and anything it cannot resolve."""
    field = None
    for name in path.split(LOOKUP_SEP):
        if model is None:
            return False
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        model = field.related_model
    return isinstance(field, _TEXT_FIELDS) and not field.choices


class PortalOrderingFilter(django_filters.OrderingFilter):
    """An OrderingFilter that sorts text columns case-insensitively (choices, whose codes are
    not what people read, keep their order), then breaks ties with ``tie_break`` (field paths,
    "-" first for descending, text ones case-insensitively) and the id. ``nulls_last`` keeps
    rows without a value at the end in both directions."""

    def __init__(self, *args, tie_break: tuple[str, ...] = (), nulls_last=False, **kwargs):
        self.tie_break = tuple(tie_break)
        self.nulls_last = nulls_last
        super().__init__(*args, **kwargs)

    def _expression(self, path: str, descending: bool):
        expression = Lower(path) if _is_text(self.model, path) else F(path)
        nulls = {"nulls_last": True} if self.nulls_last else {}
        return expression.desc(**nulls) if descending else expression.asc(**nulls)

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        path = self.param_map.get(param.lstrip("-"), param.lstrip("-"))
        return self._expression(path, descending)

    def filter(self, qs, value):
        # "?ordering=," passes validation as empty names, which name no column: skipped, as
        # an empty ordering is.
        value = [param for param in value or () if param.lstrip("-")]
        if not value:
            return qs
        chosen = [param.lstrip("-") for param in value]
        ordering = [self.get_ordering_value(param) for param in value]
        chosen_paths = {self.param_map.get(param, param) for param in chosen}
        for tie in self.tie_break:
            path = tie.lstrip("-")
            if path not in chosen_paths:
                ordering.append(self._expression(path, tie.startswith("-")))
        return qs.order_by(*ordering, "pk")
