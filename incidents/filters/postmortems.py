"""FilterSets for post-mortems and action items, shared by the UI lists and the API lists."""

import django_filters
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from incidents.choices import (
    ActionItemKind,
    ActionItemPriority,
    ActionItemStatus,
    PostMortemStatus,
    Severity,
)
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.selectors.postmortems import overdue_action_items_q
from portal.filters import PortalFilterSet
from portal.ordering import PortalOrderingFilter
from services.models.catalog import Service, Team


def _team_filter(field_name: str, help_text: str):
    # The API schema cannot infer a slug's type through a related filter: say it.
    return extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name=field_name,
            to_field_name="slug",
            queryset=Team.objects.only("slug", "name").order_by("name"),
            label="Team",
            help_text=help_text,
            distinct=False,
        )
    )


#: What full-text search reads: the incident's title first, then every section.
SEARCH_VECTOR = SearchVector("incident__title", weight="A", config="english") + SearchVector(
    *PostMortem.SECTIONS, weight="B", config="english"
)


def search_postmortems(queryset, text: str):
    """Post-mortems matching ``text``, best first: PostgreSQL full-text search ranked by
    SearchRank (web-search syntax: words, "phrases", -excluded). SQLite, which `make run`
    uses, has no such search: there every word must appear somewhere in the text."""
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        return (
            queryset.annotate(search=SEARCH_VECTOR, rank=SearchRank(SEARCH_VECTOR, query))
            .filter(search=query)
            .order_by("-rank", "-published_at")
        )
    for word in text.split():
        matches_word = Q(incident__title__icontains=word)
        for section in PostMortem.SECTIONS:
            matches_word |= Q(**{f"{section}__icontains": word})
        queryset = queryset.filter(matches_word)
    return queryset


class PostMortemFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=PostMortemStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(
        field_name="incident__severity", choices=Severity.choices, distinct=False
    )
    service = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="incident__services__slug",
            to_field_name="slug",
            # A filter's options show names and submit slugs: only those are read (a thousand
            # services are a thousand options).
            queryset=Service.objects.only("slug", "name").order_by("name"),
            label="Service",
        )
    )
    team = _team_filter("incident__team__slug", "The team owning the incident.")
    past_due = django_filters.BooleanFilter(
        method="filter_past_due",
        label="Past due",
        help_text="Unpublished past their due time (true), or not (false).",
    )
    ordering = PortalOrderingFilter(
        fields=(
            ("published_at", "published"),
            ("due_at", "due"),
            ("incident__started_at", "started"),
            ("incident__severity", "severity"),
            ("incident__title", "title"),
        ),
    )

    class Meta:
        model = PostMortem
        fields = ["q", "status", "severity", "service", "team", "past_due"]

    def search(self, queryset, name, value):
        return search_postmortems(queryset, value)

    def filter_past_due(self, queryset, name, value):
        if value is None:
            return queryset
        past_due = ~Q(status=PostMortemStatus.PUBLISHED) & Q(due_at__lt=timezone.now())
        return queryset.filter(past_due) if value else queryset.exclude(past_due)


class ActionItemFilterSet(PortalFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ActionItemStatus.choices, distinct=False)
    kind = django_filters.MultipleChoiceFilter(choices=ActionItemKind.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(
        choices=ActionItemPriority.choices, distinct=False
    )
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)")
    team = _team_filter("postmortem__incident__team__slug", "The team owning the incident.")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue")
    incident = django_filters.CharFilter(
        field_name="postmortem__incident__reference", label="Incident reference"
    )
    ordering = PortalOrderingFilter(
        tie_break=("due_date", "title"),
        fields=(
            ("due_date", "due"),
            ("priority", "priority"),
            ("status", "status"),
            ("title", "title"),
            ("postmortem__incident__reference", "incident"),
            ("owner__username", "owner"),
        ),
    )

    class Meta:
        model = ActionItem
        fields = ["q", "status", "kind", "priority", "owner", "team", "overdue", "incident"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(postmortem__incident__reference__icontains=value)
            | Q(postmortem__incident__title__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = overdue_action_items_q()
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
