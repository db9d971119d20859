"""Reads of the toil inventory for views, the API and reports, each a fixed number of queries,
and the monthly toil figures of teams (toil.roi.TeamMonthFigures): from the snapshots the
worker keeps, or computed from the records for the months it has not stored yet.

For the monthly report: ``team_toil_month(team, month)`` and ``toil_month_by_team(month)``
give per team and month the toil hours (estimated and measured), hours saved, processes
automated, automation coverage and whether the team is over the cap; ``org_toil_month(month)``
the organisation's.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from incidents.selectors.roles import incident_role_histories
from portal.roles import editable_team_ids, is_sre_lead
from portal.timezones import portal_zone
from services.choices import MembershipRole
from services.models.catalog import Membership, Service, Team
from toil import roi
from toil.attribution import IncidentRoles, incident_hours_by_team_month
from toil.choices.toil import ToilStatus
from toil.models.inventory import (
    TeamToilMonth,
    ToilEntry,
    ToilItem,
    organisation_today,
)

#: Months of history the team and organisation charts show.
CHART_MONTHS = 12


def current_month(now: datetime | None = None) -> date:
    return roi.month_start(organisation_today(now))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first and the following month's first moment, in the organisation's zone, as UTC."""
    zone = portal_zone()
    start = datetime(month.year, month.month, 1, tzinfo=zone).astimezone(UTC)
    following = roi.add_months(month, 1)
    end = datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def last_months(count: int = CHART_MONTHS, *, now: datetime | None = None) -> list[date]:
    """The first days of the last ``count`` months, this one included, oldest first."""
    this_month = current_month(now)
    return [roi.add_months(this_month, offset) for offset in range(1 - count, 1)]


# --- the inventory -----------------------------------------------------------------------------


def toil_item_rows() -> QuerySet[ToilItem]:
    """Items with their team, most worth automating first: what a list's rows show."""
    return ToilItem.objects.select_related("team").order_by("-roi_score", "task")


def toil_item_list() -> QuerySet[ToilItem]:
    """Items with their team and services, most worth automating first (the API's records)."""
    return toil_item_rows().prefetch_related(
        Prefetch("services", queryset=Service.objects.order_by("name"))
    )


def toil_item_detail() -> QuerySet[ToilItem]:
    return toil_item_list().select_related("created_by")


def toil_entry_list() -> QuerySet[ToilEntry]:
    """Logged time with its item, team and person, newest first."""
    return ToilEntry.objects.select_related("item__team", "user").order_by("-date", "-id")


def items_loggable_by(user) -> QuerySet[ToilItem]:
    """The items the user may log time against: their own teams' (every team's for an SRE
    lead), retired ones left out."""
    items = ToilItem.objects.select_related("team").exclude(status=ToilStatus.RETIRED)
    if not is_sre_lead(user):
        items = items.filter(team_id__in=editable_team_ids(user))
    return items.order_by("team__name", "task")


def teams_editable_by(user) -> QuerySet[Team]:
    teams = Team.objects.order_by("name")
    return teams if is_sre_lead(user) else teams.filter(pk__in=editable_team_ids(user))


def item_logged_minutes(item: ToilItem, *, since: date, until: date) -> int:
    """Minutes logged against the item on days in [since, until)."""
    return ToilEntry.objects.filter(item=item, date__gte=since, date__lt=until).aggregate(
        minutes=Coalesce(Sum("minutes"), 0)
    )["minutes"]


def item_hours_saved(item: ToilItem, *, now: datetime | None = None) -> float | None:
    """What the item's automation has saved so far, in hours: its baseline for each month
    since it was automated (part of the first) less the time still logged against it after
    the automation day. None for an item that is not automated."""
    if item.automated_on is None or item.baseline_monthly_hours is None:
        return None
    today = organisation_today(now)
    if today < item.automated_on:
        return 0.0
    tomorrow = today + timedelta(days=1)
    # The part of each month from the automation day to today.
    months = sum(
        roi.fraction_of_month_from(month, item.automated_on)
        - roi.fraction_of_month_from(month, tomorrow)
        for month in roi.months_between(item.automated_on, today)
    )
    # Time logged on the automation day itself was the last of the manual work.
    logged = item_logged_minutes(item, since=item.automated_on + timedelta(days=1), until=tomorrow)
    return roi.hours_saved(
        baseline_hours=item.baseline_monthly_hours,
        fraction_automated=months,
        logged_since=logged / 60,
    )


