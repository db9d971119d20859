"""What follows a write of SLI data or of an SLO's definition: SLOs marked dirty, the one task
that recomputes every dirty SLO's status snapshot in a batch, and the sweep that marks stale
the snapshots whose data stopped (the reading and summing is services.sli's)."""

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import Q
from django.utils import timezone

from portal import doorbell
from services import tasks
from services.actions.scorecards import checks_mark_dirty
from services.budget.figures import DEFAULT_TIERS
from services.budget.windows import BUCKET, Interval, align_down, excluded_bucket_ranges
from services.checks.catalog import MIN_COVERAGE
from services.models.slos import SLO, BudgetPolicy, DirtySLO, MaintenanceWindow, SLOStatus
from services.sli import plan, snapshot
from services.sli.read import slo_groups, slo_latest_data
from services.sli.types import SnapshotInputs

logger = logging.getLogger(__name__)

# --- dirty SLOs ----------------------------------------------------------------------------------

#: Seconds between a change and the recompute it rings for: changes landing meanwhile share it.
RECOMPUTE_DELAY_SECONDS = 5


def slos_mark_dirty(*, slo_ids: Iterable[int] | None = None, ring: bool = True) -> None:
    """Record that the snapshots of these SLOs (every SLO's by default) are out of date, and,
    unless `ring` is False or a recompute is already on its way, ring for one in
    RECOMPUTE_DELAY_SECONDS once the transaction commits. The record is the truth: a ring lost
    to a broker outage is made good by the sweep (services.tasks.recompute_dirty_slos)."""
    ids = list(SLO.objects.values_list("pk", flat=True)) if slo_ids is None else list(slo_ids)
    if not ids:
        return
    # An unclaimed dirty SLO means a recompute was rung for already (or the sweep will come).
    pending = DirtySLO.objects.filter(claimed_at__isnull=True).exists()
    now = timezone.now()
    DirtySLO.objects.bulk_create(
        [DirtySLO(slo_id=slo_id, since=now, mark=uuid.uuid4()) for slo_id in ids],
        update_conflicts=True,
        unique_fields=["slo"],
        update_fields=["mark", "claimed_at"],
    )
    if ring and not pending:
        doorbell.ring_on_commit(tasks.recompute_dirty_slos, countdown=RECOMPUTE_DELAY_SECONDS)


def slo_statuses_recompute_dirty(*, now: datetime) -> int:
    """Recompute every dirty SLO's snapshot once, in one batch, and clear the marks read. An SLO
    marked again meanwhile stays dirty (its mark changed) and is rung for again; one claimed by
    a worker that died is claimed anew once the task time limit has passed. Returns how many
    snapshots were computed."""
    lease = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    with transaction.atomic():
        claimable = DirtySLO.objects.select_for_update(skip_locked=True).filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease)
        )
        claimed = list(claimable.values_list("slo_id", "mark"))
        marks = [mark for _, mark in claimed]
        DirtySLO.objects.filter(mark__in=marks).update(claimed_at=now)
    if not claimed:
        return 0
    slos = list(SLO.objects.filter(pk__in=[slo_id for slo_id, _ in claimed]).order_by("pk"))
    try:
        written = slo_statuses_recompute(now=now, slos=slos)
    except Exception:
        # Let the next ring or sweep have them at once rather than after the lease.
        with suppress(DatabaseError):
            DirtySLO.objects.filter(mark__in=marks).update(claimed_at=None)
        raise
    DirtySLO.objects.filter(mark__in=marks).delete()
    if DirtySLO.objects.filter(claimed_at__isnull=True).exists():
        doorbell.ring(tasks.recompute_dirty_slos, countdown=RECOMPUTE_DELAY_SECONDS)
    return written


def slo_statuses_mark_stale(*, now: datetime) -> int:
    """Mark stale every snapshot whose newest data is older than SLI_STALE_AFTER_MINUTES at
    `now`, whatever feeds its SLO: an SLO nothing is pushed to any more, or whose syncs stopped,
    turns stale without a recompute. Returns how many turned stale."""
    limit = now - BUCKET - timedelta(minutes=settings.SLI_STALE_AFTER_MINUTES)
    turning = SLOStatus.objects.filter(stale=False).filter(
        Q(latest_data_at__isnull=True) | Q(latest_data_at__lt=limit)
    )
    with transaction.atomic():
        # Their services' checks read freshness: they are judged again.
        checks_mark_dirty(service_ids=set(turning.values_list("slo__service_id", flat=True)))
        return turning.update(stale=True)


# --- status snapshots ----------------------------------------------------------------------------

#: SLOs whose data one read statement sums.
RECOMPUTE_BATCH = 250
#: Batches recomputed side by side, each on its own database connection.
RECOMPUTE_THREADS = 2
#: Database errors that say the database is out of reach, not that one SLO's data is bad: the
#: recompute stops (its SLOs stay dirty) instead of marking every SLO as failed.
_OUT_OF_REACH = (InterfaceError, OperationalError)


