"""Reads of SLOs, budget policies and SLI data for views, the API, reports and the worker:
each a fixed number of queries (the reading and summing of SLI data is services.sli's)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse

from portal.prepared import prepared
from services.budget.windows import BUCKET
from services.choices import AlertState, SLISource
from services.models.catalog import Service, Team
from services.models.slos import (
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    MaintenanceWindow,
    SLIBucket,
)


def slo_list() -> QuerySet[SLO]:
    """SLOs with their service, team and status snapshot in one query; the snapshot's figures
    are annotated under their own names so lists sort and filter on them. The chart series,
    the bulk of a snapshot, is left to the SLO's own page."""
    return (
        SLO.objects.select_related("service__owner_team", "status", "budget_policy")
        .defer("status__series")
        .annotate(budget_remaining=F("status__remaining"), attainment=F("status__attainment"))
    )


@prepared
def service_slo_panel(*, service) -> list[SLO]:
    """The service page's SLO panel: the columns it shows of each SLO and its snapshot (its
    links are built from the page's service), by name; a prepared statement."""
    return (
        slo_list()
        .filter(service=service)
        .select_related(None)
        .select_related("status")
        .only(
            "name",
            "slug",
            "objective",
            "status__policy_tier",
            "status__alert",
            "status__stale",
            "status__latest_data_at",
            "status__coverage",
        )
        .order_by("name")
    )


def slo_detail() -> QuerySet[SLO]:
    return (
        slo_list()
        .defer(None)
        .prefetch_related(
            Prefetch("maintenance_windows", queryset=MaintenanceWindow.objects.order_by("-start"))
        )
    )


def slos_synced_from_prometheus() -> QuerySet[SLO]:
    """The SLOs whose data the worker fetches from Prometheus: not those fed by pushes."""
    return SLO.objects.filter(source=SLISource.PROMETHEUS).order_by("pk")


def budget_policy_list() -> QuerySet[BudgetPolicy]:
    return BudgetPolicy.objects.prefetch_related("tiers").order_by("name")


def policy_tier_names() -> list[str]:
    """Every tier name any policy uses, for filters: a snapshot's tier is one of them."""
    return sorted(set(BudgetPolicyTier.objects.values_list("name", flat=True)))


def slo_events_between(
    *, slo_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, tuple[int, int]]:
    """Bad and total events of these SLOs in the buckets starting in [start, end), in one
    query, leaving out the buckets that overlap a maintenance window (as every SLO figure
    does): {slo_id: (bad, total)}, (0, 0) for an SLO without data there."""
    slo_ids = list(slo_ids)
    in_maintenance = MaintenanceWindow.objects.filter(
        slo_id=OuterRef("slo_id"), start__lt=OuterRef("start") + BUCKET, end__gt=OuterRef("start")
    )
    sums = (
        SLIBucket.objects.filter(slo_id__in=slo_ids, start__gte=start, start__lt=end)
        .filter(~Exists(in_maintenance))
        .order_by()
        .values("slo_id")
        .annotate(bad=Sum(F("total") - F("good")), total_sum=Sum("total"))
    )
    events = dict.fromkeys(slo_ids, (0, 0))
    for row in sums:
        events[row["slo_id"]] = (row["bad"], row["total_sum"])
    return events


# --- for the home page ------------------------------------------------------------------------

