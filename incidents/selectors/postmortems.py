"""Reads of post-mortems and action items for views, the API, reminders and reports: each a
fixed number of queries."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from incidents.choices import ACTION_ITEM_PENDING_STATUSES, OPEN_STATUSES, PostMortemStatus
from incidents.models.incidents import Incident
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.postmortems import BudgetImpact, allowed_bad_events
from incidents.selectors.incidents import service_links_of
from portal.timezones import portal_today
from services.budget.windows import align_down, window_bounds
from services.models.catalog import Service, Team
from services.models.slos import SLO
from services.selectors.slos import slo_events_between


def postmortem_detail() -> QuerySet[PostMortem]:
    """A post-mortem with everything its page and permission checks read, in constant queries."""
    return PostMortem.objects.select_related("incident", "author").prefetch_related(
        Prefetch("incident__services", queryset=Service.objects.select_related("owner_team")),
        Prefetch("reviewers", queryset=get_user_model().objects.order_by("username")),
        "contributors",
        Prefetch(
            "action_items",
            queryset=ActionItem.objects.select_related("owner").order_by("due_date", "id"),
        ),
    )


def postmortem_list() -> QuerySet[PostMortem]:
    """Post-mortems for lists and the API, with their incident and people in constant queries."""
    return (
        PostMortem.objects.select_related("incident", "author")
        .prefetch_related(
            Prefetch("incident__services", queryset=Service.objects.order_by("name")),
            Prefetch("reviewers", queryset=get_user_model().objects.order_by("username")),
        )
        .annotate(open_action_item_count=_pending_action_item_count())
    )


def with_service_names(postmortems: Iterable[PostMortem]) -> list[PostMortem]:
    """The post-mortems, each with `service_names`: its incident's services' names in name
    order, in one query (incidents.selectors.incidents.service_links_of). At 25 rows a
    prefetch of the services cost two and a half times the CPU."""
    postmortems = list(postmortems)
    links = service_links_of(postmortem.incident_id for postmortem in postmortems)
    for postmortem in postmortems:
        postmortem.service_names = [name for _, name in links[postmortem.incident_id]]
    return postmortems


def _pending_action_item_count() -> Coalesce:
    """A correlated count: unlike Count() over a join it needs no GROUP BY, which would
    clash with the full-text search's annotations, and a paginator's COUNT(*) leaves it out."""
    pending = (
        ActionItem.objects.filter(
            postmortem=OuterRef("pk"), status__in=ACTION_ITEM_PENDING_STATUSES
        )
        .order_by()
        .values("postmortem")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(pending, output_field=IntegerField()), 0)


def action_item_list() -> QuerySet[ActionItem]:
    """Action items with their post-mortem, incident, its team and owner (for lists and
    permission checks) in constant queries."""
    return ActionItem.objects.select_related(
        "owner", "postmortem__incident__team", "postmortem__author"
    ).prefetch_related("postmortem__incident__services")


def overdue_action_items_q(today: dt.date | None = None) -> Q:
    """Pending items whose due date has passed (in the portal's zone): the query form of
    ActionItem.is_overdue."""
    return Q(status__in=ACTION_ITEM_PENDING_STATUSES, due_date__lt=today or portal_today())


def postmortem_budget_impact(postmortem: PostMortem) -> list[BudgetImpact]:
    """For each SLO of the incident's affected services, the error budget the incident
    spent (incidents.postmortems.BudgetImpact), from the SLI data services keeps: one query
    for the SLOs, one for their events during the incident, one per distinct SLO window.

    The incident's events are those of the buckets starting in [started, resolved); the SLO
    window is the SLO's window at resolution, reaching at least to the resolution so that the
    incident's own events count in it. Maintenance is left out of both, as it is of every SLO
    figure. Timeslice SLOs are measured in events here too: an incident rarely lines up with
    slices.
    """
    incident = postmortem.incident
    service_ids = [service.pk for service in incident.services.all()]
    if not service_ids or incident.resolved_at is None:
        return []
    slos = list(
        SLO.objects.filter(service_id__in=service_ids)
        .select_related("service")
        .order_by("service__name", "name")
    )
    if not slos:
        return []
    incident_end = incident.resolved_at
    during = slo_events_between(
        slo_ids=[slo.pk for slo in slos], start=align_down(incident.started_at), end=incident_end
    )
    windows: dict[tuple, list[int]] = {}
    for slo in slos:
        window_start, window_end = window_bounds(
            incident_end, kind=slo.window_kind, days=slo.window_days, tz=slo.time_zone
        )
        windows.setdefault((window_start, max(window_end, incident_end)), []).append(slo.pk)
    in_window = {}
    for (window_start, window_end), slo_ids in windows.items():
        in_window |= slo_events_between(slo_ids=slo_ids, start=window_start, end=window_end)
    impacts = []
    for slo in slos:
        bad, total = during[slo.pk]
        impacts.append(
            BudgetImpact(
                slo=slo,
                bad_events=bad,
                allowed_bad=allowed_bad_events(slo.objective, in_window[slo.pk][1]),
                has_data=total > 0,
            )
        )
    return impacts


# --- for reminders and reports ------------------------------------------------------------------


def action_items_due_by(
    day: dt.date, *, owner=None, team_ids: Iterable[int] | None = None
) -> QuerySet[ActionItem]:
    """Pending action items due on ``day`` or before (overdue ones included), with their owner
    and incident, in one query; only ``owner``'s, or those of incidents of ``team_ids``, when
    given."""
    items = ActionItem.objects.filter(status__in=ACTION_ITEM_PENDING_STATUSES, due_date__lte=day)
    if owner is not None:
        items = items.filter(owner=owner)
    if team_ids is not None:
        items = items.filter(postmortem__incident__team_id__in=list(team_ids))
    return items.select_related("owner", "postmortem__incident").order_by("due_date", "pk")


def postmortems_past_due(
    now: dt.datetime, *, team_ids: Iterable[int] | None = None, writer=None
) -> QuerySet[PostMortem]:
    """Unpublished post-mortems whose due time has passed (of incidents of ``team_ids``, or
    written by ``writer`` as author or the incident's commander, when given), with their
    incident, its commander and the author, in one query."""
    postmortems = PostMortem.objects.exclude(status=PostMortemStatus.PUBLISHED).filter(
        due_at__lt=now
    )
    if team_ids is not None:
        postmortems = postmortems.filter(incident__team_id__in=list(team_ids))
    if writer is not None:
        # The commander's incidents as a subquery on its own index: an OR across the join
        # made PostgreSQL read every incident to find them.
        commanded = Incident.objects.filter(commander=writer).values("pk")
        postmortems = postmortems.filter(Q(author=writer) | Q(incident__in=commanded))
    return postmortems.select_related("incident__commander", "author").order_by("due_at", "pk")


def postmortems_awaiting_review(user) -> QuerySet[PostMortem]:
    """Post-mortems in review with ``user`` among their reviewers, oldest due first, with their
    incident, in one query."""
    return (
        PostMortem.objects.filter(status=PostMortemStatus.IN_REVIEW, reviewers=user)
        .select_related("incident")
        .order_by("due_at", "pk")
    )


def team_follow_up_counts(team: Team, *, now: dt.datetime, today: dt.date) -> dict[str, int]:
    """The team's open incidents, its post-mortems past due and its overdue action items (of
    its incidents), in one query."""

    def counted(queryset, group: str) -> Coalesce:
        rows = queryset.order_by().values(group).annotate(count=Count("*")).values("count")
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    open_incidents = Incident.objects.filter(team=OuterRef("pk"), status__in=OPEN_STATUSES)
    past_due = postmortems_past_due(now).filter(incident__team=OuterRef("pk"))
    overdue = ActionItem.objects.filter(
        overdue_action_items_q(today), postmortem__incident__team=OuterRef("pk")
    )
    return (
        Team.objects.filter(pk=team.pk)
        .values(
            open_incidents=counted(open_incidents, "team"),
            postmortems_past_due=counted(past_due, "incident__team"),
            overdue_action_items=counted(overdue, "postmortem__incident__team"),
        )
        .get()
    )


@dataclass(frozen=True)
class FollowUpFigures:
    """Post-mortems and action items of a period: published in it, overdue at its end; items
    opened and closed in it, and pending past their due date at its end."""

    postmortems_published: int
    postmortems_overdue: int
    action_items_opened: int
    action_items_closed: int
    action_items_overdue: int


def follow_up_figures(
    *, start: dt.datetime, end: dt.datetime, last_day: dt.date, team: Team | None = None
) -> FollowUpFigures:
    """The FollowUpFigures of [start, end) (``last_day`` its last day, where overdue items are
    counted), the organisation's or a team's, in two queries. "Overdue at the end" reads the
    records as they are now: an item closed after the period but due within it counts only
    if it was closed after ``end``."""
    postmortems = PostMortem.objects.order_by()
    items = ActionItem.objects.order_by()
    if team is not None:
        postmortems = postmortems.filter(incident__team=team)
        items = items.filter(postmortem__incident__team=team)
    published_in = Q(published_at__gte=start, published_at__lt=end)
    not_published_by_end = Q(published_at=None) | Q(published_at__gte=end)
    pm = postmortems.aggregate(
        published=Count("pk", filter=published_in),
        overdue=Count("pk", filter=Q(due_at__lt=end) & not_published_by_end),
    )
    pending_at_end = Q(status__in=ACTION_ITEM_PENDING_STATUSES) | Q(completed_at__gte=end)
    ai = items.aggregate(
        opened=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
        closed=Count("pk", filter=Q(completed_at__gte=start, completed_at__lt=end)),
        overdue=Count(
            "pk",
            filter=pending_at_end
            & Q(due_date__lt=last_day + dt.timedelta(days=1))
            & Q(created_at__lt=end),
        ),
    )
    return FollowUpFigures(
        postmortems_published=pm["published"],
        postmortems_overdue=pm["overdue"],
        action_items_opened=ai["opened"],
        action_items_closed=ai["closed"],
        action_items_overdue=ai["overdue"],
    )
