"""Reads of incidents for views, the API, reminders, the home page and the deploy gate: each a
fixed number of queries."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable
from django.urls import reverse

from incidents.choices import OPEN_STATUSES, Severity
from incidents.models.incidents import (
    OPEN_FIRST,
    Incident,
    IncidentAlert,
    SeverityLevel,
    StatusUpdate,
    TimelineEntry,
)
from incidents.models.postmortems import PostMortem
from incidents.selectors.common import ROLE_FIELDS
from incidents.status_updates import Draft, IncidentFacts, draft_status_update
from portal.prepared import prepared
from portal.roles import ENGINEER, SRE_LEAD_GROUP
from services.models.catalog import Membership, Service, Team

_AffectedService = Incident.services.through

#: Open incidents of these severities need everyone's attention, whoever owns them.
ALWAYS_ATTENDED_SEVERITIES = (Severity.SEV1, Severity.SEV2)

_PEOPLE_FIELDS = (*ROLE_FIELDS, "declared_by")


@prepared
def _people(*, ids):
    return get_user_model().objects.filter(pk__in=ids)


class _WithPeople(ModelIterable):
    """Incidents whose role holders and declarer are read in one query after them, instead of
    five joins of the user table: PostgreSQL's time to plan a statement doubles with each
    joined table, and with all five the incident page's statement took 2 ms to plan (8 ms
    under load, 17 ms for a page of 20,000 incidents) and under 0.1 ms to run."""

    def __iter__(self):
        incidents = list(super().__iter__())
        ids = {getattr(i, f"{name}_id") for i in incidents for name in _PEOPLE_FIELDS}
        ids.discard(None)
        people = {person.pk: person for person in _people(ids=sorted(ids))} if ids else {}
        for name in _PEOPLE_FIELDS:
            field = Incident._meta.get_field(name)
            for incident in incidents:
                field.set_cached_value(incident, people.get(getattr(incident, field.attname)))
        return iter(incidents)


def with_people(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """`incidents` with their commander, tech lead, communications lead, scribe and declarer
    read in one query after them (see _WithPeople)."""
    incidents = incidents.all()
    incidents._iterable_class = _WithPeople
    return incidents


def _services_with_teams():
    return Service.objects.select_related("owner_team").order_by("name")


def incident_list() -> QuerySet[Incident]:
    """Incidents with their team, commander and affected services; open ones first, then
    the most recent (``open_rank`` 0 for open incidents, for lists that sort on it)."""
    return (
        Incident.objects.select_related("team", "commander")
        .prefetch_related(Prefetch("services", queryset=_services_with_teams()))
        .annotate(open_rank=OPEN_FIRST)
        .order_by("open_rank", "-started_at", "-id")
    )


def incident_rows() -> QuerySet[Incident]:
    """incident_list() narrowed to what a list's row shows (reference, title, severity,
    status, times, team): no commander, no summary or other long text, and no prefetch of
    the services; with_service_links() adds their links to a page of rows."""
    return (
        incident_list()
        .select_related(None)
        .select_related("team")
        .only(
            "reference",
            "title",
            "severity",
            "status",
            "started_at",
            "resolved_at",
            "team__name",
            "team__slug",
        )
        .prefetch_related(None)
    )


def service_links_of(incident_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """Each incident's affected services as (slug, name), in name order, in one query on the
    link table. Lists name them on every row; prefetching the services would build a record
    and a related manager for each."""
    links: dict[int, list[tuple[str, str]]] = {incident_id: [] for incident_id in incident_ids}
    if links:
        rows = (
            _AffectedService.objects.filter(incident_id__in=links)
            .order_by("service__name", "service_id")
            .values_list("incident_id", "service__slug", "service__name")
        )
        for incident_id, slug, name in rows:
            links[incident_id].append((slug, name))
    return links


def with_service_links(incidents: Iterable[Incident]) -> list[Incident]:
    """The incidents, each with ``service_links`` (service_links_of)."""
    incidents = list(incidents)
    links = service_links_of(incident.pk for incident in incidents)
    for incident in incidents:
        incident.service_links = links[incident.pk]
    return incidents


def incident_detail() -> QuerySet[Incident]:
    """Incidents with everything their page and API record show, except the timeline."""
    return with_people(
        Incident.objects.select_related("team", "postmortem").prefetch_related(
            Prefetch("services", queryset=_services_with_teams()),
            Prefetch("subscribers", queryset=get_user_model().objects.order_by("username")),
            Prefetch("alerts", queryset=IncidentAlert.objects.order_by("starts_at", "id")),
        )
    )


def incident_page(user) -> QuerySet[Incident]:
    """Incidents with what their page shows, and ``followed``: whether ``user`` follows the
    incident. Narrower than incident_detail: the page shows neither the alerts nor the list
    of followers, and of the affected services only their names and links (their owning
    teams only by id, for the permissions), and of the post-mortem its status but not its
    sections."""
    follows = Incident.subscribers.through.objects.filter(incident=OuterRef("pk"), user=user.pk)
    return with_people(
        Incident.objects.select_related("team", "postmortem")
        .defer(*(f"postmortem__{section}" for section in PostMortem.SECTIONS))
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.only("name", "slug", "owner_team_id").order_by("name"),
            )
        )
        .annotate(followed=Exists(follows))
    )


@prepared
def _incident_page_rows(*, user, reference):
    return incident_page(user).filter(reference=reference)[:1]


def incident_page_of(user, reference: str) -> Incident | None:
    """The incident of this reference as incident_page reads it, or None; a prepared
    statement (portal.prepared), as are the page's timeline and status updates."""
    rows = _incident_page_rows(user=user, reference=reference)
    return rows[0] if rows else None