# --- monthly figures, computed from the records ------------------------------------------------


def _engineer_count() -> Coalesce:
    engineers = (
        Membership.objects.filter(team=OuterRef("pk"), role=MembershipRole.ENGINEER)
        .order_by()
        .values("team")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(engineers, output_field=IntegerField()), 0)


def _person_teams(people: Iterable[int]) -> dict[int, list[int]]:
    """Each person's teams in the order attribution prefers them: those they are an engineer
    of first, then by name."""
    rows = (
        Membership.objects.filter(user_id__in=set(people))
        .order_by("user_id", "team__name")
        .values_list("user_id", "team_id", "role")
    )
    teams: dict[int, list[tuple[int, int]]] = {}
    for person, team, role in rows:
        teams.setdefault(person, []).append((0 if role == MembershipRole.ENGINEER else 1, team))
    return {
        person: [team for _, team in sorted(choices, key=lambda choice: choice[0])]
        for person, choices in teams.items()
    }


def _incident_roles(start: datetime, end: datetime) -> list[IncidentRoles]:
    return [
        IncidentRoles(
            incident_id=history.incident_id,
            team_id=history.team_id,
            opened=history.started_at,
            closed=history.resolved_at,
            changes=tuple(
                (at, frozenset(person for person in holders if person is not None))
                for at, holders in history.holders
            ),
        )
        for history in incident_role_histories(start=start, end=end)
    ]