def _snapshot_inputs(slos: Sequence[SLO]) -> dict[int, SnapshotInputs]:
    """Maintenance windows and policy tiers of many SLOs in three queries."""
    windows: dict[int, list[Interval]] = {}
    for slo_id, start, end in MaintenanceWindow.objects.filter(
        slo_id__in=[slo.pk for slo in slos]
    ).values_list("slo_id", "start", "end"):
        windows.setdefault(slo_id, []).append((start, end))
    policies = list(BudgetPolicy.objects.prefetch_related("tiers"))
    tiers = {policy.pk: snapshot.policy_tiers(policy) for policy in policies}
    default_policy = next((policy.pk for policy in policies if policy.is_default), None)
    stale_after = timedelta(minutes=settings.SLI_STALE_AFTER_MINUTES)
    return {
        slo.pk: SnapshotInputs(
            excluded=excluded_bucket_ranges(windows.get(slo.pk, [])),
            tiers=tiers.get(slo.budget_policy_id or default_policy, DEFAULT_TIERS),
            stale_after=stale_after,
        )
        for slo in slos
    }


def _failure(slo: SLO, error: Exception, failures: dict[int, str]) -> None:
    logger.error(
        "Could not compute the status of SLO %s (%s): %s",
        slo.pk,
        slo.slug,
        error,
        exc_info=error,
    )
    failures[slo.pk] = f"{error.__class__.__name__}: {error}"


def _status_fields(
    slos: Sequence[SLO], now: datetime, inputs: dict[int, SnapshotInputs]
) -> tuple[dict[int, dict], dict[int, str]]:
    """The snapshot fields of each SLO, in two queries whatever their data, and why the others
    failed: one SLO's bad record (an unknown time zone, say) fails that SLO alone."""
    end = plan.epoch(align_down(now))
    fields, failures, requests = {}, {}, {}
    for slo in slos:
        try:
            requests[slo.pk] = plan.read_request(slo, now, inputs[slo.pk].excluded)
        except Exception as error:  # one SLO's bad definition must not stop the batch
            _failure(slo, error, failures)
    try:
        groups = slo_groups(list(requests.values()), end=end)
    except _OUT_OF_REACH:
        raise
    except DatabaseError:
        # Find the SLOs the statement failed on: each on its own (in its own savepoint).
        groups = {}
        for slo in slos:
            if slo.pk in requests:
                try:
                    groups |= slo_groups([requests[slo.pk]], end=end)
                except _OUT_OF_REACH:
                    raise
                except DatabaseError as error:
                    _failure(slo, error, failures)
    latest = slo_latest_data(list(groups), until=now)
    for slo in slos:
        if slo.pk not in groups:
            continue
        try:
            fields[slo.pk] = snapshot.status_fields(
                slo, now, groups[slo.pk], latest[slo.pk], inputs[slo.pk]
            )
        except Exception as error:  # one SLO's bad data must not stop the batch
            _failure(slo, error, failures)
    return fields, failures


def slo_status_recompute(*, slo: SLO, now: datetime) -> SLOStatus:
    """Compute one SLO's snapshot now and return it (the management command, tests)."""
    slo_statuses_recompute(now=now, slos=[slo])
    return SLOStatus.objects.get(slo=slo)


def slo_statuses_recompute(*, now: datetime, slos: Iterable[SLO] | None = None) -> int:
    """Recompute the snapshot of every SLO (or of `slos`) from the stored data, in batches of
    RECOMPUTE_BATCH SLOs: each batch's figures in two queries, its snapshots in one write
    (batches side by side, see _batches_recompute). Sync outcomes (last sync time and error)
    are kept, and an SLO whose last sync failed stays stale. An SLO that cannot be computed is
    logged and marked on its snapshot ("could not compute: ..."), which keeps its last figures
    and turns stale; the others go on. Returns how many snapshots were computed."""
    slos = list(SLO.objects.order_by("pk") if slos is None else slos)
    failing = set(
        SLOStatus.objects.filter(slo__in=slos)
        .exclude(last_sync_error="")
        .values_list("slo_id", flat=True)
    )
    batches = [
        slos[first : first + RECOMPUTE_BATCH] for first in range(0, len(slos), RECOMPUTE_BATCH)
    ]
    context = _Recompute(now, failing, _snapshot_inputs(slos))
    return sum(_batches_recompute(batches, context))


@dataclass(frozen=True)
class _Recompute:
    """What every batch of a recompute shares: its moment, the SLOs whose last sync failed, and
    each SLO's maintenance and policy tiers (read once for all batches)."""

    now: datetime
    failing: set[int]
    inputs: dict[int, SnapshotInputs]


def _batch_recompute(slos: list[SLO], context: _Recompute) -> int:
    now, failing = context.now, context.failing
    fields_by_slo, failures = _status_fields(slos, now, context.inputs)
    for slo_id, fields in fields_by_slo.items():
        fields["stale"] = fields["stale"] or slo_id in failing
        fields["compute_error"] = ""
    with transaction.atomic():
        judged = _checked_facts_before([*fields_by_slo, *failures])
        _statuses_write(fields_by_slo)
        _failures_write(failures, now)
        _checks_mark_changed(slos, judged, fields_by_slo, failures)
    return len(fields_by_slo)


