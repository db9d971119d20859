"""The metrics snapshots the metrics page reads (incidents.models.IncidentMetricsSnapshot)."""

from datetime import datetime

from django.db import transaction

from incidents import selectors
from incidents.metrics import (
    PERIOD_MONTHS,
    incident_metrics,
    keys_to_str,
    metrics_to_json,
    period_start,
)
from incidents.models.incidents import Incident
from incidents.models.metrics import IncidentMetricsSnapshot
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
    start = period_start(now, months)
    figures = incident_metrics(records, start=start, end=now)
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


def incident_metrics_snapshots_recompute(*, now: datetime) -> int:
    """Recompute the metrics snapshot of the organisation and of every team (with incidents
    or not) for each period in PERIOD_MONTHS, ending at ``now``. The longest period's
    incidents are read once (two queries) and every snapshot is derived from them in memory;
    the snapshots are upserted in one transaction. Returns how many were written."""
    earliest = period_start(now, max(PERIOD_MONTHS))
    records, service_names, team_names = selectors.incident_records(
        Incident.objects.filter(started_at__gte=earliest, started_at__lt=now)
    )
    records_by_team = {}
    for record in records:
        records_by_team.setdefault(record.team_id, []).append(record)
    scopes = [(None, records)] + [
        (team_id, records_by_team.get(team_id, []))
        for team_id in Team.objects.order_by("pk").values_list("pk", flat=True)
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