@prepared(shape=("limit",))
def service_recent_incidents(*, service, limit: int) -> list[Incident]:
    """The service's latest incidents, each with ``open_count``: how many of the service's
    incidents are open (the service page's panel; prepared)."""
    open_incidents = (
        Incident.objects.filter(services=service, status__in=OPEN_STATUSES)
        .order_by()
        .values("services")
        .annotate(count=Count("*"))
        .values("count")
    )
    return (
        Incident.objects.filter(services=service)
        .only("reference", "title", "severity", "status", "started_at", "resolved_at")
        .annotate(open_count=Coalesce(Subquery(open_incidents), 0))
        .order_by("-started_at", "-id")[:limit]
    )


@prepared
def timeline_entries(*, incident):
    """The incident's timeline as a list (timeline_entry_list, prepared)."""
    return timeline_entry_list(incident)


@prepared
def status_updates(*, incident):
    """The incident's status updates as a list (status_update_list, prepared)."""
    return status_update_list(incident)


def timeline_entry_list(incident: Incident) -> QuerySet[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return TimelineEntry.objects.filter(incident=incident).select_related("author")


def status_update_list(incident: Incident) -> QuerySet[StatusUpdate]:
    """The incident's status updates, newest first."""
    return StatusUpdate.objects.filter(incident=incident).select_related("created_by")


@prepared
def people_who_may_act(*, team_ids) -> list:
    """engineers_and_sre_leads(team_ids) by first name, as a list (prepared: the incident
    page offers them to its commander on every view)."""
    return engineers_and_sre_leads(team_ids).order_by("first_name", "username")


def engineers_and_sre_leads(team_ids: set[int] | None = None) -> QuerySet:
    """The active people who may act: SRE leads and the engineers of these teams (of any team
    when None or empty). Those who may hold a role in an incident of these teams
    (incidents.permissions.may_hold_role), or review a post-mortem (any engineer)."""
    User = get_user_model()
    engineers = Membership.objects.filter(role=ENGINEER)
    if team_ids:
        engineers = engineers.filter(team_id__in=team_ids)
    sre_leads = User.groups.through.objects.filter(group__name=SRE_LEAD_GROUP)
    return User.objects.filter(
        Q(is_superuser=True)
        | Q(pk__in=sre_leads.values("user_id"))
        | Q(pk__in=engineers.values("user_id")),
        is_active=True,
    )


def severity_levels() -> dict[str, SeverityLevel]:
    """Each severity's description and response time, by code."""
    return {level.code: level for level in SeverityLevel.objects.all()}


def status_update_draft(incident: Incident, kind: str, *, now: dt.datetime) -> Draft:
    """The draft of a ``kind`` status update: the incident's facts, its link and its
    severity's name filled in, prompts (``[[…]]``) where a person must write."""
    level = severity_levels().get(incident.severity)
    facts = IncidentFacts.of(
        incident,
        url=settings.PORTAL_BASE_URL.rstrip("/") + incident.get_absolute_url(),
        severity_name=level.name if level else "",
    )
    return draft_status_update(kind, facts, now=now)


# --- for reminders, reports and the home page ---------------------------------------------------


def open_incidents_needing_attention(team_ids: Iterable[int]) -> QuerySet[Incident]:
    """Open incidents of these teams (theirs, or affecting one of their services) and every
    open SEV1 and SEV2 whoever owns it: the worst first, then the newest; one query."""
    team_ids = list(team_ids)
    attended = Q(severity__in=ALWAYS_ATTENDED_SEVERITIES)
    if team_ids:  # without teams, the subquery would be built only to compile to false
        affects_team = _AffectedService.objects.filter(
            incident=OuterRef("pk"), service__owner_team_id__in=team_ids
        )
        attended |= Q(team_id__in=team_ids) | Exists(affects_team)
    return (
        Incident.objects.filter(status__in=OPEN_STATUSES)
        .filter(attended)
        .select_related("team")
        .only("reference", "title", "severity", "status", "started_at", "team__name")
        .order_by("severity", "-started_at", "-id")
    )


def incidents_in_period(
    *, start: dt.datetime, end: dt.datetime, team: Team | None = None
) -> QuerySet[Incident]:
    """The incidents that started in [start, end) (a team's when given), oldest first."""
    incidents = Incident.objects.filter(started_at__gte=start, started_at__lt=end)
    if team is not None:
        incidents = incidents.filter(team=team)
    return incidents.order_by("started_at", "pk")


# --- for the deploy gate (toil reads these) ---------------------------------------------------


@dataclass(frozen=True)
class OpenIncidentOnServices:
    """An open incident and which of the asked-about services it affects."""

    reference: str
    severity: str
    title: str
    url: str
    service_ids: frozenset[int]


def open_incidents_on(service_ids, *, severities=("SEV1", "SEV2")) -> list[OpenIncidentOnServices]:
    """The open incidents of these severities affecting any of the services, in one query."""
    links = (
        Incident.services.through.objects.filter(
            service_id__in=list(service_ids),
            incident__status__in=sorted(OPEN_STATUSES),
            incident__severity__in=list(severities),
        )
        .values_list("incident__reference", "incident__severity", "incident__title", "service_id")
        .order_by("incident__started_at", "incident__reference")
    )
    found: dict[str, tuple[str, str, set[int]]] = {}
    for reference, severity, title, service_id in links:
        found.setdefault(reference, (severity, title, set()))[2].add(service_id)
    return [
        OpenIncidentOnServices(
            reference=reference,
            severity=severity,
            title=title,
            url=reverse("incident_detail", args=[reference]),
            service_ids=frozenset(service_ids_of),
        )
        for reference, (severity, title, service_ids_of) in found.items()
    ]