def _checked_facts(fields) -> tuple:
    """A snapshot's figures as the readiness and maturity checks judge them
    (services.checks.catalog): each sync moves coverage and budget a little, and a service is
    scored again only when a verdict could change."""
    coverage, remaining = fields["coverage"], fields["remaining"]
    return (
        fields["stale"],
        coverage is not None and coverage >= MIN_COVERAGE,
        remaining is not None and remaining < 0,
        fields["alert"],
    )


def _checked_facts_before(slo_ids: list[int]) -> dict[int, tuple]:
    rows = SLOStatus.objects.filter(slo_id__in=slo_ids).values(
        "slo_id", "stale", "coverage", "remaining", "alert"
    )
    return {row["slo_id"]: _checked_facts(row) for row in rows}


def _checks_mark_changed(slos, judged: dict[int, tuple], fields_by_slo, failures) -> None:
    """Mark for their checks the services whose snapshots changed in what the checks read."""
    service_of = {slo.pk: slo.service_id for slo in slos}
    changed = {
        service_of[slo_id]
        for slo_id, fields in fields_by_slo.items()
        if judged.get(slo_id) != _checked_facts(fields)
    }
    changed |= {service_of[slo_id] for slo_id in failures if not judged.get(slo_id, (False,))[0]}
    checks_mark_dirty(service_ids=changed)


def _batches_recompute(batches: list[list[SLO]], context: _Recompute):
    """_batch_recompute() of each batch. In threads, each on its own connection, when there are
    several batches and no transaction is open (another connection sees only committed data):
    while PostgreSQL sums one batch's data or stores its snapshots, Python computes another's."""
    if len(batches) < 2 or connection.in_atomic_block:
        return [_batch_recompute(batch, context) for batch in batches]
    pool = ThreadPoolExecutor(RECOMPUTE_THREADS)
    try:
        return list(pool.map(_batch_recompute_on_own_connection, batches, repeat(context)))
    finally:
        pool.shutdown()


def _batch_recompute_on_own_connection(slos: list[SLO], context: _Recompute) -> int:
    try:
        return _batch_recompute(slos, context)
    finally:
        connections.close_all()  # this thread's connections only


#: The snapshot's figures: what a recompute writes (the sync outcomes are the sync's).
_FIGURES = [
    field
    for field in SLOStatus._meta.concrete_fields
    if field.name != "slo" and field.name not in SLOStatus.SYNC_OUTCOME_FIELDS
]


def _statuses_write(fields_by_slo: dict[int, dict]) -> None:
    """Upsert the snapshots. On PostgreSQL through COPY into a temporary table: an INSERT
    would send each snapshot's chart series as an escaped literal, which took longer than
    computing it."""
    if not fields_by_slo:
        return
    names = [field.name for field in _FIGURES]
    if connection.vendor != "postgresql":
        SLOStatus.objects.bulk_create(
            [SLOStatus(slo_id=slo_id, **fields) for slo_id, fields in fields_by_slo.items()],
            update_conflicts=True,
            unique_fields=["slo"],
            update_fields=names,
        )
        return
    quote = connection.ops.quote_name
    table = quote(SLOStatus._meta.db_table)
    columns = [quote(field.column) for field in _FIGURES]
    json_fields = {field.name for field in _FIGURES if field.get_internal_type() == "JSONField"}
    # New snapshots start without sync outcomes; existing ones keep theirs.
    defaults = {"last_sync_error": "''", "retryable_sync_errors": "0", "permanent_sync_errors": "0"}
    default_columns = [quote(SLOStatus._meta.get_field(name).column) for name in defaults]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE incoming_slo_status AS"
            f" SELECT slo_id, {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(
            f"COPY incoming_slo_status (slo_id, {', '.join(columns)}) FROM STDIN"
        ) as copy:
            for slo_id, fields in fields_by_slo.items():
                copy.write_row(
                    [
                        slo_id,
                        *(
                            json.dumps(fields[name], separators=(",", ":"))
                            if name in json_fields
                            else fields[name]
                            for name in names
                        ),
                    ]
                )
        cursor.execute(
            f"INSERT INTO {table} (slo_id, {', '.join(columns + default_columns)})"
            f" SELECT slo_id, {', '.join(columns)}, {', '.join(defaults.values())}"
            f" FROM incoming_slo_status ON CONFLICT (slo_id) DO UPDATE SET "
            + ", ".join(f"{column} = excluded.{column}" for column in columns)
        )
        cursor.execute("DROP TABLE incoming_slo_status")


def _failures_write(failures: dict[int, str], now: datetime) -> None:
    """Mark each SLO that could not be computed: its last figures stay, stale, with the reason;
    one never computed gets a snapshot without figures that says why."""
    for slo_id, reason in failures.items():
        updated = SLOStatus.objects.filter(slo_id=slo_id).update(stale=True, compute_error=reason)
        if not updated:
            SLOStatus.objects.create(
                slo_id=slo_id,
                computed_at=now,
                window_start=now,
                window_end=now,
                stale=True,
                compute_error=reason,
            )
