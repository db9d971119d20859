"""Reads of the catalog for views, the API and reports: each a fixed number of queries."""

from django.db.models import Count, Prefetch, QuerySet

from services.models import Membership, Service, Tag, Team


def service_list() -> QuerySet[Service]:
    return (
        Service.objects.select_related("owner_team")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(dependent_count=Count("dependents", distinct=True))
    )


def service_detail() -> QuerySet[Service]:
    """Services with everything their page shows: owner, tags, both dependency directions."""
    neighbours = Service.objects.select_related("owner_team").order_by("name")
    return Service.objects.select_related("owner_team", "owner_team__manager").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("depends_on", queryset=neighbours),
        Prefetch("dependents", queryset=neighbours),
    )


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("manager").annotate(
        service_count=Count("services", distinct=True),
        member_count=Count("memberships", distinct=True),
    )


def team_detail() -> QuerySet[Team]:
    return Team.objects.select_related("manager").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("user")),
        Prefetch("services", queryset=service_list().order_by("name")),
    )


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.annotate(service_count=Count("services")).order_by("name")
