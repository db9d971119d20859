"""Writes of deployments and of the incidents they caused, and the DORA snapshots computed
from them. A write marks the months it touches as dirty (DoraDirtyMonth) and rings for one
recompute on commit, a little later, so that a burst of deployments is recomputed once."""

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from portal import doorbell
from portal.timezones import portal_zone
from services.models.catalog import Service, Team
from toil import dora
from toil.choices.changes import PRODUCTION
from toil.models.changes import ChangeRequest
from toil.models.deployments import (
    Deployment,
    DoraDirtyMonth,
    DoraSnapshot,
    IncidentCause,
)
from toil.selectors import deployments as deployment_selectors
from toil.tasks import changes as tasks

#: Seconds a recompute waits after the first change that asks for it: what comes in meanwhile
#: is recomputed with it.
DORA_COALESCE_SECONDS = 10
#: Months of figures the worker keeps (the DORA page shows a year).
DORA_MONTHS = 12
#: How far before the first month deployments are read: enough to know whether the first
#: deployments follow a failure.
LOOKBACK = dt.timedelta(days=62)


def _month_of(moment: dt.datetime) -> dt.date:
    local = moment.astimezone(portal_zone())
    return dt.date(local.year, local.month, 1)


def dora_months_mark(moments: Iterable[dt.datetime | None]) -> None:
    """Mark the months of these moments as needing a recompute and ring for it on commit."""
    months = {_month_of(moment) for moment in moments if moment is not None}
    if not months:
        return
    now = timezone.now()
    # The first mark since the last recompute rings it; the marks until then join that one
    # (a storm of deployment reports costs one recompute, not one each).
    pending = DoraDirtyMonth.objects.exists()
    DoraDirtyMonth.objects.bulk_create(
        [DoraDirtyMonth(month=month, marked_at=now) for month in months],
        update_conflicts=True,
        unique_fields=["month"],
        update_fields=["marked_at"],
    )
    if not pending:
        doorbell.ring_on_commit(tasks.recompute_dora, countdown=DORA_COALESCE_SECONDS)


def _first_commit(commits: list[dict], given: dt.datetime | None) -> dt.datetime | None:
    times = [commit["committed_at"] for commit in commits if commit.get("committed_at")]
    if given is not None:
        times.append(given)
    return min(times) if times else None


def _commits_json(commits: list[dict]) -> list[dict]:
    return [
        {
            "sha": commit["sha"],
            "committed_at": commit["committed_at"].isoformat()
            if commit.get("committed_at")
            else None,
        }
        for commit in commits
    ]


@transaction.atomic
def deployment_record(
    *,
    service: Service,
    environment: str,
    version: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    status: str,
    by,
    commits: list[dict] = (),
    first_commit_at: dt.datetime | None = None,
    change: ChangeRequest | None = None,
) -> tuple[Deployment, bool]:
    """Record a deployment a pipeline reports, or update the one already recorded for the
    same (service, environment, version): reporting twice never counts twice. Returns the
    deployment and whether it is new."""
    commits = list(commits)
    values = {
        "started_at": started_at,
        "finished_at": finished_at,
        "status": status,
        "commits": _commits_json(commits),
        "first_commit_at": _first_commit(commits, first_commit_at),
        "change": change,
    }
    deployment = (
        Deployment.objects.select_for_update()
        .filter(service=service, environment=environment, version=version)
        .first()
    )
    created = deployment is None
    months = []
    if created:
        deployment = Deployment(
            service=service, environment=environment, version=version, created_by=by, **values
        )
    else:
        months.append(deployment.finished_at)
        for name, value in values.items():
            setattr(deployment, name, value)
    deployment.full_clean(validate_unique=created, validate_constraints=created)
    deployment.save()
    months.append(deployment.finished_at)
    if environment == PRODUCTION:  # the only deployments DORA counts
        dora_months_mark(months)
    return deployment, created


@transaction.atomic
def deployment_correct(*, deployment: Deployment, by) -> Deployment:
    """Save corrections to a recorded deployment (its times, status, first commit or change;
    what it is — service, environment, version, commits — stays), re-marking the DORA months
    it left and joined."""
    stored = Deployment.objects.select_for_update().get(pk=deployment.pk)
    deployment.full_clean()
    deployment.save()
    if deployment.environment == PRODUCTION:
        dora_months_mark([stored.finished_at, deployment.finished_at])
    return deployment


@transaction.atomic
def deployment_delete(*, deployment: Deployment, by) -> None:
    deployment.delete()  # its month is marked by the post_delete signal (toil.signals)


@transaction.atomic
def incident_cause_set(*, incident, deployment: Deployment | None, by) -> IncidentCause | None:
    """Link the incident to the deployment that caused it (None: unlink)."""
    existing = IncidentCause.objects.select_for_update().filter(incident=incident).first()
    touched = [incident.started_at]
    if existing is not None:
        touched.append(existing.deployment.finished_at)
        if deployment is None or existing.deployment_id != deployment.pk:
            existing.delete()
            existing = None
    cause = existing
    if deployment is not None and cause is None:
        cause = IncidentCause(incident=incident, deployment=deployment, linked_by=by)
        cause.full_clean()
        cause.save()
        touched.append(deployment.finished_at)
    dora_months_mark(touched)
    return cause


