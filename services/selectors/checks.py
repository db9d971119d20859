"""The facts the named checks judge (services.checks.registry.ServiceFacts), read for many
services at once in a fixed number of queries: the services, their SLOs with snapshots, their
current readiness approvals, and each registered provider's bulk read."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from portal.timezones import portal_date
from services.checks.registry import ReadinessFacts, ServiceFacts, SLOFacts, fact_providers
from services.choices import APPROVED_REVIEW_STATUSES
from services.models.catalog import Service
from services.models.readiness import ReadinessReview
from services.models.slos import SLO, BudgetPolicy

_SERVICE_FIELDS = (
    "pk",
    "slug",
    "name",
    "tier",
    "lifecycle",
    "description",
    "owner_team__slug",
    "owner_team__name",
    "owner_team__manager_id",
    "repository_url",
    "runbook_url",
    "dashboard_url",
    "oncall_url",
    "pagerduty_service_id",
    "handles_personal_data",
    "data_retention_days",
)


def _dependency_count() -> Coalesce:
    counted = (
        Service.depends_on.through.objects.filter(from_service=OuterRef("pk"))
        .order_by()
        .values("from_service")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def service_facts(service_ids: Sequence[int] | None, *, now: datetime) -> dict[int, ServiceFacts]:
    """The facts of the given services (every service when None), by service id."""
    services = Service.objects.order_by("pk")
    slos = SLO.objects.order_by("service_id", "name")
    approvals = ReadinessReview.objects.filter(
        status__in=APPROVED_REVIEW_STATUSES, superseded_at__isnull=True
    )
    if service_ids is not None:
        services = services.filter(pk__in=service_ids)
        slos = slos.filter(service_id__in=service_ids)
        approvals = approvals.filter(service_id__in=service_ids)
    rows = list(
        services.annotate(dependency_count=_dependency_count()).values(
            *_SERVICE_FIELDS, "dependency_count"
        )
    )
    ids = [row["pk"] for row in rows]
    has_default_policy = BudgetPolicy.objects.filter(is_default=True).exists()
    slo_facts: dict[int, list[SLOFacts]] = {}
    for slo in slos.values(
        "service_id",
        "name",
        "sli_kind",
        "budget_policy_id",
        "status__computed_at",
        "status__stale",
        "status__coverage",
        "status__remaining",
        "status__alert",
    ):
        slo_facts.setdefault(slo["service_id"], []).append(
            SLOFacts(
                name=slo["name"],
                sli_kind=slo["sli_kind"],
                has_policy=slo["budget_policy_id"] is not None or has_default_policy,
                computed=slo["status__computed_at"] is not None,
                stale=bool(slo["status__stale"]),
                coverage=slo["status__coverage"],
                remaining=slo["status__remaining"],
                alert=slo["status__alert"] or "none",
            )
        )
    readiness = {
        row["service_id"]: ReadinessFacts(
            approved=True, expires_at=row["expires_at"], waivers_expire_on=row["waivers_expire_on"]
        )
        for row in approvals.values("service_id", "expires_at", "waivers_expire_on")
    }
    providers = fact_providers()
    extra = {provider.name: provider.gather(ids, now) for provider in providers}
    defaults = {provider.name: provider.default for provider in providers}
    today = portal_date(now)
    facts = {}
    for row in rows:
        pk = row["pk"]
        facts[pk] = ServiceFacts(
            service_id=pk,
            slug=row["slug"],
            name=row["name"],
            tier=row["tier"],
            lifecycle=row["lifecycle"],
            description=row["description"],
            team_slug=row["owner_team__slug"],
            team_name=row["owner_team__name"],
            team_has_manager=row["owner_team__manager_id"] is not None,
            repository_url=row["repository_url"],
            runbook_url=row["runbook_url"],
            dashboard_url=row["dashboard_url"],
            oncall_url=row["oncall_url"],
            pagerduty_service_id=row["pagerduty_service_id"],
            handles_personal_data=row["handles_personal_data"],
            data_retention_days=row["data_retention_days"],
            dependency_count=row["dependency_count"],
            now=now,
            today=today,
            slos=tuple(slo_facts.get(pk, ())),
            readiness=readiness.get(pk, ReadinessFacts()),
            extra={
                name: found[pk] if pk in found else defaults[name]()
                for name, found in extra.items()
            },
        )
    return facts