_ALERT_RANK = Case(
    When(status__alert=AlertState.PAGE, then=Value(0)),
    When(status__alert=AlertState.TICKET, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _slo_rows() -> QuerySet[SLO]:
    """SLOs with what a line about one shows (name, link, alert, staleness, budget left) and
    nothing more: the SLO and snapshot rows are wide, and a page of them was most of the home
    page's database time."""
    return SLO.objects.select_related("service", "status").only(
        "name",
        "slug",
        "service__name",
        "service__slug",
        "status__alert",
        "status__stale",
        "status__remaining",
        "status__latest_data_at",
    )


def slos_needing_attention(team_ids: Iterable[int]) -> QuerySet[SLO]:
    """The SLOs of these teams' services that page, burn (a ticket alert) or whose data is
    stale: paging first, then the least budget left; one query."""
    return (
        _slo_rows()
        .filter(service__owner_team_id__in=list(team_ids))
        .filter(Q(status__alert__in=[AlertState.PAGE, AlertState.TICKET]) | Q(status__stale=True))
        .annotate(alert_rank=_ALERT_RANK)
        .order_by("alert_rank", F("status__remaining").asc(nulls_last=True), "service__name", "pk")
    )


def worst_slos() -> QuerySet[SLO]:
    """Every SLO with figures, the least budget left first; one query."""
    return (
        _slo_rows()
        .filter(status__remaining__isnull=False)
        .order_by("status__remaining", "service__name", "pk")
    )


def stale_slos() -> QuerySet[SLO]:
    """The SLOs whose data is stale, the longest silent first; one query."""
    return (
        _slo_rows()
        .filter(status__stale=True)
        .order_by(F("status__latest_data_at").asc(nulls_first=True), "service__name", "pk")
    )


def service_and_slo(service_slug: str, slo_slug: str):
    """The service of this slug and its SLO of that slug (each None when there is none),
    with their names, in one query for each."""
    service = Service.objects.filter(slug=service_slug).only("pk", "name").first()
    if service is None:
        return None, None
    return service, SLO.objects.filter(service=service, slug=slo_slug).only("name").first()


def team_slo_month(team) -> dict[str, int]:
    """How the team's SLOs do this calendar month so far (each in its own time zone, as its
    snapshot counts months): met, missed, without data; and how many page. One query."""
    counts = {"met": 0, "missed": 0, "no_data": 0, "paging": 0}
    rows = SLO.objects.filter(service__owner_team=team).values_list(
        "status__monthly", "status__alert"
    )
    for monthly, alert in rows:
        month = monthly[-1] if monthly else None
        if month is None or month.get("met") is None:
            counts["no_data"] += 1
        else:
            counts["met" if month["met"] else "missed"] += 1
        counts["paging"] += alert == AlertState.PAGE
    return counts


def slo_report_rows(team: Team | None = None) -> list[dict]:
    """Every SLO (a team's when given) as a plain row: its name, slug, objective, time zone,
    service, and its snapshot's budget remaining, policy tier, staleness and monthly
    attainment (None before its first snapshot). One query, no model instances: the monthly
    report reads thousands of SLOs."""
    slos = SLO.objects.order_by(Lower("service__name"), Lower("name"), "pk")
    if team is not None:
        slos = slos.filter(service__owner_team=team)
    return list(
        slos.values(
            "pk",
            "name",
            "slug",
            "objective",
            "time_zone",
            service_name=F("service__name"),
            service_slug=F("service__slug"),
            remaining=F("status__remaining"),
            tier=F("status__policy_tier"),
            stale=F("status__stale"),
            monthly=F("status__monthly"),
        )
    )


# --- for the deploy gate (toil reads these) --------------------------------------------------


@dataclass(frozen=True)
class SLOChangeRule:
    """An SLO of a service and what its budget's current policy tier means for changes
    (services.choices.ChangeRule; "" while the SLO has no snapshot or its tier is unknown)."""

    slo_id: int
    service_id: int
    slo_name: str
    url: str
    tier_name: str
    change_rule: str


def slo_change_rules(service_ids: Sequence[int]) -> list[SLOChangeRule]:
    """The change rule each SLO of the services is under now, from its status snapshot and its
    budget policy (the default one when it names none): one query."""
    default_policy = BudgetPolicy.objects.filter(is_default=True).values("pk")[:1]
    rule = BudgetPolicyTier.objects.filter(
        policy_id=Coalesce(
            OuterRef("budget_policy_id"), Subquery(default_policy), output_field=IntegerField()
        ),
        name=OuterRef("status__policy_tier"),
    ).values("change_rule")[:1]
    rows = (
        SLO.objects.filter(service_id__in=list(service_ids))
        .annotate(tier_name=F("status__policy_tier"), change_rule=Subquery(rule))
        .order_by("service_id", "name")
        .values_list(
            "pk", "service_id", "name", "slug", "service__slug", "tier_name", "change_rule"
        )
    )
    return [
        SLOChangeRule(
            slo_id=pk,
            service_id=service_id,
            slo_name=name,
            url=reverse("slo_detail", args=[service_slug, slug]),
            tier_name=tier_name or "",
            change_rule=change_rule or "",
        )
        for pk, service_id, name, slug, service_slug, tier_name, change_rule in rows
    ]
