"""Reads of compliance checks, results and findings for views, the API, the service page's
panel, and (once they exist) the reminders digest and the monthly report. Each a fixed
number of queries."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from portal.compliance.choices import (
    SEVERITY_RANK,
    UNRESOLVED_STATUSES,
    CheckMethod,
    FindingStatus,
    Outcome,
)
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceAttestation, ComplianceResult, ComplianceStatus
from portal.compliance.schedule import local_today, next_period_start, period_start
from portal.prepared import prepared
from portal.timezones import portal_zone
from services.selectors import catalog

#: Findings that ask something of their team (an accepted risk does not, until it expires).
ACTIONABLE_STATUSES = (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED)


def stale_before(now: datetime) -> datetime:
    """A status whose due time is older than this was not run in time: shown as stale."""
    return now - timedelta(minutes=settings.COMPLIANCE_STALE_AFTER_MINUTES)


def stale_q(now: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}due_at__lt": stale_before(now)})


def severity_rank() -> Case:
    """0 for critical … 3 for low: sorting by it puts the most urgent first."""
    return Case(
        *(When(severity=severity, then=Value(rank)) for severity, rank in SEVERITY_RANK.items()),
        output_field=IntegerField(),
    )


def _count(queryset, group: str) -> Coalesce:
    counted = queryset.order_by().values(group).annotate(count=Count("*")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- checks ------------------------------------------------------------------------------------


def check_list() -> QuerySet[ComplianceCheck]:
    """Checks with how many services each applies to and how many fail or error now, by name
    whatever the case."""
    statuses = ComplianceStatus.objects.filter(compliance_check=OuterRef("pk"))
    return (
        ComplianceCheck.objects.select_related("tag")
        .annotate(
            severity_rank=severity_rank(),
            service_count=_count(statuses, "compliance_check"),
            failing_count=_count(statuses.filter(outcome=Outcome.FAIL), "compliance_check"),
            error_count=_count(statuses.filter(outcome=Outcome.ERROR), "compliance_check"),
        )
        .order_by(Lower("name"), "pk")
    )


def enabled_checks() -> QuerySet[ComplianceCheck]:
    return ComplianceCheck.objects.filter(enabled=True).order_by(Lower("name"), "pk")


# --- the matrix --------------------------------------------------------------------------------


def matrix_rows() -> QuerySet:
    """The services that at least one check applies to (the rows of /compliance/), with how
    many of their checks fail, for sorting worst first; by name whatever the case."""
    statuses = ComplianceStatus.objects.filter(service=OuterRef("pk"))
    return (
        catalog.service_rows()
        .filter(Exists(statuses))
        .annotate(failing_count=_count(statuses.filter(outcome=Outcome.FAIL), "service"))
        .order_by(Lower("name"), "pk")
    )


def matrix_cells(service_ids, check_ids) -> dict[tuple[int, int], ComplianceStatus]:
    """The statuses of these services and checks, keyed (service id, check id), in one query."""
    statuses = ComplianceStatus.objects.filter(
        service_id__in=list(service_ids), compliance_check_id__in=list(check_ids)
    ).only(
        "pk",
        "service_id",
        "compliance_check_id",
        "outcome",
        "checked_at",
        "due_at",
        "claimed_at",
    )
    return {(status.service_id, status.compliance_check_id): status for status in statuses}


# --- results -----------------------------------------------------------------------------------


def result_list() -> QuerySet[ComplianceResult]:
    return ComplianceResult.objects.select_related(
        "compliance_check", "service__owner_team"
    ).order_by("-checked_at", "-id")


def status_detail(check: ComplianceCheck, service) -> ComplianceStatus | None:
    return (
        ComplianceStatus.objects.select_related("last_result")
        .filter(compliance_check=check, service=service)
        .first()
    )


def latest_attestation(check: ComplianceCheck, service) -> ComplianceAttestation | None:
    return (
        ComplianceAttestation.objects.select_related("attested_by")
        .filter(compliance_check=check, service=service)
        .order_by("-attested_at", "-id")
        .first()
    )


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month in the portal's time zone, as [start, end) aware datetimes."""
    zone = portal_zone()
    start = datetime(year, month, 1, tzinfo=zone)
    return start, next_period_start("monthly", start)


def results_in_month(year: int, month: int) -> QuerySet[ComplianceResult]:
    """Every result checked in the month (the auditors' CSV), oldest first."""
    start, end = month_bounds(year, month)
    return (
        ComplianceResult.objects.filter(checked_at__gte=start, checked_at__lt=end)
        .select_related("compliance_check", "service__owner_team")
        .order_by("checked_at", "id")
    )


# --- findings ----------------------------------------------------------------------------------


def finding_list() -> QuerySet[ComplianceFinding]:
    return (
        ComplianceFinding.objects.select_related(
            "compliance_check", "service", "team", "last_result"
        )
        .annotate(severity_rank=severity_rank())
        .order_by("due_date", "-opened_at", "-id")
    )


def finding_detail() -> QuerySet[ComplianceFinding]:
    return finding_list().select_related("first_result", "acknowledged_by", "risk_accepted_by")


