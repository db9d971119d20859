"""The API's filter backend: django-filter's, reading a list's query string as the UI does."""

from django.http import QueryDict
from django_filters import FilterSet
from django_filters.rest_framework import DjangoFilterBackend

from portal.filters import without_empty_values


def reads_any(filterset_class: type[FilterSet], query: QueryDict) -> bool:
    """Whether one of the FilterSet's filters reads a parameter of ``query``: its own name,
    or its name and a suffix (a range filter's ``due_after``, ``due_before``)."""
    names = filterset_class.base_filters
    return any(key in names or any(key.startswith(f"{name}_") for name in names) for key in query)


class FilterBackend(DjangoFilterBackend):
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
