"""The metrics snapshots the metrics page reads (incidents.models.metrics).

A change to what the metrics read marks it (``incident_metrics_mark_changed``, in the
change's transaction); the marks are recomputed together a short while later
(``incident_metrics_changes_recompute``), so that a storm of alert deliveries costs a
handful of recomputes, not one each. Beat also recomputes everything every few minutes,
since each period ends now and its months move on.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents import tasks
from incidents.metrics import (
    PERIOD_MONTHS,
    incident_metrics,
    keys_to_str,
    metrics_to_json,
    period_start,
)
from incidents.models.incidents import Incident
from incidents.models.metrics import IncidentMetricsDirtyMark, IncidentMetricsSnapshot
from incidents.selectors import metrics as metric_selectors
from portal import doorbell
from portal.timezones import portal_zone
from services.models.catalog import Team

#: What a recompute writes over an existing snapshot.
SNAPSHOT_FIELDS = [
    "computed_at",
    "period_start",
    "period_end",
    "figures",
    "service_names",
    "team_names",
]


def _metrics_snapshot(
    team_id, months: int, records, now: datetime, service_names, team_names
) -> IncidentMetricsSnapshot:
    # Months are the portal's, whoever looks at them later.
    zone = portal_zone()
    start = period_start(now, months, zone)
    figures = incident_metrics(records, start=start, end=now, tz=zone)
    return IncidentMetricsSnapshot(
        team_id=team_id,
        months=months,
        computed_at=now,
        period_start=start,
        period_end=now,
        figures=metrics_to_json(figures),
        # Only the names this snapshot's rows show.
        service_names=keys_to_str({key: service_names[key] for key in figures.by_service}),
        team_names=keys_to_str({key: team_names[key] for key in figures.by_team}),
    )


def incident_metrics_snapshots_recompute(
    *, now: datetime, team_ids: Iterable[int] | None = None
) -> int:
    """Recompute the metrics snapshots of the organisation and of ``team_ids`` (every team,
    with incidents or not, when None) for each period in PERIOD_MONTHS, ending at ``now``.
    The longest period's incidents are read once (two queries) and every snapshot is
    derived from them in memory; the snapshots are upserted in one transaction. Returns how
    many were written."""
    earliest = period_start(now, max(PERIOD_MONTHS), portal_zone())
    records, service_names, team_names = metric_selectors.incident_records(
        Incident.objects.filter(started_at__gte=earliest, started_at__lt=now)
    )
    records_by_team = {}
    for record in records:
        records_by_team.setdefault(record.team_id, []).append(record)
    teams = Team.objects.order_by("pk")
    if team_ids is not None:
        teams = teams.filter(pk__in=list(team_ids))
    scopes = [(None, records)] + [
        (team_id, records_by_team.get(team_id, []))
        for team_id in teams.values_list("pk", flat=True)
    ]
    snapshots = [
        _metrics_snapshot(team_id, months, scope, now, service_names, team_names)
        for team_id, scope in scopes
        for months in PERIOD_MONTHS
    ]
    with transaction.atomic():
        IncidentMetricsSnapshot.objects.bulk_create(
            [snapshot for snapshot in snapshots if snapshot.team_id is not None],
            update_conflicts=True,
            unique_fields=["team", "months"],
            update_fields=SNAPSHOT_FIELDS,
        )
        # An upsert cannot name the organisation's partial unique constraint as its conflict
        # target: its few rows go one by one.
        for snapshot in snapshots:
            if snapshot.team_id is None:
                IncidentMetricsSnapshot.objects.update_or_create(
                    team=None,
                    months=snapshot.months,
                    defaults={name: getattr(snapshot, name) for name in SNAPSHOT_FIELDS},
                )
    return len(snapshots)


# --- coalesced recomputes -------------------------------------------------------------------


def _delay() -> timedelta:
    return timedelta(seconds=settings.INCIDENT_METRICS_RECOMPUTE_DELAY)


def incident_metrics_mark_changed(*, team_ids: Iterable[int | None]) -> None:
    """Record, in the caller's transaction, that incidents of these teams changed in what
    the metrics read (the organisation's figures always change with them). The first
    change since the last recompute rings the recompute, once the transaction commits and
    INCIDENT_METRICS_RECOMPUTE_DELAY seconds later; the changes until then join it."""
    pending = IncidentMetricsDirtyMark.objects.exists()
    now = timezone.now()
    IncidentMetricsDirtyMark.objects.bulk_create(
        IncidentMetricsDirtyMark(team_id=team_id, marked_at=now) for team_id in set(team_ids)
    )
    if not pending:
        doorbell.ring_on_commit(
            tasks.recompute_changed_incident_metrics, countdown=_delay().total_seconds()
        )


def _take_marks() -> set[int | None]:
    """Delete the committed marks and return their teams. Rows a concurrent recompute is
    taking are skipped: each mark is recomputed by one of them."""
    with transaction.atomic():
        marks = dict(
            IncidentMetricsDirtyMark.objects.select_for_update(skip_locked=True).values_list(
                "pk", "team_id"
            )
        )
        IncidentMetricsDirtyMark.objects.filter(pk__in=list(marks)).delete()
    return set(marks.values()) if marks else set()


def incident_metrics_changes_recompute(*, now: datetime | None = None) -> int:
    """Recompute the snapshots of the organisation and of the teams marked since the last
    recompute, once; returns how many snapshots were written (0 when nothing was marked: a
    duplicate ring, or one whose marks a concurrent recompute took).

    The marks are taken before the incidents are read, so every change committed before
    is in the figures and every change committed after keeps its mark; if the recompute
    fails they are put back for the sweep to ring again."""
    team_ids = _take_marks()
    if not team_ids:
        return 0
    try:
        written = incident_metrics_snapshots_recompute(
            now=now or timezone.now(), team_ids={team_id for team_id in team_ids if team_id}
        )
    except Exception:
        IncidentMetricsDirtyMark.objects.bulk_create(
            IncidentMetricsDirtyMark(team_id=team_id, marked_at=timezone.now())
            for team_id in team_ids
        )
        raise
    # Changes marked while this one ran found a mark and rang nothing: ring for them.
    incident_metrics_sweep()
    return written


def incident_metrics_sweep() -> bool:
    """Ring the recompute when changes are marked (a ring lost while the broker was down,
    or changes made while a recompute ran), at the time the first of them is due; True when
    it rang. A ring whose recompute is already coming only makes a recompute that finds
    nothing to do."""
    first = (
        IncidentMetricsDirtyMark.objects.order_by("marked_at")
        .values_list("marked_at", flat=True)
        .first()
    )
    if first is None:
        return False
    due_in = (first + _delay() - timezone.now()).total_seconds()
    return doorbell.ring(tasks.recompute_changed_incident_metrics, countdown=max(due_in, 0))
