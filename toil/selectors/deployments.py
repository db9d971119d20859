"""Reads of deployments, the incidents they caused and the DORA figures kept from them: each a
fixed number of queries."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from incidents.models.incidents import Incident
from portal.prepared import prepared
from portal.timezones import portal_zone
from services.models.catalog import Service, Team
from toil import dora
from toil.choices.changes import PRODUCTION
from toil.models.deployments import Deployment, DoraSnapshot, IncidentCause


def deployment_list() -> QuerySet[Deployment]:
    return Deployment.objects.select_related("service", "service__owner_team", "change").order_by(
        "-finished_at", "-id"
    )


def incident_cause_list() -> QuerySet[IncidentCause]:
    return IncidentCause.objects.select_related(
        "incident", "deployment", "deployment__service", "linked_by"
    ).order_by("-linked_at", "-id")


@dataclass(frozen=True)
class IncidentCauseChoice:
    """The incident page's cause panel: the recorded cause (if any) and the deployments that
    may have caused it (production ones of its services that started before it)."""

    cause: Deployment | None
    linked_by: str | None
    candidates: list[Deployment]


_SHOWN = ("version", "status", "started_at", "finished_at", "service__name", "service__slug")
#: The deployments the cause panel offers, the recorded cause among them.
CANDIDATES = 20


@prepared
def _cause_links(*, incident):
    return (
        IncidentCause.objects.filter(incident=incident)
        .select_related("deployment__service", "linked_by")
        .only("linked_by__username", *(f"deployment__{field}" for field in _SHOWN))
        .order_by("pk")[:1]
    )


@prepared
def _cause_candidates(*, service_ids, before, cause):
    return (
        Deployment.objects.filter(
            service_id__in=service_ids, environment=PRODUCTION, started_at__lte=before
        )
        .exclude(pk=cause)
        .select_related("service")
        .only(*_SHOWN)
        .order_by("-started_at", "-id")[:CANDIDATES]
    )


def incident_cause_choice(incident, *, with_candidates: bool):
    """The recorded cause and, ``with_candidates``, the deployments to choose from (the cause
    first, flagged by ``is_cause``): a query each. Not one query with "is the cause OR is a
    candidate": building that statement (an EXISTS and a subquery per row) cost the ORM about
    five times these two, and the OR keeps PostgreSQL from using the candidates' index. The
    incident's services are read from its prefetch when it has one, and only the columns the
    panel shows are (twenty rows of a dozen columns, half of them times, cost more to load
    than to ask for). Both are prepared statements (portal.prepared)."""
    links = _cause_links(incident=incident)
    link = links[0] if links else None
    cause = link.deployment if link else None
    if cause is not None:
        cause.is_cause = True
    candidates = []
    if with_candidates:
        service_ids = [service.pk for service in incident.services.all()]
        rows = _cause_candidates(
            service_ids=service_ids,
            before=incident.started_at,
            cause=cause.pk if cause else None,
        )
        candidates = [cause, *rows[: CANDIDATES - 1]] if cause else rows
    return IncidentCauseChoice(
        cause=cause,
        linked_by=link.linked_by.username if link and link.linked_by else None,
        candidates=candidates,
    )


_EPOCH = "EXTRACT(EPOCH FROM {column})::float8"
_MONTH = (
    "(EXTRACT(YEAR FROM {column} AT TIME ZONE %(zone)s) * 12"
    " + EXTRACT(MONTH FROM {column} AT TIME ZONE %(zone)s) - 1)::int"
)

_DORA_DEPLOYMENTS_SQL = f"""
    SELECT d.id, d.service_id, s.owner_team_id, {_EPOCH.format(column="d.finished_at")},
           {_MONTH.format(column="d.finished_at")}, d.status,
           {_EPOCH.format(column="d.first_commit_at")}
    FROM {Deployment._meta.db_table} d
    JOIN {Service._meta.db_table} s ON s.id = d.service_id
    WHERE d.environment = %(environment)s AND d.finished_at >= %(since)s
