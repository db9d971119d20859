"""The API's filter backend: django-filter's, reading a list's query string as the UI does."""

from django.http import QueryDict
from django_filters.rest_framework import DjangoFilterBackend


def without_empty_values(query: QueryDict) -> QueryDict:
    """The query string less its empty values: ``?tag=`` (an untouched select of a filter
    form, or a script's empty variable) means "no filter", not "the tag named nothing"."""
    kept = QueryDict(mutable=True)
    for key, values in query.lists():
        non_empty = [value for value in values if value.strip()]
        if non_empty:
            kept.setlist(key, non_empty)
    return kept


class FilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["data"] = without_empty_values(request.query_params)
        return kwargs
