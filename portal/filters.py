"""The base of every list's FilterSet, in the UI and the API alike."""

from collections.abc import Mapping

import django_filters
from django.http import QueryDict


def without_empty_values(data: Mapping) -> QueryDict:
    """The query less its empty values: ``?status=`` (a filter form's untouched "any" option,
    or a script's empty variable) means "no filter", not "the status named nothing"."""
    lists = data.lists() if isinstance(data, QueryDict) else _lists(data)
    kept = QueryDict(mutable=True)
    for key, values in lists:
        non_empty = [value for value in values if not isinstance(value, str) or value.strip()]
        if non_empty:
            kept.setlist(key, non_empty)
    return kept


def _lists(data: Mapping):
    for key, value in data.items():
        yield key, list(value) if isinstance(value, list | tuple) else [value]


class PortalFilterSet(django_filters.FilterSet):
    """A FilterSet that reads an empty value as no filter. A list's filter form submits every
    select, and a select left at "Any …" sends an empty value, which a choice filter would
    refuse as "not one of the available choices": the list then showed that error, or quietly
    dropped the filter, on every change of any other filter."""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(None if data is None else without_empty_values(data), *args, **kwargs)