def toil_figures(
    months: Sequence[date], *, team_ids: Iterable[int] | None = None, now: datetime | None = None
) -> dict[tuple[int, date], roi.TeamMonthFigures]:
    """Each team's figures (every team's, or ``team_ids``') for each of ``months``, computed
    from the inventory, the logged time, the incidents and the memberships in eight queries
    whatever the number of teams and months."""
    now = now or timezone.now()
    months = sorted({roi.month_start(month) for month in months})
    if not months:
        return {}
    first, following = months[0], roi.add_months(months[-1], 1)
    wanted = set(months)
    teams = Team.objects.order_by("pk")
    if team_ids is not None:
        teams = teams.filter(pk__in=list(team_ids))
    team_rows = list(
        teams.annotate(
            engineers=_engineer_count(), hours=F("toil_capacity__hours_per_engineer")
        ).values_list("pk", "engineers", "hours")
    )
    ids = [pk for pk, _, _ in team_rows]
    default_hours = settings.TOIL_HOURS_PER_ENGINEER

    logged: dict[tuple[int, date], dict[str, float]] = {}
    entries = (
        ToilEntry.objects.filter(date__gte=first, date__lt=following, item__team_id__in=ids)
        .annotate(month=TruncMonth("date"))
        .order_by()
        .values_list("item__team_id", "month", "item__category")
        .annotate(minutes=Sum("minutes"))
    )
    for team_id, month, category, minutes in entries:
        by_category = logged.setdefault((team_id, month), {})
        by_category[category] = by_category.get(category, 0.0) + minutes / 60

    logged_since_automation: dict[tuple[int, date], float] = {}
    residual = ToilEntry.objects.filter(
        date__gte=first,
        date__lt=following,
        item__team_id__in=ids,
        item__automated_on__isnull=False,
    ).filter(date__gt=F("item__automated_on"))
    for team_id, month, minutes in (
        residual.annotate(month=TruncMonth("date"))
        .order_by()
        .values_list("item__team_id", "month")
        .annotate(minutes=Sum("minutes"))
    ):
        logged_since_automation[(team_id, month)] = minutes / 60

    tomorrow = organisation_today(now) + timedelta(days=1)
    estimated: dict[tuple[int, date], dict[str, float]] = {}
    automated_hours: dict[tuple[int, date], float] = {}
    saved_baseline: dict[tuple[int, date], float] = {}
    automated_count: dict[tuple[int, date], int] = {}
    items = (
        ToilItem.objects.filter(team_id__in=ids)
        .order_by()
        .values_list(
            "team_id",
            "category",
            "monthly_minutes",
            "automated_on",
            "baseline_monthly_hours",
            "retired_on",
        )
    )
    for team_id, category, minutes, automated_on, baseline, retired_on in items:
        ended = automated_on or retired_on
        for month in months:
            manual_fraction = 1.0 if ended is None else 1 - roi.fraction_of_month_from(month, ended)
            if manual_fraction > 0:
                by_category = estimated.setdefault((team_id, month), {})
                by_category[category] = (
                    by_category.get(category, 0.0) + minutes / 60 * manual_fraction
                )
            if automated_on is not None:
                fraction = roi.fraction_of_month_from(month, automated_on)
                if fraction > 0:
                    key = (team_id, month)
                    automated_hours[key] = automated_hours.get(key, 0.0) + (baseline or 0.0) * (
                        fraction
                    )
                    # Savings accrue day by day: this month's only up to today.
                    elapsed = fraction - roi.fraction_of_month_from(month, tomorrow)
                    saved_baseline[key] = saved_baseline.get(key, 0.0) + (baseline or 0.0) * max(
                        elapsed, 0.0
                    )
                if roi.month_start(automated_on) == month:
                    automated_count[(team_id, month)] = automated_count.get((team_id, month), 0) + 1

    span_start, _ = month_bounds(first)
    _, span_end = month_bounds(months[-1])
    incidents = _incident_roles(span_start, min(span_end, now)) if span_start < now else []
    people = {person for incident in incidents for _, held in incident.changes for person in held}
    incident_hours = incident_hours_by_team_month(
        incidents, _person_teams(people), now=now, zone=portal_zone()
    )

    cap = settings.TOIL_CAP_PERCENT
    figures = {}
    for team_id, engineers, hours in team_rows:
        for month in wanted:
            key = (team_id, month)
            figures[key] = roi.team_month_figures(
                month,
                roi.TeamMonthInputs(
                    engineers=engineers,
                    hours_per_engineer=float(hours or default_hours),
                    estimated_by_category=estimated.get(key, {}),
                    logged_by_category=logged.get(key, {}),
                    incident_hours=incident_hours.get(key, 0.0),
                    hours_saved=roi.hours_saved(
                        baseline_hours=saved_baseline.get(key, 0.0),
                        fraction_automated=1.0,
                        logged_since=logged_since_automation.get(key, 0.0),
                    ),
                    processes_automated=automated_count.get(key, 0),
                    automated_hours=automated_hours.get(key, 0.0),
                ),
                cap_percent=cap,
            )
    return figures


# --- monthly figures, as pages and reports read them -------------------------------------------


@dataclass(frozen=True)
class TeamToilFigures:
    """A team's (or, with ``team`` None, the organisation's) toil in a month, and when the
    worker computed it: None when it was computed for this request because the worker has
    not stored it yet."""

    team: Team | None
    figures: roi.TeamMonthFigures
    computed_at: datetime | None


def stored_team_toil_month(team: Team, month: date) -> TeamToilFigures | None:
    """The team's figures for ``month`` as the worker stored them, in one query; None before."""
    snapshot = TeamToilMonth.objects.filter(team=team, month=roi.month_start(month)).first()
    if snapshot is None:
        return None
    return TeamToilFigures(team, snapshot.figures(), snapshot.computed_at)


def team_toil_month(team: Team, month: date, *, now: datetime | None = None) -> TeamToilFigures:
    """The team's toil figures for ``month`` (any day of it): the worker's snapshot in one
    query, else computed from the records (nothing is stored)."""
    month = roi.month_start(month)
    stored = stored_team_toil_month(team, month)
    if stored is not None:
        return stored
    figures = toil_figures([month], team_ids=[team.pk], now=now)[(team.pk, month)]
    return TeamToilFigures(team, figures, None)


