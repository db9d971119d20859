"""Incident metrics, as pure functions over plain records (incidents.selectors.metrics feeds them).

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

The worker stores the figures of each period as JSON (``metrics_to_json``) in
incidents.models.IncidentMetricsSnapshot, and the metrics page reads them back
(``metrics_from_json``).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from incidents.choices import Severity

#: The periods the metrics page offers, in months, and the worker keeps figures for.
PERIOD_MONTHS = (3, 6, 12, 24)


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An incident as the metrics see it: when it started, and how long it took to be
    detected, acknowledged and resolved (None where it has not got that far)."""

    severity: str
    started_at: dt.datetime
    time_to_detect: dt.timedelta | None = None
    time_to_acknowledge: dt.timedelta | None = None
    time_to_restore: dt.timedelta | None = None
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


def phase_stats(records: Iterable[IncidentRecord], phase: str) -> DurationStats:
    """Mean and median of one phase (``time_to_detect``, ``time_to_acknowledge`` or
    ``time_to_restore``) over the records that have reached it."""
    return duration_stats(
        getattr(record, phase) for record in records if getattr(record, phase) is not None
    )


def mean_time_between_failures(starts: Iterable[dt.datetime]) -> dt.timedelta | None:
    # The gaps between consecutive starts add up to last - first: no need to sort.
    starts = list(starts)
    if len(starts) < 2:
        return None
    return (max(starts) - min(starts)) / (len(starts) - 1)


def _group_by_service(records: Iterable[IncidentRecord]) -> dict[int, list[IncidentRecord]]:
    """The records per affected service; an incident counts for each service it hit."""
    groups: dict[int, list[IncidentRecord]] = {}
    for record in records:
        for service_id in record.service_ids:
            groups.setdefault(service_id, []).append(record)
    return groups


def _group_by_team(records: Iterable[IncidentRecord]) -> dict[int, list[IncidentRecord]]:
    groups: dict[int, list[IncidentRecord]] = {}
    for record in records:
        if record.team_id is not None:
            groups.setdefault(record.team_id, []).append(record)
    return groups


def severity_counts(records: Iterable[IncidentRecord]) -> dict[str, int]:
    counts = dict.fromkeys(Severity.values, 0)
    for record in records:
        counts[record.severity] += 1
    return counts


def _mtbf_of(records: list[IncidentRecord]) -> dt.timedelta | None:
    return mean_time_between_failures(record.started_at for record in records)


def period_start(end: dt.datetime, months: int, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    """The first instant of the month ``months - 1`` months before ``end``'s month, months
    being those of ``tz``: a period of N months is the N calendar months up to ``end``, the
    current one included."""
    end = end.astimezone(tz)
    month_index = end.year * 12 + end.month - 1 - (months - 1)
    return end.replace(
        year=month_index // 12,
        month=month_index % 12 + 1,
        day=1,
        hour=0,
        minute=0,
        second=0,
        microsecond=0,
    )


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
    by_service = _group_by_service(records)
    by_team = _group_by_team(records)
    return IncidentMetrics(
        count=len(records),
        mttd=phase_stats(records, "time_to_detect"),
        mtta=phase_stats(records, "time_to_acknowledge"),
        mttr=phase_stats(records, "time_to_restore"),
        mtbf=mean_time_between_failures(record.started_at for record in records),
        mtbf_by_service={key: _mtbf_of(group) for key, group in by_service.items()},
        mtbf_by_team={key: _mtbf_of(group) for key, group in by_team.items()},
        by_month=counts_by_month(records, start=start, end=end, tz=tz),
        by_service={key: severity_counts(group) for key, group in by_service.items()},
        by_team={key: severity_counts(group) for key, group in by_team.items()},
    )


# --- JSON: durations as seconds, ids and months as string keys --------------------------------


def _seconds(duration: dt.timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds()


def _duration(seconds: float | None) -> dt.timedelta | None:
    return None if seconds is None else dt.timedelta(seconds=seconds)


def _stats_to_json(stats: DurationStats) -> dict:
    return {"count": stats.count, "mean": _seconds(stats.mean), "median": _seconds(stats.median)}


def _stats_from_json(data: dict) -> DurationStats:
    return DurationStats(
        count=data["count"], mean=_duration(data["mean"]), median=_duration(data["median"])
    )


def keys_to_str(mapping: dict, value=lambda value: value) -> dict[str, object]:
    """``mapping`` with the string keys JSON needs (ids of services and teams), each value
    passed through ``value``."""
    return {str(key): value(item) for key, item in mapping.items()}


def keys_to_int(mapping: dict, value=lambda value: value) -> dict[int, object]:
    """The reverse of ``keys_to_str``."""
    return {int(key): value(item) for key, item in mapping.items()}


def metrics_to_json(metrics: IncidentMetrics) -> dict:
    """The figures as JSON data: durations in seconds, ids and months (ISO dates) as keys."""
    return {
        "count": metrics.count,
        "mttd": _stats_to_json(metrics.mttd),
        "mtta": _stats_to_json(metrics.mtta),
        "mttr": _stats_to_json(metrics.mttr),
        "mtbf": _seconds(metrics.mtbf),
        "mtbf_by_service": keys_to_str(metrics.mtbf_by_service, _seconds),
        "mtbf_by_team": keys_to_str(metrics.mtbf_by_team, _seconds),
        "by_month": {month.isoformat(): counts for month, counts in metrics.by_month.items()},
        "by_service": keys_to_str(metrics.by_service),
        "by_team": keys_to_str(metrics.by_team),
    }


def metrics_from_json(data: dict) -> IncidentMetrics:
    """The figures ``metrics_to_json`` wrote. Months come back in calendar order: PostgreSQL's
    jsonb keeps keys in an order of its own."""
    return IncidentMetrics(
        count=data["count"],
        mttd=_stats_from_json(data["mttd"]),
        mtta=_stats_from_json(data["mtta"]),
        mttr=_stats_from_json(data["mttr"]),
        mtbf=_duration(data["mtbf"]),
        mtbf_by_service=keys_to_int(data["mtbf_by_service"], _duration),
        mtbf_by_team=keys_to_int(data["mtbf_by_team"], _duration),
        by_month={
            dt.date.fromisoformat(month): data["by_month"][month]
            for month in sorted(data["by_month"])
        },
        by_service=keys_to_int(data["by_service"]),
        by_team=keys_to_int(data["by_team"]),
    )
