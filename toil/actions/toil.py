"""Writes to the toil inventory: items, logged time, team capacity, spreadsheet imports, and
the monthly figures the worker keeps (toil.models.inventory.TeamToilMonth).

Every change that moves a team's figures marks the months it touches dirty (an upsert, in the
same transaction) and rings the recompute once committed; the recompute does each dirty month
once, however many changes marked it, and the sweep picks up marks whose ring was lost.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal import doorbell
from portal.roles import can_edit_team_records
from services.models.catalog import Service, Team
from toil import roi
from toil.choices.toil import CHARACTERISTIC_FIELDS, ToilStatus
from toil.models.inventory import (
    MAX_SERVICES_PER_ITEM,
    TeamToilCapacity,
    TeamToilMonth,
    TeamToilMonthDirty,
    ToilEntry,
    ToilItem,
    organisation_today,
)
from toil.selectors.toil import CHART_MONTHS, current_month, month_bounds, toil_figures
from toil.spreadsheet import SpreadsheetRow
from toil.tasks import toil as tasks

logger = logging.getLogger(__name__)

#: Seconds the recompute waits after a change, so that a burst of changes is one recompute.
RECOMPUTE_DELAY_SECONDS = 10

#: The fields toil_item_create and toil_item_update set directly.
ITEM_FIELDS = frozenset(
    {
        "task",
        "description",
        "category",
        "frequency",
        "frequency_unit",
        "minutes_each",
        "automation_potential",
        "automation_effort_hours",
        "automation_url",
        *CHARACTERISTIC_FIELDS,
    }
)


# --- dirty months ------------------------------------------------------------------------------


def toil_months_mark_dirty(*, team_ids: Iterable[int], months: Iterable[date]) -> int:
    """Mark the teams' months for recompute and ring it once this transaction commits."""
    now = timezone.now()
    marks = [
        TeamToilMonthDirty(team_id=team_id, month=roi.month_start(month), marked_at=now)
        for team_id in set(team_ids)
        for month in {roi.month_start(month) for month in months}
    ]
    if not marks:
        return 0
    TeamToilMonthDirty.objects.bulk_create(
        marks,
        update_conflicts=True,
        unique_fields=["team", "month"],
        update_fields=["marked_at"],
    )
    doorbell.ring_on_commit(tasks.recompute_dirty_toil_months, countdown=RECOMPUTE_DELAY_SECONDS)
    return len(marks)


def _months_from(day: date, *, now: datetime | None = None) -> list[date]:
    """The months from ``day``'s to this one, at most the charts' year."""
    this_month = current_month(now)
    first = max(roi.month_start(day), roi.add_months(this_month, 1 - CHART_MONTHS))
    return roi.months_between(first, this_month) if first <= this_month else []


# --- the inventory -----------------------------------------------------------------------------


def _check_services(services: Sequence[Service]) -> None:
    if len(services) > MAX_SERVICES_PER_ITEM:
        raise ValidationError(
            {"services": f"A toil item concerns at most {MAX_SERVICES_PER_ITEM} services."}
        )


@transaction.atomic
def toil_item_create(
    *, team: Team, services: Iterable[Service] = (), created_by=None, **fields
) -> ToilItem:
    unknown = set(fields) - ITEM_FIELDS - {"status"}
    if unknown:
        raise TypeError(f"toil_item_create does not take {', '.join(sorted(unknown))}")
    status = fields.pop("status", ToilStatus.MANUAL)
    services = list(services)
    _check_services(services)
    item = ToilItem(team=team, created_by=created_by, **fields)
    item.full_clean()
    item.save()
    item.services.set(services)
    if status != ToilStatus.MANUAL:
        _set_status(item, status, on=None)
        item.full_clean()
        item.save()
    toil_months_mark_dirty(team_ids=[team.pk], months=[current_month()])
    return ToilItem.objects.get(pk=item.pk)


