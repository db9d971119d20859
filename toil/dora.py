"""DORA's four keys and the rework rate, month by month, per service, team and organisation.
Pure: the caller reads the deployments and the incidents they caused
(toil.selectors.deployments.dora_records) and stores what comes out (DoraSnapshot).

Only production deployments count. Months are calendar months in the portal's time zone,
and a deployment belongs to the month it finished in.

- Deployment frequency: successful deployments per day of the month (of the days gone so far,
  in the current month).
- Lead time for changes: the median time from a deployment's first commit to its (successful)
  arrival in production.
- Change failure rate: deployments that failed, were rolled back, or are linked to an
  incident as its cause, divided by all deployments.
- Failed deployment recovery time: the median, over the month's failures, of the time from a
  failed or rolled-back deployment to the service's next successful deployment, and from the
  start of an incident a deployment caused to its resolution. Failures not yet recovered from
  are left out (and counted).
- Deployment rework rate: deployments made right after a failure (the service's previous
  deployment failed, was rolled back or caused an incident), which nobody had planned, divided
  by all deployments.

Each key falls into a band (elite, high, medium, low) by BANDS, the thresholds of DORA's
Accelerate State of DevOps report (2023 performance levels); a scope's band is the lowest of
its keys' (a team is elite when every key with data is elite). Rework has no band.
"""

import calendar
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SUCCEEDED = "succeeded"
HOUR, DAY = 3600.0, 86400.0

ELITE, HIGH, MEDIUM, LOW = "elite", "high", "medium", "low"
BAND_ORDER = (ELITE, HIGH, MEDIUM, LOW)

#: key: (how to compare, ((band, bound), ...)); the first band whose bound the value meets
#: applies, else LOW. "at_least" for deployments per day; "below" for durations in seconds;
#: "at_most" for the failure rate.
BANDS = {
    "deployment_frequency": (
        "at_least",
        ((ELITE, 1.0), (HIGH, 1 / 7), (MEDIUM, 1 / 30)),
    ),
    "lead_time": ("below", ((ELITE, DAY), (HIGH, 7 * DAY), (MEDIUM, 30 * DAY))),
    "change_failure_rate": ("at_most", ((ELITE, 0.05), (HIGH, 0.10), (MEDIUM, 0.15))),
    "recovery_time": ("below", ((ELITE, HOUR), (HIGH, DAY), (MEDIUM, 7 * DAY))),
}

#: How the page states each threshold (same order as BANDS' bounds, then low).
BAND_TABLE = {
    "deployment_frequency": (
        "Deployment frequency",
        ("daily or more (on demand)", "weekly to daily", "monthly to weekly", "less than monthly"),
    ),
    "lead_time": (
        "Lead time for changes",
        ("under a day", "a day to a week", "a week to a month", "a month or more"),
    ),
    "change_failure_rate": (
        "Change failure rate",
        ("5 % or less", "up to 10 %", "up to 15 %", "above 15 %"),
    ),
    "recovery_time": (
        "Failed deployment recovery time",
        ("under an hour", "under a day", "a day to a week", "a week or more"),
    ),
}


def band_bound(key: str, band: str) -> float:
    """The bound of ``band`` for ``key``, in the key's unit (seconds, a rate, a day's
    deployments); LOW has none."""
    return dict(BANDS[key][1])[band]


def band_statement(key: str, band: str) -> str:
    """How the page states ``band``'s threshold for ``key`` ("under a day")."""
    return BAND_TABLE[key][1][BAND_ORDER.index(band)]


Month = tuple[int, int]


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    """A production deployment as the figures read it: times in seconds since the epoch (the
    database hands them over so, far faster than as datetimes), and the month it finished in
    (in the portal's zone)."""

    id: int
    service_id: int
    team_id: int | None
    finished_at: float
    month: Month
    status: str
    first_commit_at: float | None = None


@dataclass(frozen=True, slots=True)
class CausedIncident:
    """An incident linked to the deployment that caused it; ``month``: the month it started."""

    deployment_id: int
    started_at: float
    month: Month
    resolved_at: float | None


@dataclass
class DoraFigures:
    """One scope's month. Durations in seconds; rates 0 to 1; None where nothing was measured."""

    deployments: int = 0
    successful: int = 0
    failures: int = 0
    rework: int = 0
    days: int = 1
    lead_time: float | None = None
    recovery_time: float | None = None
    recovered: int = 0
    unrecovered: int = 0
    lead_times: list[float] = field(default_factory=list, repr=False)
    recovery_times: list[float] = field(default_factory=list, repr=False)

    @property
    def deployment_frequency(self) -> float:
        return self.successful / self.days if self.days else 0.0

    @property
    def change_failure_rate(self) -> float | None:
        return self.failures / self.deployments if self.deployments else None

    @property
    def rework_rate(self) -> float | None:
        return self.rework / self.deployments if self.deployments else None

    def finish(self) -> "DoraFigures":
        self.lead_time = statistics.median(self.lead_times) if self.lead_times else None
        self.recovery_time = statistics.median(self.recovery_times) if self.recovery_times else None
        self.recovered = len(self.recovery_times)
        return self


def band_of(key: str, value: float | None) -> str | None:
    if value is None:
        return None
    comparison, bounds = BANDS[key]
    for band, bound in bounds:
        met = {
            "at_least": value >= bound,
            "below": value < bound,
            "at_most": value <= bound,
        }[comparison]
        if met:
            return band
    return LOW


def key_values(figures: DoraFigures) -> dict[str, float | None]:
    return {
        "deployment_frequency": figures.deployment_frequency if figures.deployments else None,
        "lead_time": figures.lead_time,
        "change_failure_rate": figures.change_failure_rate,
        "recovery_time": figures.recovery_time,
    }