"""
_DORA_CAUSES_SQL = f"""
    SELECT c.deployment_id, {_EPOCH.format(column="i.started_at")},
           {_MONTH.format(column="i.started_at")}, {_EPOCH.format(column="i.resolved_at")}
    FROM {IncidentCause._meta.db_table} c
    JOIN {Deployment._meta.db_table} d ON d.id = c.deployment_id
    JOIN {Incident._meta.db_table} i ON i.id = c.incident_id
    WHERE d.environment = %(environment)s AND d.finished_at >= %(since)s
"""


def dora_records(
    *, since: dt.datetime
) -> tuple[list[dora.DeploymentRecord], list[dora.CausedIncident]]:
    """Production deployments that finished since ``since`` and the incidents they caused,
    as toil.dora reads them: two queries. PostgreSQL hands over the times as seconds since the
    epoch and the months as numbers, far faster to read than timestamps; other databases (the
    embedded SQLite of `make run`) have them converted here."""
    zone = portal_zone()
    if connection.vendor != "postgresql":
        return _dora_records_in_python(since=since, zone=zone)
    parameters = {"environment": PRODUCTION, "since": since, "zone": settings.TIME_ZONE}
    with connection.cursor() as cursor:
        cursor.execute(_DORA_DEPLOYMENTS_SQL, parameters)
        records = [
            dora.DeploymentRecord(
                pk, service, team, finished, (month // 12, month % 12 + 1), status, first_commit
            )
            for pk, service, team, finished, month, status, first_commit in cursor.fetchall()
        ]
        cursor.execute(_DORA_CAUSES_SQL, parameters)
        caused = [
            dora.CausedIncident(deployment, started, (month // 12, month % 12 + 1), resolved)
            for deployment, started, month, resolved in cursor.fetchall()
        ]
    return records, caused


def _dora_records_in_python(*, since: dt.datetime, zone: ZoneInfo):
    rows = (
        Deployment.objects.filter(environment=PRODUCTION, finished_at__gte=since)
        .order_by()
        .values_list(
            "pk", "service_id", "service__owner_team_id", "finished_at", "status", "first_commit_at"
        )
    )
    records = [
        dora.deployment_record(pk, service, team, finished, status, first_commit, zone=zone)
        for pk, service, team, finished, status, first_commit in rows
    ]
    causes = (
        IncidentCause.objects.filter(
            deployment__environment=PRODUCTION, deployment__finished_at__gte=since
        )
        .order_by()
        .values_list("deployment_id", "incident__started_at", "incident__resolved_at")
    )
    caused = [
        dora.caused_incident(deployment, started, resolved, zone=zone)
        for deployment, started, resolved in causes
    ]
    return records, caused


def month_start(month: dora.Month) -> dt.date:
    return dt.date(month[0], month[1], 1)


def dora_key(*, team=None, service=None) -> str:
    if service is not None:
        return f"service:{service.pk}"
    if team is not None:
        return f"team:{team.pk}"
    return "organisation"


def _scope_key(scope: dora.Scope) -> str:
    kind, pk = scope
    return kind if pk is None else f"{kind}:{pk}"


def figures_of_snapshot(snapshot: DoraSnapshot) -> dora.DoraFigures:
    return dora.DoraFigures(
        **{name: getattr(snapshot, name) for name in DoraSnapshot.FIGURE_FIELDS}
    )


def _computed_live(
    months: list[dora.Month], now: dt.datetime, *, key: str
) -> dict[dora.Month, dora.DoraFigures]:
    """What the worker would store for ``key``, computed for this request: before the first
    recompute (a fresh install). Nothing is stored."""
    zone = portal_zone()
    since = dt.datetime.combine(month_start(months[0]), dt.time(), tzinfo=zone)
    records, caused = dora_records(since=since - dt.timedelta(days=31))
    computed = dora.dora_figures(records, caused, months=months, now=now, zone=zone)
    by_key = {_scope_key(scope): by_month for scope, by_month in computed.items()}
    empty = {month: dora.DoraFigures(days=dora.days_counted(month, now, zone)) for month in months}
    return by_key.get(key, empty)


@dataclass(frozen=True)
class DoraSeries:
    months: list[dora.Month]
    figures: dict[dora.Month, dora.DoraFigures]
    computed_at: dt.datetime | None  # None: computed for this request


@prepared
def _dora_snapshots(*, key, first, last):
    return DoraSnapshot.objects.filter(key=key, month__gte=first, month__lte=last)


def dora_series(
    *, team=None, service=None, months: int = 12, now: dt.datetime, live: bool = True
) -> DoraSeries:
    """The last ``months`` months of one scope (a service, a team, else the organisation) from
    the worker's snapshots in one query; computed live before any snapshot exists, unless
    ``live`` is False (then the months are empty until the worker has written them)."""
    zone = portal_zone()
    wanted = dora.last_months(now, months, zone)
    key = dora_key(team=team, service=service)
    snapshots = _dora_snapshots(key=key, first=month_start(wanted[0]), last=month_start(wanted[-1]))
    if not snapshots and live and not DoraSnapshot.objects.exists():
        return DoraSeries(wanted, _computed_live(wanted, now, key=key), computed_at=None)
    by_month = {(s.month.year, s.month.month): s for s in snapshots}
    figures = {}
    for month in wanted:
        snapshot = by_month.get(month)
        figures[month] = (
            figures_of_snapshot(snapshot)
            if snapshot
            else dora.DoraFigures(days=dora.days_counted(month, now, zone))
        )
    computed_at = max((s.computed_at for s in snapshots), default=None)
    return DoraSeries(wanted, figures, computed_at=computed_at or now)


def dora_scope_month(key: str, month: dt.date) -> dora.DoraFigures:
    """The figures of the scope ``key`` (toil.selectors.deployments.dora_key) for the month that
    ``month`` falls in: one query from the worker's snapshot. Once the worker has written
    any, a scope without one had nothing that month (it writes every scope's last twelve
    months); before, they are computed live (a fresh install), as dora_series does."""
    from django.utils import timezone

    first = month.replace(day=1)
    snapshot = DoraSnapshot.objects.filter(key=key, month=first).first()
    if snapshot is not None:
        return figures_of_snapshot(snapshot)
    wanted, now = (first.year, first.month), timezone.now()
    if DoraSnapshot.objects.exists():
        return dora.DoraFigures(days=dora.days_counted(wanted, now, portal_zone()))
    return _computed_live([wanted], now, key=key)[wanted]


def dora_month(team: Team | None, month: dt.date) -> dora.DoraFigures:
    """A team's (the organisation's, for None) DORA figures of the month that ``month`` falls
    in, for the monthly report: deployments (``deployments``, ``successful``, ``failures``),
    the four keys (``deployment_frequency``, ``lead_time``, ``change_failure_rate``,
    ``recovery_time``) and the rework rate; toil.dora.overall_band gives its band."""
    return dora_scope_month(dora_key(team=team), month)


@dataclass(frozen=True)
class DoraRow:
    name: str
    slug: str
    figures: dora.DoraFigures
    band: str | None


def dora_team_rows(*, month: dora.Month) -> list[DoraRow]:
    """Every team's figures of the month with its band, for the DORA page's table: two queries."""
    snapshots = {
        s.team_id: s
        for s in DoraSnapshot.objects.filter(month=month_start(month), team__isnull=False)
    }
    rows = []
    for team in Team.objects.order_by("name").only("pk", "name", "slug"):
        snapshot = snapshots.get(team.pk)
        figures = figures_of_snapshot(snapshot) if snapshot else dora.DoraFigures()
        rows.append(DoraRow(team.name, team.slug, figures, dora.overall_band(figures)))
    return rows