def _baseline(item: ToilItem, on: date) -> float:
    """The item's monthly hours before ``on``: from the whole months of logged time before
    it (at most BASELINE_MONTHS), else its estimate."""
    automation_month = roi.month_start(on)
    since = roi.add_months(automation_month, -roi.BASELINE_MONTHS)
    logged = ToilEntry.objects.filter(item=item, date__gte=since, date__lt=automation_month)
    first = logged.order_by("date").values_list("date", flat=True).first()
    minutes = sum(logged.values_list("minutes", flat=True))
    months = len(roi.months_between(first, roi.add_months(automation_month, -1))) if first else 0
    return roi.baseline_monthly_hours(
        estimated_hours=item.monthly_hours,
        logged_hours_before=minutes / 60 if minutes else None,
        months_logged=months,
    )


def _set_status(item: ToilItem, status: str, *, on: date | None) -> list[date]:
    """Move the item to ``status``, keeping the dates and baseline that go with it; returns
    the months whose figures change."""
    if status not in ToilStatus.values:
        raise ValidationError({"status": f"“{status}” is not a status of a toil item."})
    today = organisation_today()
    on = on or today
    if on > today:
        raise ValidationError({"automated_on": "Choose a day that has come already."})
    touched = [current_month()]
    previous_day = item.automated_on or item.retired_on
    if previous_day is not None:
        touched += _months_from(previous_day)
    item.automated_on = item.baseline_monthly_hours = item.retired_on = None
    if status == ToilStatus.AUTOMATED:
        item.automated_on = on
        item.baseline_monthly_hours = _baseline(item, on)
        touched += _months_from(on)
    elif status == ToilStatus.RETIRED:
        item.retired_on = on
        touched += _months_from(on)
    item.status = status
    return touched


@transaction.atomic
def toil_item_update(
    *,
    item: ToilItem,
    services: Iterable[Service] | None = None,
    automated_on: date | None = None,
    **fields,
) -> ToilItem:
    """Change the item's description, estimate or status. Becoming automated stores the day
    (``automated_on``, today by default) and the baseline its savings are measured against;
    leaving it clears them. The team stays: move the work by retiring it here and adding it
    to the other team."""
    if "team" in fields and fields.pop("team").pk != item.team_id:
        raise ValidationError(
            {"team": "A toil item stays with its team: retire it and add it to the other."}
        )
    unknown = set(fields) - ITEM_FIELDS - {"status"}
    if unknown:
        raise TypeError(f"toil_item_update does not take {', '.join(sorted(unknown))}")
    ToilItem.objects.select_for_update().filter(pk=item.pk).values_list("pk").get()
    item.refresh_from_db()
    status = fields.pop("status", item.status)
    for name, value in fields.items():
        setattr(item, name, value)
    touched = [current_month()]
    if status != item.status or (
        status == ToilStatus.AUTOMATED and automated_on and automated_on != item.automated_on
    ):
        touched += _set_status(item, status, on=automated_on)
    item.full_clean()
    item.save()
    if services is not None:
        services = list(services)
        _check_services(services)
        item.services.set(services)
    toil_months_mark_dirty(team_ids=[item.team_id], months=touched)
    return ToilItem.objects.get(pk=item.pk)


@transaction.atomic
def toil_item_delete(*, item: ToilItem) -> None:
    """Delete an item no one has logged time against; one with logged time is retired
    instead, so that the time keeps its meaning."""
    if item.entries.exists():
        raise ValidationError(
            "Time is logged against this item: retire it instead, so the time keeps its task."
        )
    team_id = item.team_id
    item.delete()
    toil_months_mark_dirty(team_ids=[team_id], months=[current_month()])


# --- logged time -------------------------------------------------------------------------------


def _check_may_log(user, item: ToilItem) -> None:
    if not can_edit_team_records(user, item.team_id):
        raise ValidationError(
            {"item": "You log time only against the toil items of your own teams."}
        )
    if item.status == ToilStatus.RETIRED:
        raise ValidationError({"item": "This item is retired: no more time goes against it."})


@transaction.atomic
def toil_entry_log(*, item: ToilItem, user, date: date, minutes: int, note: str = "") -> ToilEntry:
    """Record time ``user`` spent on a toil item of one of their teams."""
    _check_may_log(user, item)
    entry = ToilEntry(item=item, user=user, date=date, minutes=minutes, note=note.strip())
    entry.full_clean()
    entry.save()
    toil_months_mark_dirty(team_ids=[item.team_id], months=[date])
    return entry


