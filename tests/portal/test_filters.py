"""Every list's FilterSet reads an empty value as no filter: a filter form sends each select,
those left at "Any …" with an empty value, and scripts send empty variables."""

import django_filters
import pytest
from django.http import QueryDict

import incidents.filters.incidents
import incidents.filters.postmortems
import portal.compliance.filters
import portal.reports.filters
import services.filters
import toil.filters.changes
import toil.filters.toil
from portal.filters import PortalFilterSet, without_empty_values

pytestmark = pytest.mark.django_db

MODULES = [
    incidents.filters.incidents,
    incidents.filters.postmortems,
    portal.compliance.filters,
    portal.reports.filters,
    services.filters,
    toil.filters.changes,
    toil.filters.toil,
]


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def project_filtersets():
    names = {module.__name__ for module in MODULES}
    return sorted(
        (cls for cls in _subclasses(django_filters.FilterSet) if cls.__module__ in names),
        key=lambda cls: cls.__qualname__,
    )


def test_every_list_filterset_is_a_portal_filterset():
    found = project_filtersets()
    assert len(found) >= 25
    assert [cls for cls in found if not issubclass(cls, PortalFilterSet)] == []


@pytest.mark.parametrize("filterset_class", project_filtersets(), ids=lambda cls: cls.__name__)
def test_empty_values_filter_nothing(filterset_class, rf):
    """Each filter's parameter, and a range's two ends, sent empty: the form is valid and the
    statement is the one of no parameter at all."""
    names = list(filterset_class.base_filters)
    empty = QueryDict(mutable=True)
    for name in names:
        empty.setlist(name, ["", " "])
        for end in ("after", "before", "min", "max"):
            empty[f"{name}_{end}"] = ""
    queryset = filterset_class._meta.model._default_manager.all()
    request = rf.get("/")
    request.user = None
    sent = filterset_class(empty, queryset=queryset, request=request)
    assert sent.is_valid(), sent.errors
    unfiltered = filterset_class(QueryDict(), queryset=queryset, request=request)
    assert str(sent.qs.query) == str(unfiltered.qs.query)


def test_only_empty_values_go():
    query = QueryDict("status=&status=draft&q=%20&team=payments&page=2")
    kept = without_empty_values(query)
    assert kept.lists() and dict(kept.lists()) == {
        "status": ["draft"],
        "team": ["payments"],
        "page": ["2"],
    }
    assert dict(without_empty_values({"q": "", "tier": ["1", ""], "page": 3}).lists()) == {
        "tier": ["1"],
        "page": [3],
    }