def bands(figures: DoraFigures) -> dict[str, str | None]:
    return {key: band_of(key, value) for key, value in key_values(figures).items()}


def overall_band(figures: DoraFigures) -> str | None:
    """The lowest band among the keys with data; None without deployments."""
    found = [band for band in bands(figures).values() if band is not None]
    return max(found, key=BAND_ORDER.index) if found else None


def month_of(moment: datetime, zone: ZoneInfo) -> Month:
    local = moment.astimezone(zone)
    return local.year, local.month


def month_bounds(month: Month, zone: ZoneInfo) -> tuple[datetime, datetime]:
    year, number = month
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=zone)
    return start, end


def last_months(now: datetime, count: int, zone: ZoneInfo) -> list[Month]:
    """The ``count`` months up to and including the one ``now`` is in, oldest first."""
    year, number = month_of(now, zone)
    months = []
    for _ in range(count):
        months.append((year, number))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return months[::-1]


def days_counted(month: Month, now: datetime, zone: ZoneInfo) -> int:
    """The days of ``month`` that deployments could happen on: all of them for a past month,
    the days begun so far for the current one."""
    start, end = month_bounds(month, zone)
    if now >= end:
        return calendar.monthrange(*month)[1]
    elapsed = now.astimezone(zone) - start
    return max(1, elapsed.days + (elapsed % timedelta(days=1) > timedelta(0)))


Scope = tuple[str, int | None]  # ("organisation", None), ("team", id), ("service", id)
ORGANISATION: Scope = ("organisation", None)


def dora_figures(
    deployments: Iterable[DeploymentRecord],
    caused: Iterable[CausedIncident],
    *,
    months: Sequence[Month],
    now: datetime,
    zone: ZoneInfo,
) -> dict[Scope, dict[Month, DoraFigures]]:
    """The figures of every scope and month: the organisation, each team and each service
    with deployments. ``deployments`` should reach back before the first month, so that
    the first deployments of it know whether they follow a failure."""
    wanted = set(months)
    days = {month: days_counted(month, now, zone) for month in months}
    incidents_by_deployment: dict[int, list[CausedIncident]] = defaultdict(list)
    for incident in caused:
        incidents_by_deployment[incident.deployment_id].append(incident)
    by_service: dict[int, list[DeploymentRecord]] = defaultdict(list)
    for deployment in deployments:
        by_service[deployment.service_id].append(deployment)

    figures: dict[Scope, dict[Month, DoraFigures]] = {}

    def cells(record: DeploymentRecord, month: Month) -> list[DoraFigures]:
        """The figures of the month for the organisation, the record's service and team."""
        found = []
        for scope in (
            ORGANISATION,
            ("service", record.service_id),
            ("team", record.team_id) if record.team_id is not None else None,
        ):
            if scope is None:
                continue
            months_of_scope = figures.setdefault(scope, {})
            cell = months_of_scope.get(month)
            if cell is None:
                cell = months_of_scope[month] = DoraFigures(days=days[month])
            found.append(cell)
        return found

    for records in by_service.values():
        records.sort(key=lambda record: (record.finished_at, record.id))
        previous_failed = False
        for index, record in enumerate(records):
            caused_incidents = incidents_by_deployment.get(record.id, ())
            succeeded = record.status == SUCCEEDED
            failed = not succeeded or bool(caused_incidents)
            if record.month in wanted:
                lead_time = (
                    record.finished_at - record.first_commit_at
                    if succeeded and record.first_commit_at is not None
                    else None
                )
                for figure in cells(record, record.month):
                    figure.deployments += 1
                    figure.successful += succeeded
                    figure.failures += failed
                    figure.rework += previous_failed
                    if lead_time is not None:
                        figure.lead_times.append(max(lead_time, 0.0))
            # Recoveries belong to the month the failure began in.
            recoveries: list[tuple[Month, float | None]] = []
            if caused_incidents:
                for incident in caused_incidents:
                    restored = incident.resolved_at
                    recoveries.append(
                        (
                            incident.month,
                            restored - incident.started_at if restored is not None else None,
                        )
                    )
            elif not succeeded:
                following = next(
                    (
                        records[later].finished_at
                        for later in range(index + 1, len(records))
                        if records[later].status == SUCCEEDED
                    ),
                    None,
                )
                recoveries.append(
                    (
                        record.month,
                        following - record.finished_at if following is not None else None,
                    )
                )
            for failure_month, seconds in recoveries:
                if failure_month not in wanted:
                    continue
                for figure in cells(record, failure_month):
                    if seconds is None:
                        figure.unrecovered += 1
                    else:
                        figure.recovery_times.append(max(seconds, 0.0))
            previous_failed = failed

    figures.setdefault(ORGANISATION, {})
    for scope_months in figures.values():
        for month in months:
            if month not in scope_months:
                scope_months[month] = DoraFigures(days=days[month])
        for figure in scope_months.values():
            figure.finish()
    return figures


def deployment_record(
    id: int,
    service_id: int,
    team_id: int | None,
    finished_at: datetime,
    status: str,
    first_commit_at: datetime | None = None,
    *,
    zone: ZoneInfo,
) -> DeploymentRecord:
    """A DeploymentRecord from datetimes (for callers holding them, and tests)."""
    return DeploymentRecord(
        id,
        service_id,
        team_id,
        finished_at.timestamp(),
        month_of(finished_at, zone),
        status,
        first_commit_at.timestamp() if first_commit_at else None,
    )


def caused_incident(
    deployment_id: int, started_at: datetime, resolved_at: datetime | None, *, zone: ZoneInfo
) -> CausedIncident:
    return CausedIncident(
        deployment_id,
        started_at.timestamp(),
        month_of(started_at, zone),
        resolved_at.timestamp() if resolved_at else None,
    )