@transaction.atomic
def toil_entry_update(*, entry: ToilEntry, by, **fields) -> ToilEntry:
    unknown = set(fields) - {"item", "date", "minutes", "note"}
    if unknown:
        raise TypeError(f"toil_entry_update does not take {', '.join(sorted(unknown))}")
    touched = {(entry.item.team_id, entry.date)}
    if "item" in fields and fields["item"].pk != entry.item_id:
        _check_may_log(by, fields["item"])
    for name, value in fields.items():
        setattr(entry, name, value.strip() if name == "note" else value)
    entry.full_clean()
    entry.save()
    touched.add((entry.item.team_id, entry.date))
    for team_id, day in touched:
        toil_months_mark_dirty(team_ids=[team_id], months=[day])
    return entry


@transaction.atomic
def toil_entry_delete(*, entry: ToilEntry) -> None:
    team_id, day = entry.item.team_id, entry.date
    entry.delete()
    toil_months_mark_dirty(team_ids=[team_id], months=[day])


# --- capacity ----------------------------------------------------------------------------------


@transaction.atomic
def team_capacity_set(*, team: Team, hours_per_engineer: int | None) -> TeamToilCapacity | None:
    """Set the team's working hours per engineer per month; None goes back to the default."""
    if hours_per_engineer is None:
        TeamToilCapacity.objects.filter(team=team).delete()
        capacity = None
    else:
        capacity = TeamToilCapacity(team=team, hours_per_engineer=hours_per_engineer)
        capacity.full_clean(validate_unique=False)
        capacity.save()
    toil_months_mark_dirty(team_ids=[team.pk], months=[current_month()])
    return capacity


# --- spreadsheets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


@transaction.atomic
def toil_import(*, team: Team, rows: Sequence[SpreadsheetRow], by=None) -> ImportResult:
    """Bring a spreadsheet's rows (toil.spreadsheet.read_toil_csv) into the team's inventory:
    a task the team already has (by name, whatever the case) is updated, a new one created.
    All or nothing: a row the inventory refuses stops the import, naming its row and field."""
    existing = {item.task.lower(): item for item in ToilItem.objects.filter(team=team)}
    created = updated = 0
    for row in rows:
        fields = {
            "task": row.task,
            "frequency": row.frequency,
            "frequency_unit": row.frequency_unit,
            "minutes_each": row.minutes_each,
            "automation_potential": row.automation_potential,
        }
        if row.category is not None:
            fields["category"] = row.category
        if row.description is not None:
            fields["description"] = row.description
        item = existing.get(row.task.lower())
        try:
            if item is None:
                item = ToilItem(team=team, created_by=by, **fields)
                created += 1
            else:
                for name, value in fields.items():
                    setattr(item, name, value)
                updated += 1
            item.full_clean()
            item.save()
        except ValidationError as error:
            messages = "; ".join(
                f"{field}: {' '.join(problems)}"
                for field, problems in getattr(error, "message_dict", {"": error.messages}).items()
            )
            raise ValidationError(f"Row {row.row}: {messages}") from error
        existing[row.task.lower()] = item
    toil_months_mark_dirty(team_ids=[team.pk], months=[current_month()])
    return ImportResult(created=created, updated=updated)


# --- the monthly figures -----------------------------------------------------------------------


def _figure_values(figures: roi.TeamMonthFigures) -> dict:
    return {name: getattr(figures, name) for name in TeamToilMonth.FIGURES}


