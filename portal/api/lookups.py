"""Records addressed in the API by what people use: a service or team by its slug, an incident
by its reference (``/api/services/payments-api/``, ``/api/incidents/INC-2026-0012/``), while
the ids that addressed them before still work, so that scripts written against
``/api/services/12/`` keep running."""

from django.db.models import Q
from django.http import Http404

#: The largest id PostgreSQL's bigint holds: a longer run of digits is no id, and comparing
#: it with one would be a database error rather than a 404.
_MAX_ID = 2**63 - 1


class NaturalKeyLookupMixin:
    """For a viewset whose ``lookup_field`` is a natural key (``slug``, ``reference``): the
    record whose key is the value in the URL, or else, when the value is a number, the record
    of that id. Keys win: a slug that is all digits names its record, not the record of that
    id."""

    lookup_value_regex = r"[^/.]+"

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        condition = Q(**{self.lookup_field: value})
        if value.isascii() and value.isdigit() and int(value) <= _MAX_ID:
            condition |= Q(pk=int(value))
        # One query either way: the record of that key and the record of that id, if both.
        found = list(queryset.filter(condition)[:2])
        by_key = [record for record in found if getattr(record, self.lookup_field) == value]
        record = (by_key or found or [None])[0]
        if record is None:
            raise Http404(f"No {queryset.model._meta.verbose_name} is known as {value!r}.")
        self.check_object_permissions(self.request, record)
        return record
