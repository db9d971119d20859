"""Template tags of incidents: the service page's incident panel (services must not import
incidents, so the panel comes to the service page through this tag) and durations."""

import datetime as dt

from django import template
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce

from incidents.choices import OPEN_STATUSES
from incidents.models.incidents import Incident

register = template.Library()

#: How many of a service's incidents its page lists.
RECENT_INCIDENTS = 5


@register.inclusion_tag("incidents/_service_incidents_panel.html")
def service_incidents_panel(service):
    """The service's most recent incidents and how many of its incidents are open, in one
    query: each row carries the open count (a service without incidents has none open)."""
    open_incidents = (
        Incident.objects.filter(services=service, status__in=OPEN_STATUSES)
        .order_by()
        .values("services")
        .annotate(count=Count("*"))
        .values("count")
    )
    recent = list(
        Incident.objects.filter(services=service)
        .only("reference", "title", "severity", "status", "started_at", "resolved_at")
        .annotate(open_count=Coalesce(Subquery(open_incidents), 0))
        .order_by("-started_at", "-id")[:RECENT_INCIDENTS]
    )
    open_count = recent[0].open_count if recent else 0
    return {"service": service, "incidents": recent, "open_count": open_count}


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """A duration as people read it: "2 d 3 h", "1 h 25 min", "40 s"; "—" when unknown."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