def toil_months_store(
    *, months: Iterable[date], team_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Compute and store the figures of the teams (every team by default) for ``months``, and
    the organisation's for those months. Teams without stored figures for a month are
    computed with them, so the organisation's sum is whole. Returns how many rows were
    written."""
    now = now or timezone.now()
    months = sorted({roi.month_start(month) for month in months})
    all_teams = set(Team.objects.values_list("pk", flat=True))
    wanted = all_teams if team_ids is None else set(team_ids) & all_teams
    stored = set(
        TeamToilMonth.objects.filter(month__in=months, team__isnull=False).values_list(
            "team_id", "month"
        )
    )
    by_teams: dict[frozenset[int], list[date]] = {}
    for month in months:
        teams = wanted | {team for team in all_teams if (team, month) not in stored}
        by_teams.setdefault(frozenset(teams), []).append(month)
    written = 0
    for teams, group in by_teams.items():
        figures = toil_figures(group, team_ids=teams, now=now)
        snapshots = [
            TeamToilMonth(team_id=team_id, computed_at=now, **_figure_values(values))
            for (team_id, _), values in figures.items()
        ]
        with transaction.atomic():
            TeamToilMonth.objects.bulk_create(
                snapshots,
                update_conflicts=True,
                unique_fields=["team", "month"],
                update_fields=["computed_at", *TeamToilMonth.FIGURES],
                batch_size=1000,
            )
            written += len(snapshots)
            for month in group:
                written += _store_organisation_month(month, now=now)
    return written


def _store_organisation_month(month: date, *, now: datetime) -> int:
    teams = [
        snapshot.figures()
        for snapshot in TeamToilMonth.objects.filter(month=month, team__isnull=False)
    ]
    total = roi.sum_figures(month, teams, cap_percent=settings.TOIL_CAP_PERCENT)
    # An upsert cannot name the organisation's partial unique constraint: its row goes alone.
    TeamToilMonth.objects.update_or_create(
        team=None, month=month, defaults={"computed_at": now, **_figure_values(total)}
    )
    return 1


def toil_months_recompute_dirty(*, now: datetime | None = None) -> int:
    """Recompute every month marked dirty, each once, and clear the marks that were not
    marked again meanwhile (those stay for the next run). Returns how many marks were done."""
    marks = list(TeamToilMonthDirty.objects.values_list("pk", "team_id", "month", "marked_at"))
    if not marks:
        return 0
    teams_by_month: dict[date, set[int]] = {}
    for _, team_id, month, _ in marks:
        teams_by_month.setdefault(month, set()).add(team_id)
    by_teams: dict[frozenset[int], list[date]] = {}
    for month, teams in teams_by_month.items():
        by_teams.setdefault(frozenset(teams), []).append(month)
    for teams, months in by_teams.items():
        toil_months_store(months=months, team_ids=teams, now=now)
    done = 0
    for start in range(0, len(marks), 500):
        unchanged = Q(pk__in=[])
        for pk, _, _, marked_at in marks[start : start + 500]:
            unchanged |= Q(pk=pk, marked_at=marked_at)
        deleted, _ = TeamToilMonthDirty.objects.filter(unchanged).delete()
        done += deleted
    return done


def toil_months_refresh(*, now: datetime | None = None) -> int:
    """What beat runs every few minutes: the current month of every team (its figures move
    with the clock while incidents are open and automation saves), the previous month once
    more after it ended, and any month of the last year never computed. Returns rows written."""
    now = now or timezone.now()
    this_month = current_month(now)
    previous = roi.add_months(this_month, -1)
    months = {this_month}
    _previous_start, previous_end = month_bounds(previous)
    if TeamToilMonth.objects.filter(month=previous, computed_at__lt=previous_end).exists():
        months.add(previous)
    year = [roi.add_months(this_month, offset) for offset in range(1 - CHART_MONTHS, 1)]
    team_count = Team.objects.count()
    for month in year:
        if TeamToilMonth.objects.filter(month=month, team__isnull=False).count() < team_count:
            months.add(month)
    return toil_months_store(months=sorted(months), now=now)


# --- what other apps' records change -----------------------------------------------------------


def incident_saved(sender, instance, **kwargs) -> None:
    """An incident changed (roles, times, status): the months it spans are dirty for every
    team, since whoever held or holds a role may be in any team."""
    end = instance.resolved_at or timezone.now()
    start = min(instance.started_at, end)
    first = organisation_today(start)
    last = organisation_today(end)
    months = [month for month in roi.months_between(first, last) if month in _months_from(first)]
    if not months:
        return
    toil_months_mark_dirty(team_ids=Team.objects.values_list("pk", flat=True), months=months)


def membership_changed(sender, instance, origin=None, **kwargs) -> None:
    """A team's engineers changed: its capacity this month did too. Not when the team itself
    is being deleted (``origin``): a mark written then would outlive its team."""
    if isinstance(origin, Team) or (origin is not None and getattr(origin, "model", None) is Team):
        return
    toil_months_mark_dirty(team_ids=[instance.team_id], months=[current_month()])
