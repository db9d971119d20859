"""Incident metrics, as pure functions over plain records (incidents.selectors feeds them).

Definitions (after the incident-metrics sections of the SRE handbooks the portal follows):

- MTTD, mean time to detect: detected - started (how long users were hurt before we knew).
- MTTA, mean time to acknowledge: acknowledged - detected (how long until a person took
  charge; an alert-opened incident is acknowledged when someone acts on it).
- MTTR, mean time to restore: resolved - started, the incident's whole duration from the
  start of user impact to its resolution, as the handbooks compute it from each
  incident's duration. (Not "time to repair" from detection.)
- MTBF, mean time between failures: the mean gap between the starts of consecutive
  incidents in the period, for the organisation, per service and per team; undefined with
  fewer than two incidents.

Each mean comes with its median, since one long outage drags a mean far from the typical
incident. Records missing a timestamp are left out of the figures needing it, never
counted as zero; each figure says how many incidents it covers.
"""

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from incidents.choices import Severity


@dataclass(frozen=True)
class IncidentRecord:
    severity: str
    started_at: dt.datetime
    detected_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    team_id: int | None = None
    service_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class DurationStats:
    count: int
    mean: dt.timedelta | None
    median: dt.timedelta | None


@dataclass(frozen=True)
class IncidentMetrics:
    count: int
    mttd: DurationStats
    mtta: DurationStats
    mttr: DurationStats
    mtbf: dt.timedelta | None
    mtbf_by_service: dict[int, dt.timedelta | None] = field(default_factory=dict)
    mtbf_by_team: dict[int, dt.timedelta | None] = field(default_factory=dict)
    #: {first day of the month: {severity: count}}, every month of the period, zeros too.
    by_month: dict[dt.date, dict[str, int]] = field(default_factory=dict)
    by_service: dict[int, dict[str, int]] = field(default_factory=dict)
    by_team: dict[int, dict[str, int]] = field(default_factory=dict)


def duration_stats(durations: Iterable[dt.timedelta]) -> DurationStats:
    ordered = sorted(durations)
    if not ordered:
        return DurationStats(count=0, mean=None, median=None)
    count = len(ordered)
    middle = count // 2
    median = ordered[middle] if count % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return DurationStats(count=count, mean=sum(ordered, dt.timedelta()) / count, median=median)


def _between(records, first: str, last: str) -> DurationStats:
    return duration_stats(
        getattr(record, last) - getattr(record, first)
        for record in records
        if getattr(record, first) is not None and getattr(record, last) is not None
    )


def time_to_detect(records: Iterable[IncidentRecord]) -> DurationStats:
    return _between(records, "started_at", "detected_at")


def time_to_acknowledge(records: Iterable[IncidentRecord]) -> DurationStats:
    return _between(records, "detected_at", "acknowledged_at")


def time_to_restore(records: Iterable[IncidentRecord]) -> DurationStats:
    return _between(records, "started_at", "resolved_at")


def mean_time_between_failures(starts: Iterable[dt.datetime]) -> dt.timedelta | None:
    ordered = sorted(starts)
    if len(ordered) < 2:
        return None
    return (ordered[-1] - ordered[0]) / (len(ordered) - 1)


def _group(
    records: Iterable[IncidentRecord], keys: Callable[[IncidentRecord], Iterable[Hashable]]
) -> dict[Hashable, list[IncidentRecord]]:
    groups: dict[Hashable, list[IncidentRecord]] = {}
    for record in records:
        for key in keys(record):
            groups.setdefault(key, []).append(record)
    return groups


def _services(record: IncidentRecord) -> tuple[int, ...]:
    return record.service_ids


def _team(record: IncidentRecord) -> tuple[int, ...]:
    return () if record.team_id is None else (record.team_id,)


def mtbf_by(
    records: Iterable[IncidentRecord], keys: Callable[[IncidentRecord], Iterable[Hashable]]
) -> dict[Hashable, dt.timedelta | None]:
    """MTBF per group; an incident counts in every group ``keys`` names for it."""
    return {
        key: mean_time_between_failures(record.started_at for record in group)
        for key, group in _group(records, keys).items()
    }


def severity_counts(records: Iterable[IncidentRecord]) -> dict[str, int]:
    counts = dict.fromkeys(Severity.values, 0)
    for record in records:
        counts[record.severity] += 1
    return counts


def counts_by(
    records: Iterable[IncidentRecord], keys: Callable[[IncidentRecord], Iterable[Hashable]]
) -> dict[Hashable, dict[str, int]]:
    return {key: severity_counts(group) for key, group in _group(records, keys).items()}


def month_starts(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo = dt.UTC) -> list[dt.date]:
    """The first days of the months [start, end) touches, in ``tz``."""
    month = start.astimezone(tz).date().replace(day=1)
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    months = []
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def counts_by_month(
    records: Iterable[IncidentRecord], *, start: dt.datetime, end: dt.datetime, tz=dt.UTC
) -> dict[dt.date, dict[str, int]]:
    """Incidents per severity and month of their start, every month of the period present."""
    months = {month: severity_counts([]) for month in month_starts(start, end, tz)}
    for record in records:
        month = record.started_at.astimezone(tz).date().replace(day=1)
        if month in months:
            months[month][record.severity] += 1
    return months


def incident_metrics(
    records: Iterable[IncidentRecord], *, start: dt.datetime, end: dt.datetime, tz=dt.UTC
) -> IncidentMetrics:
    """Every figure for the incidents that started in [start, end)."""
    records = [record for record in records if start <= record.started_at < end]
    return IncidentMetrics(
        count=len(records),
        mttd=time_to_detect(records),
        mtta=time_to_acknowledge(records),
        mttr=time_to_restore(records),
        mtbf=mean_time_between_failures(record.started_at for record in records),
        mtbf_by_service=mtbf_by(records, _services),
        mtbf_by_team=mtbf_by(records, _team),
        by_month=counts_by_month(records, start=start, end=end, tz=tz),
        by_service=counts_by(records, _services),
        by_team=counts_by(records, _team),
    )