# --- DORA snapshots ---------------------------------------------------------------------------


#: Columns a snapshot row is written with, in order.
SNAPSHOT_COLUMNS = (
    "key",
    "team_id",
    "service_id",
    "month",
    "computed_at",
    *DoraSnapshot.FIGURE_FIELDS,
)
#: Recomputes of the snapshots take this transaction-level lock: two at once (the hourly one and
#: a dirty month's) would otherwise each replace the rows of the same months.
DORA_LOCK = 0x746F696C  # "toil"


def _snapshot_rows(figures, now: dt.datetime) -> list[tuple]:
    rows = []
    for (kind, pk), by_month in figures.items():
        key = kind if pk is None else f"{kind}:{pk}"
        team_id = pk if kind == "team" else None
        service_id = pk if kind == "service" else None
        for month, figure in by_month.items():
            rows.append(
                (
                    key,
                    team_id,
                    service_id,
                    dt.date(month[0], month[1], 1),
                    now,
                    *(getattr(figure, name) for name in DoraSnapshot.FIGURE_FIELDS),
                )
            )
    return rows


def _write_snapshots(rows: list[tuple], months: list[dt.date]) -> None:
    """Replace the snapshots of ``months`` with ``rows``, in the caller's transaction. On
    PostgreSQL the rows are deleted and copied in (COPY): thirteen thousand rows in a fraction
    of a second, where an upsert spent seconds preparing each value; elsewhere, an upsert."""
    if connection.vendor != "postgresql":
        DoraSnapshot.objects.bulk_create(
            [DoraSnapshot(**dict(zip(SNAPSHOT_COLUMNS, row, strict=True))) for row in rows],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["key", "month"],
            update_fields=["computed_at", *DoraSnapshot.FIGURE_FIELDS],
        )
        return
    table = DoraSnapshot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DORA_LOCK])
        cursor.execute(f"DELETE FROM {table} WHERE month = ANY(%s)", [months])
        columns = ", ".join(SNAPSHOT_COLUMNS)
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def dora_snapshots_recompute(*, now: dt.datetime, months: Iterable[dt.date] | None = None) -> int:
    """Recompute the DORA snapshots of the given months (the last DORA_MONTHS by default) for
    the organisation, every team and every service with deployments, from two reads; written
    in one transaction. Returns how many rows were written."""
    zone = portal_zone()
    recent = dora.last_months(now, DORA_MONTHS, zone)
    wanted = (
        recent
        if months is None
        else sorted({(month.year, month.month) for month in months} & set(recent))
    )
    if not wanted:
        return 0
    first_day = dt.datetime(wanted[0][0], wanted[0][1], 1, tzinfo=zone)
    records, caused = deployment_selectors.dora_records(since=first_day - LOOKBACK)
    figures = dora.dora_figures(records, caused, months=wanted, now=now, zone=zone)
    # Teams without deployments still get their months (zeros), so that every team's page
    # reads a snapshot.
    for team_id in Team.objects.values_list("pk", flat=True):
        scope = figures.setdefault(("team", team_id), {})
        for month in wanted:
            scope.setdefault(
                month, dora.DoraFigures(days=dora.days_counted(month, now, zone)).finish()
            )
    rows = _snapshot_rows(figures, now)
    with transaction.atomic():
        _write_snapshots(rows, [dt.date(year, month, 1) for year, month in wanted])
    return len(rows)


def dora_dirty_recompute(*, now: dt.datetime | None = None) -> int:
    """Recompute the months marked dirty, once each however often they were marked, and clear
    the marks this recompute read (a mark made meanwhile stays, for the next one)."""
    now = now or timezone.now()
    marks = list(DoraDirtyMonth.objects.values_list("month", "marked_at"))
    if not marks:
        return 0
    with transaction.atomic():
        written = dora_snapshots_recompute(now=now, months=[month for month, _ in marks])
        for month, marked_at in marks:
            DoraDirtyMonth.objects.filter(month=month, marked_at__lte=marked_at).delete()
        if DoraDirtyMonth.objects.exists():  # marked meanwhile, without a ring of their own
            doorbell.ring_on_commit(tasks.recompute_dora, countdown=DORA_COALESCE_SECONDS)
    return written


def dora_has_dirty_months() -> bool:
    return DoraDirtyMonth.objects.exists()


def incidents_changed(incident_ids: Iterable[int]) -> None:
    """Incidents changed (the incidents app saved them): the months of those that a deployment
    caused need their recovery times again."""
    causes = IncidentCause.objects.filter(incident_id__in=list(incident_ids)).values_list(
        "incident__started_at", "deployment__finished_at"
    )
    moments = [moment for pair in causes for moment in pair]
    dora_months_mark(moments)