def overdue_q(today: date) -> Q:
    return Q(status__in=ACTIONABLE_STATUSES, due_date__lt=today)


def open_findings_for_teams(team_ids) -> QuerySet[ComplianceFinding]:
    """The findings waiting on these teams (open or acknowledged; an accepted risk waits on
    nobody until it expires), soonest due first: what the reminders digest lists for each
    team. One query when iterated."""
    return finding_list().filter(team_id__in=list(team_ids), status__in=ACTIONABLE_STATUSES)


@dataclass
class TeamMonthSummary:
    """A team's compliance over one month, for the monthly report."""

    team_id: int
    results: dict[str, int] = field(default_factory=dict)
    opened: int = 0
    resolved: int = 0
    unresolved_at_end: int = 0
    overdue_at_end: int = 0

    @property
    def pass_rate(self) -> float | None:
        """Passes among the results that passed or failed (errors measure nothing)."""
        judged = self.results.get(Outcome.PASS, 0) + self.results.get(Outcome.FAIL, 0)
        return self.results.get(Outcome.PASS, 0) / judged if judged else None


def team_month_summaries(*, year: int, month: int, team_ids=None) -> dict[int, TeamMonthSummary]:
    """Per team: results of the month by outcome, findings opened and resolved in it, and the
    findings still unresolved (and overdue) at its end. Three queries."""
    start, end = month_bounds(year, month)
    summaries: dict[int, TeamMonthSummary] = {}

    def summary(team_id):
        return summaries.setdefault(team_id, TeamMonthSummary(team_id=team_id))

    results = ComplianceResult.objects.filter(checked_at__gte=start, checked_at__lt=end)
    findings = ComplianceFinding.objects.all()
    if team_ids is not None:
        results = results.filter(service__owner_team_id__in=list(team_ids))
        findings = findings.filter(team_id__in=list(team_ids))
    for row in (
        results.values("service__owner_team_id", "outcome").annotate(count=Count("*")).order_by()
    ):
        summary(row["service__owner_team_id"]).results[row["outcome"]] = row["count"]
    last_day = (end - timedelta(microseconds=1)).astimezone(start.tzinfo).date()
    counted = findings.values("team_id").annotate(
        opened=Count("pk", filter=Q(opened_at__gte=start, opened_at__lt=end)),
        resolved=Count("pk", filter=Q(resolved_at__gte=start, resolved_at__lt=end)),
        unresolved=Count(
            "pk",
            filter=Q(opened_at__lt=end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end)),
        ),
        overdue=Count(
            "pk",
            filter=Q(opened_at__lt=end, due_date__lt=last_day)
            & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end))
            & ~Q(status=FindingStatus.ACCEPTED_RISK),
        ),
    )
    for row in counted.order_by():
        if row["team_id"] is None:
            continue
        team = summary(row["team_id"])
        team.opened, team.resolved = row["opened"], row["resolved"]
        team.unresolved_at_end, team.overdue_at_end = row["unresolved"], row["overdue"]
    return summaries


# --- the service page's panel ------------------------------------------------------------------


@dataclass
class PanelRow:
    status: ComplianceStatus
    stale: bool
    attestation_due: date | None


@prepared
def _service_panel_statuses(*, service):
    attested_this_period = (
        ComplianceAttestation.objects.filter(
            compliance_check=OuterRef("compliance_check"),
            service=OuterRef("service"),
        )
        .order_by("-attested_at")
        .values("attested_at")[:1]
    )
    return (
        ComplianceStatus.objects.filter(service=service, compliance_check__enabled=True)
        .select_related("compliance_check")
        .only(
            "outcome",
            "checked_at",
            "due_at",
            "compliance_check",
            "compliance_check__name",
            "compliance_check__slug",
            "compliance_check__frequency",
            "compliance_check__method",
        )
        .annotate(
            last_attested_at=Subquery(attested_this_period),
            unresolved=_count(
                ComplianceFinding.objects.filter(service=service, status__in=UNRESOLVED_STATUSES),
                "service",
            ),
        )
        .order_by(Lower("compliance_check__name"), "compliance_check_id")
    )


def service_panel(service, *, now: datetime | None = None) -> tuple[list[PanelRow], int]:
    """The service's checks with their last result, whether each is stale and, for
    attestations not yet given this period, the day they are due by; and how many findings of
    the service are unresolved. One query, of the columns the panel shows (prepared)."""
    now = now or timezone.now()
    statuses = _service_panel_statuses(service=service)
    rows = []
    for status in statuses:
        check = status.compliance_check
        due = None
        if check.method == CheckMethod.ATTESTATION:
            current = period_start(check.frequency, now)
            if status.last_attested_at is None or status.last_attested_at < current:
                due = (next_period_start(check.frequency, now) - timedelta(days=1)).date()
        rows.append(PanelRow(status, status.due_at < stale_before(now), due))
    return rows, (statuses[0].unresolved if statuses else 0)


def today() -> date:
    return local_today(timezone.now())
