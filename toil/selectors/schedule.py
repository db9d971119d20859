"""Reads for scheduling changes: what a change's window runs into (freezes, other changes,
budget freezes, open incidents) and the calendar of changes and freezes: each a fixed number of
queries."""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from incidents.selectors import incidents as incident_selectors
from portal.links import link
from services.selectors import catalog as catalog_selectors
from services.selectors import slos as slo_selectors
from toil import freezes, gate
from toil.choices.changes import ACTIVE_STATUSES, ChangeStatus
from toil.models.changes import ChangeRequest, FreezeWindow
from toil.selectors.freezes import freeze_covers, freezes_overlapping, freezes_reaching_q


@dataclass(frozen=True)
class Conflict:
    code: str  # freeze, change, budget_freeze, incident
    message: str
    url: str
    freeze_id: int | None = None


def _at(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def change_conflicts(change: ChangeRequest, *, now: dt.datetime) -> list[Conflict]:
    """What scheduling the change would run into: a freeze over its window, another change to
    one of its services in the same window, a service whose budget policy tier freezes changes,
    an open SEV1/SEV2 incident on its services or what they depend on. Constant queries."""
    services = list(change.services.all())
    if not services:
        return []
    ids = [service.pk for service in services]
    names = {service.pk: service.name for service in services}
    found: list[Conflict] = []
    for freeze, start, end in freezes_overlapping(services, change.window_start, change.window_end):
        covered = ", ".join(sorted(names[pk] for pk in freeze_covers(freeze, services)))
        found.append(
            Conflict(
                "freeze",
                f"The freeze “{freeze.name}” ({_at(start)} to {_at(end)}) covers {covered}.",
                freeze.get_absolute_url(),
                freeze_id=freeze.pk,
            )
        )
    others = (
        ChangeRequest.objects.filter(
            services__in=ids,
            status__in=sorted(ACTIVE_STATUSES),
            window_start__lt=change.window_end,
            window_end__gt=change.window_start,
        )
        .exclude(pk=change.pk)
        .distinct()
        .order_by("window_start")
    )
    for other in others:
        found.append(
            Conflict(
                "change",
                f"Change #{other.pk} “{other.title}” ({other.get_status_display().lower()}) "
                f"touches the same services from {_at(other.window_start)} to "
                f"{_at(other.window_end)}.",
                other.get_absolute_url(),
            )
        )
    for rule in slo_selectors.slo_change_rules(ids):
        if rule.change_rule == gate.RULE_FREEZE:
            found.append(
                Conflict(
                    "budget_freeze",
                    f"{names[rule.service_id]}: the SLO “{rule.slo_name}” is in the "
                    f"{rule.tier_name} budget tier, which freezes changes.",
                    rule.url,
                )
            )
    dependencies = catalog_selectors.service_dependency_closure(ids)
    watched = set(ids).union(*dependencies.values())
    for incident in incident_selectors.open_incidents_on(watched):
        found.append(
            Conflict(
                "incident",
                f"{incident.reference} ({incident.severity}, “{incident.title}”) is open on "
                "these services or what they depend on.",
                incident.url,
            )
        )
    return found


#: The changes the calendar shows: all but drafts and rejected ones.
CALENDAR_STATUSES = [
    status for status in ChangeStatus if status not in (ChangeStatus.DRAFT, ChangeStatus.REJECTED)
]
#: Changes shown per day in the calendar; the day links to the rest.
CALENDAR_CHANGES_PER_DAY = 6


@dataclass(frozen=True)
class CalendarChange:
    pk: int
    title: str
    status: str
    status_label: str
    url: str


@dataclass
class CalendarDay:
    date: dt.date
    changes: list = field(default_factory=list)
    more: int = 0
    freezes: list = field(default_factory=list)  # (freeze, start, end)


def change_calendar(*, today: dt.date, days: int, zone: ZoneInfo) -> list[CalendarDay]:
    """The next ``days`` days from ``today`` in ``zone``: each day's changes (planned to run
    on it, drafts and rejected ones left out) and freezes in force on it. Two queries."""
    start = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    end = start + dt.timedelta(days=days)
    calendar = [CalendarDay(date=today + dt.timedelta(days=offset)) for offset in range(days)]
    # Plain rows rather than models: a fortnight of a large organisation's changes is
    # hundreds of them, of which the calendar shows a few a day.
    changes = (
        ChangeRequest.objects.filter(window_start__lt=end, window_end__gt=start)
        .filter(status__in=CALENDAR_STATUSES)
        .order_by("window_start", "pk")
        .values_list("pk", "title", "status", "window_start", "window_end")
    )
    labels = dict(ChangeStatus.choices)
    last_day = calendar[-1].date
    for pk, title, status, window_start, window_end in changes:
        first = max(window_start.astimezone(zone).date(), today)
        last_moment = window_end - dt.timedelta(microseconds=1)
        last = min(last_moment.astimezone(zone).date(), last_day)
        entry = None
        for offset in range((first - today).days, (last - today).days + 1):
            day = calendar[offset]
            if len(day.changes) < CALENDAR_CHANGES_PER_DAY:
                entry = entry or CalendarChange(
                    pk=pk,
                    title=title,
                    status=status,
                    status_label=labels[status],
                    url=link("change_detail", pk),
                )
                day.changes.append(entry)
            else:
                day.more += 1
    candidates = list(
        FreezeWindow.objects.filter(freezes_reaching_q(start, end)).select_related(
            "team", "service"
        )
    )
    for freeze in candidates:
        for occurrence_start, occurrence_end in freezes.occurrences(freeze.rule(), start, end):
            first = max(occurrence_start.astimezone(zone).date(), today)
            last_moment = occurrence_end - dt.timedelta(microseconds=1)
            last = min(last_moment.astimezone(zone).date(), calendar[-1].date)
            for offset in range((first - today).days, (last - today).days + 1):
                calendar[offset].freezes.append((freeze, occurrence_start, occurrence_end))
    return calendar
