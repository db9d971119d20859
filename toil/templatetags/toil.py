"""Template tags of the toil inventory: the team page's toil panel (services must not import
toil, so the panel comes to the team page through this tag) and how toil figures read."""

import math

from django import template
from django.conf import settings

from toil.selectors.toil import current_month, stored_team_toil_month

register = template.Library()

MISSING = "—"


@register.inclusion_tag("toil/_team_toil_panel.html")
def team_toil_panel(team):
    """This month's toil of the team against the cap, estimated and measured: the worker's
    snapshot in one query (the team's toil page computes it when there is none yet; the team
    page stays cheap)."""
    month = current_month()
    return {
        "team": team,
        "month": month,
        "toil": stored_team_toil_month(team, month),
        "cap_percent": settings.TOIL_CAP_PERCENT,
    }


@register.filter
def hours(value):
    """Hours with one decimal: 25 → "25.0 h", 1234.5 → "1,234.5 h"."""
    if value is None or value == "":
        return MISSING
    return f"{float(value):,.1f} h"


@register.filter
def minutes_as_hours(minutes):
    """Minutes read as hours: 1500 → "25.0 h"."""
    if minutes is None or minutes == "":
        return MISSING
    return hours(float(minutes) / 60)


@register.filter
def payback(months):
    """Months until automation pays back: "2.5 months"; "never" when it saves nothing."""
    if months is None or months == "":
        return MISSING
    if math.isinf(months):
        return "never"
    return f"{float(months):,.1f} months"


@register.filter
def score(value):
    """An ROI score, a whole number: 1500.0 → "1,500"."""
    if value is None or value == "":
        return MISSING
    return f"{round(float(value)):,}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
