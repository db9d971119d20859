"""Reads of freeze windows: which reach a span, which cover which services, and whether a
service is frozen now: each a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet

from portal.prepared import prepared
from services.models.catalog import Service
from toil import freezes
from toil.choices.changes import FreezeScope
from toil.models.changes import FreezeWindow

User = get_user_model()


def freeze_list() -> QuerySet[FreezeWindow]:
    return FreezeWindow.objects.select_related("team", "service", "created_by").prefetch_related(
        Prefetch("overriders", queryset=User.objects.order_by("username"))
    )


def freezes_reaching_q(start: dt.datetime, end: dt.datetime) -> Q:
    """Freezes that may have an occurrence overlapping [start, end): one-off ones that do, and
    repeating ones that have begun by ``end`` (their rule says the rest)."""
    return Q(recurrence="", start__lt=end, end__gt=start) | (~Q(recurrence="") & Q(start__lt=end))


def freezes_over_q(services) -> Q:
    return _freezes_over_q(
        service_ids=[service.pk for service in services],
        team_ids={service.owner_team_id for service in services},
    )


def _freezes_over_q(*, service_ids, team_ids) -> Q:
    return (
        Q(scope=FreezeScope.ORGANISATION)
        | Q(scope=FreezeScope.TEAM, team_id__in=team_ids)
        | Q(scope=FreezeScope.SERVICE, service_id__in=service_ids)
    )


def freeze_covers(freeze: FreezeWindow, services) -> set[int]:
    """Which of the services the freeze covers."""
    if freeze.scope == FreezeScope.ORGANISATION:
        return {service.pk for service in services}
    if freeze.scope == FreezeScope.TEAM:
        return {service.pk for service in services if service.owner_team_id == freeze.team_id}
    return {service.pk for service in services if service.pk == freeze.service_id}


def freezes_overlapping(services, start: dt.datetime, end: dt.datetime):
    """The freezes over any of the services with an occurrence overlapping [start, end), each
    with that occurrence: one query."""
    services = list(services)
    candidates = list(
        FreezeWindow.objects.filter(freezes_over_q(services) & freezes_reaching_q(start, end))
        .select_related("team", "service")
        .prefetch_related("overriders")
    )
    by_pk = {freeze.pk: freeze for freeze in candidates}
    hits = freezes.overlapping([freeze.rule() for freeze in candidates], start, end)
    return [(by_pk[rule.key], hit_start, hit_end) for rule, hit_start, hit_end in hits]


@dataclass(frozen=True)
class FreezeState:
    """Whether a service is frozen now, until when, and by which freezes."""

    until: dt.datetime | None
    freezes: tuple[FreezeWindow, ...] = ()
    next_start: dt.datetime | None = None
    next_freeze: FreezeWindow | None = None


@prepared
def _freezes_of_service(*, service_id, team_ids, start, end):
    # A list: for a service of no team it holds None, and such a call is built as usual.
    over = _freezes_over_q(service_ids=[service_id], team_ids=team_ids)
    return FreezeWindow.objects.filter(over & freezes_reaching_q(start, end))


def service_freeze_state(service: Service, *, now: dt.datetime) -> FreezeState:
    """Is the service frozen now and until when; else when its next freeze begins (within 14
    days): one query (prepared)."""
    candidates = _freezes_of_service(
        service_id=service.pk,
        team_ids=[service.owner_team_id],
        start=now,
        end=now + freezes.UNTIL_HORIZON,
    )
    rules = [freeze.rule() for freeze in candidates]
    by_pk = {freeze.pk: freeze for freeze in candidates}
    active = freezes.active_at(rules, now)
    if active:
        return FreezeState(
            until=freezes.frozen_until(rules, now),
            freezes=tuple(by_pk[rule.key] for rule, _ in active),
        )
    upcoming = sorted(
        (occurrence_start, rule.key)
        for rule in rules
        for occurrence_start, _ in freezes.occurrences(rule, now, now + dt.timedelta(days=14))
    )
    if upcoming:
        next_start, key = upcoming[0]
        return FreezeState(until=None, next_start=next_start, next_freeze=by_pk[key])
    return FreezeState(until=None)
