"""Template tags of change approvals: the service page's panel (frozen now and until when,
the gate's latest decisions, the four keys), the incident page's "caused by deployment" panel
(services and incidents import nothing of toil, so the panels come through these tags), and
the formats of DORA's figures."""

import datetime as dt
import html

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from incidents.templatetags.incidents import duration
from portal.jinja import render_part
from toil import dora
from toil.permissions.changes import can_link_incident_cause
from toil.selectors import deployments as deployment_selectors
from toil.selectors import freezes as freeze_selectors
from toil.selectors import gate as gate_selectors
from toil.selectors.schedule import CALENDAR_STATUSES

register = template.Library()

#: How many of a service's gate decisions its page lists.
RECENT_DECISIONS = 5


@register.simple_tag
def service_changes_panel(service):
    """Whether the service is frozen and until when, its latest gate decisions and its DORA
    keys this month and last (the worker's snapshots): three queries, and a Jinja2 template
    (portal.jinja)."""
    now = timezone.now()
    series = deployment_selectors.dora_series(service=service, months=2, now=now, live=False)
    months = [
        {
            "month": deployment_selectors.month_start(month),
            "figures": series.figures[month],
            "band": dora.overall_band(series.figures[month]),
        }
        for month in reversed(series.months)
    ]
    return render_part(
        "toil/_service_changes_panel.jinja",
        {
            "service": service,
            "freeze": freeze_selectors.service_freeze_state(service, now=now),
            "decisions": gate_selectors.service_gate_decisions(
                service=service, limit=RECENT_DECISIONS
            ),
            "dora_months": months,
        },
    )


@register.simple_tag(takes_context=True)
def incident_cause_panel(context, incident):
    """The deployment that caused the incident, and for those who may say so, a choice among
    the production deployments of its services that began before it: two queries, rendered
    by Jinja2 (portal.jinja) like the incident page's other parts."""
    request = context.get("request")
    user = getattr(request, "user", None)
    may_link = user is not None and can_link_incident_cause(user, incident)
    choice = deployment_selectors.incident_cause_choice(incident, with_candidates=may_link)
    return render_part(
        "toil/_incident_cause_panel.jinja",
        {
            "incident": incident,
            "cause": choice.cause,
            "linked_by": choice.linked_by,
            "candidates": choice.candidates,
            "may_link": may_link,
            "csrf_token": context.get("csrf_token"),
        },
    )


@register.filter
def seconds(value: float | None) -> str:
    """A duration in seconds as people read it ("3 h 20 min"); "—" when unknown."""
    return duration(None if value is None else dt.timedelta(seconds=value))


@register.filter
def per_day(value: float | None) -> str:
    """Deployments per day: per day when one or more, else per week."""
    if value is None:
        return "—"
    if value >= 1:
        return f"{value:.1f} a day"
    return f"{value * 7:.1f} a week"


@register.inclusion_tag("toil/_band.html")
def band(value: str | None):
    return {"band": value}


@register.inclusion_tag("toil/_change_status.html")
def change_status(change):
    return {"change": change}


def _slug_options(queryset, to_field: str, chosen) -> str:
    """The <option>s of every record of ``queryset`` (slug and name), those in ``chosen``
    selected, read as pairs in one query and joined here: a catalog of a thousand services
    renders in a few milliseconds, where the template's loop over the widget took tens."""
    chosen = {str(value) for value in chosen}
    # The standard library's escape: the same entities as Django's, without its per-call
    # conversions to safe strings, which a thousand options add up to milliseconds of.
    return "".join(
        f'<option value="{html.escape(slug)}"{" selected" if slug in chosen else ""}>'
        f"{html.escape(name)}</option>"
        for slug, name in queryset.order_by("name").values_list(to_field, "name")
    )


@register.simple_tag
def slug_filter_select(field, any_label: str):
    """partials/filter_select.html for a filter that chooses records by slug (services, teams),
    its options rendered by _slug_options."""
    chosen = field.value() or []
    chosen = chosen if isinstance(chosen, list | tuple) else [chosen]
    options = _slug_options(field.field.queryset, field.field.to_field_name, chosen)
    return format_html(
        '<div class="filter"><label for="{id}">{label}</label>'
        '<select name="{name}" id="{id}"><option value="">{any}</option>{options}</select></div>',
        id=field.id_for_label,
        label=field.label,
        name=field.html_name,
        any=any_label,
        options=mark_safe(options),  # each value and name escaped in _slug_options
    )


@register.simple_tag
def calendar_days(calendar, list_url: str):
    """The calendar's days (toil.selectors.schedule.change_calendar) as list items, built here:
    a fortnight of a busy organisation is hundreds of template nodes, which cost tens of
    milliseconds to render one by one. Every text is escaped (html.escape)."""
    escape_text = html.escape
    # The day's whole list: every change running on it that the calendar counts.
    shown_statuses = "".join(f"&amp;status={status}" for status in CALENDAR_STATUSES)
    items = []
    for day in calendar:
        iso = day.date.isoformat()
        parts = [
            f'<h3><time datetime="{iso}">{escape_text(date_format(day.date, "D j M"))}</time></h3>'
        ]
        for freeze, _start, _end in day.freezes:
            parts.append(
                f'<p class="calendar-freeze"><a href="{escape_text(freeze.get_absolute_url())}">'
                f"❄ {escape_text(freeze.name)}</a> "
                f'<span class="muted">({escape_text(freeze.scope_label())})</span></p>'
            )
        if day.changes:
            entries = "".join(
                f'<li><a href="{escape_text(change.url)}">#{change.pk} {escape_text(change.title)}'
                f'</a> <span class="badge change-status-{escape_text(change.status)}">'
                f"{escape_text(change.status_label)}</span></li>"
                for change in day.changes
            )
            parts.append(f'<ul class="plain">{entries}</ul>')
            if day.more:
                parts.append(
                    f'<p><a href="{escape_text(list_url)}?runs_on={iso}{shown_statuses}">'
                    f"and {day.more} more</a></p>"
                )
        elif not day.freezes:
            parts.append('<p class="muted">Nothing planned.</p>')
        frozen = " frozen" if day.freezes else ""
        items.append(f'<li class="calendar-day{frozen}">{"".join(parts)}</li>')
    return mark_safe("".join(items))  # every text escaped above
