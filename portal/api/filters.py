"""The API's filter backend: django-filter's, reading a list's query string as the UI does."""

from django.http import QueryDict
from django_filters import FilterSet
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


def reads_any(filterset_class: type[FilterSet], query: QueryDict) -> bool:
    """Whether one of the FilterSet's filters reads a parameter of ``query``: its own name,
    or its name and a suffix (a range filter's ``due_after``, ``due_before``)."""
    names = filterset_class.base_filters
    return any(key in names or any(key.startswith(f"{name}_") for name in names) for key in query)


class FilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["data"] = without_empty_values(request.query_params)
        return kwargs

    def filter_queryset(self, request, queryset, view):
        # A list asked for without filters (most requests) is left as it is: a FilterSet's
        # filters pass an empty value through unchanged, and building and validating its form
        # costs about a millisecond a request. A FilterSet that filters its own way
        # (filter_queryset overridden) is always asked.
        filterset_class = self.get_filterset_class(view, queryset)
        if (
            filterset_class is not None
            and filterset_class.filter_queryset is FilterSet.filter_queryset
            and not reads_any(filterset_class, without_empty_values(request.query_params))
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
