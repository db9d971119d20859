"""Template tags of incidents: the service page's incident panel (services must not import
incidents, so the panel comes to the service page through this tag), durations, and the
badges and times the lists show on every row.

The badges and times are filters rather than included templates: an `{% include %}` costs
about three times as much as a filter, and the lists repeat them on every row.
"""

import datetime as dt
from html import escape
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from incidents.selectors import incidents as incident_selectors
from portal.formats import moment_html
from portal.jinja import render_part

register = template.Library()

#: How many of a service's incidents its page lists.
RECENT_INCIDENTS = 5


@register.simple_tag
def service_incidents_panel(service):
    """The service's most recent incidents and how many of its incidents are open, in one
    query: each row carries the open count (a service without incidents has none open). A
    Jinja2 template (portal.jinja), rendered here for the Django page that names the tag. The
    query is a prepared statement (portal.prepared)."""
    recent = incident_selectors.service_recent_incidents(service=service, limit=RECENT_INCIDENTS)
    open_count = recent[0].open_count if recent else 0
    return render_part(
        "incidents/_service_incidents_panel.jinja",
        {"service": service, "incidents": recent, "open_count": open_count},
    )


@register.inclusion_tag("incidents/_team_attention_panel.html")
def team_attention_panel(team):
    """The team page's roll-up: its SLOs met and missed this month, its open incidents and
    its overdue follow-ups, each linking to its filtered list; two queries."""
    from incidents.selectors.postmortems import team_follow_up_counts
    from portal.timezones import portal_today
    from services.selectors.slos import team_slo_month

    return {
        "team": team,
        "slos": team_slo_month(team),
        "follow_ups": team_follow_up_counts(team, now=timezone.now(), today=portal_today()),
    }


@register.simple_tag(takes_context=True)
def slo_declare_link(context, slo, status):
    """On a paging SLO's page, for those who may declare, a link to declare an incident
    with the SLO's service and the SLO filled in (services' pages reach incidents only
    through tags)."""
    from incidents.permissions import can_declare

    if status is None or status.alert != "page" or not can_declare(context["request"].user):
        return ""
    query = urlencode({"service": slo.service.slug, "slo": slo.slug})
    return format_html(
        '<p class="message message-error declare-from-slo">This SLO pages: its error budget '
        'burns fast. <a class="button" href="{}?{}">Declare an incident</a></p>',
        reverse("incident_declare"),
        query,
    )


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


@register.filter
def severity_badge(severity):
    return format_html('<span class="badge severity-{}">{}</span>', severity.lower(), severity)


@register.filter
def status_badge(incident):
    return format_html(
        '<span class="badge incident-status-{}">{}</span>',
        incident.status,
        incident.get_status_display(),
    )


@register.filter(expects_localtime=True)
def moment(value, empty=""):
    """A time in the viewer's zone, machine-readable too; `empty` (or "—") without one."""
    if not value:
        return format_html('<span class="muted">{}</span>', empty or "—")
    return moment_html(value)


@register.filter
def postmortem_status_badge(postmortem):
    """A post-mortem's workflow status, and "overdue" while it is past its due date."""
    overdue = ' <span class="badge overdue">Overdue</span>' if postmortem.is_overdue else ""
    return format_html(
        '<span class="badge">{}</span>{}', postmortem.get_status_display(), mark_safe(overdue)
    )


@register.filter
def action_item_status(item):
    """An action item's status, and "overdue" while it is pending past its due date."""
    overdue = ' <span class="badge overdue">Overdue</span>' if item.is_overdue else ""
    return format_html("{}{}", item.get_status_display(), mark_safe(overdue))


@register.filter
def metric_rows(rows):
    """The body rows of a by-service or by-team metrics table: name, a count per severity,
    the total and the MTBF. Built here rather than in a template loop: an organisation's
    table has a row for each of a thousand services."""
    return mark_safe(
        "".join(
            f"<tr><td>{escape(str(row['name']))}</td>"
            + "".join(f'<td class="number">{int(count)}</td>' for count in row["counts"])
            + f'<td class="number">{int(row["total"])}</td>'
            f'<td class="number">{escape(duration(row["mtbf"]))}</td></tr>'
            for row in rows
        )
    )