def team_toil_months(
    team: Team, months: Sequence[date], *, now: datetime | None = None
) -> list[TeamToilFigures]:
    """The team's figures for each of ``months``, oldest first: snapshots in one query, the
    months the worker has not stored computed together."""
    months = sorted({roi.month_start(month) for month in months})
    snapshots = {
        snapshot.month: snapshot
        for snapshot in TeamToilMonth.objects.filter(team=team, month__in=months)
    }
    missing = [month for month in months if month not in snapshots]
    computed = toil_figures(missing, team_ids=[team.pk], now=now) if missing else {}
    return [
        TeamToilFigures(team, snapshots[month].figures(), snapshots[month].computed_at)
        if month in snapshots
        else TeamToilFigures(team, computed[(team.pk, month)], None)
        for month in months
    ]


def toil_month_by_team(month: date, *, now: datetime | None = None) -> dict[int, TeamToilFigures]:
    """Every team's figures for ``month``, by team id (teams by name): snapshots, and the
    teams the worker has not stored computed together."""
    month = roi.month_start(month)
    teams = list(Team.objects.order_by("name"))
    snapshots = {
        snapshot.team_id: snapshot
        for snapshot in TeamToilMonth.objects.filter(month=month, team__isnull=False)
    }
    missing = [team.pk for team in teams if team.pk not in snapshots]
    computed = toil_figures([month], team_ids=missing, now=now) if missing else {}
    result = {}
    for team in teams:
        snapshot = snapshots.get(team.pk)
        if snapshot is not None:
            result[team.pk] = TeamToilFigures(team, snapshot.figures(), snapshot.computed_at)
        else:
            result[team.pk] = TeamToilFigures(team, computed[(team.pk, month)], None)
    return result


def org_toil_months(months: Sequence[date], *, now: datetime | None = None):
    """The organisation's figures for each of ``months``, oldest first: its snapshots, and the
    sum of every team's figures for the months not stored yet."""
    months = sorted({roi.month_start(month) for month in months})
    snapshots = {
        snapshot.month: snapshot
        for snapshot in TeamToilMonth.objects.filter(team__isnull=True, month__in=months)
    }
    missing = [month for month in months if month not in snapshots]
    computed = toil_figures(missing, now=now) if missing else {}
    cap = settings.TOIL_CAP_PERCENT
    result = []
    for month in months:
        if month in snapshots:
            snapshot = snapshots[month]
            result.append(TeamToilFigures(None, snapshot.figures(), snapshot.computed_at))
        else:
            teams = [figures for (_, key), figures in computed.items() if key == month]
            result.append(
                TeamToilFigures(None, roi.sum_figures(month, teams, cap_percent=cap), None)
            )
    return result


def org_toil_month(month: date, *, now: datetime | None = None) -> TeamToilFigures:
    return org_toil_months([month], now=now)[0]


def team_month_snapshots(month: date) -> QuerySet[TeamToilMonth]:
    """The stored figures of every team for ``month``, with the team: for the teams' list."""
    return TeamToilMonth.objects.filter(
        month=roi.month_start(month), team__isnull=False
    ).select_related("team")


def teams_without_figures(month: date) -> int:
    """How many teams the worker has not computed ``month`` for yet (new teams)."""
    stored = TeamToilMonth.objects.filter(month=roi.month_start(month), team=OuterRef("pk"))
    return Team.objects.exclude(Exists(stored)).count()


def toil_report_rows(month: date) -> list[dict]:
    """Every team's toil of ``month`` as the monthly report's rows (portal.reports.adapters
    ``team_rows``): hours, the share of capacity in percent and whether it is over the cap.
    Teams with no toil recorded, estimated or measured, are left out."""
    rows = []
    for team_id, toil in toil_month_by_team(month).items():
        figures = toil.figures
        if not (figures.estimated_hours or figures.measured_hours):
            continue
        rows.append(
            {
                "team_id": team_id,
                "estimated_hours": figures.estimated_hours,
                "measured_hours": figures.measured_hours,
                "share": figures.share,
                "hours_saved": figures.hours_saved,
                "over_cap": figures.over_cap,
            }
        )
    return rows
