"""How report figures read, in the email and on the portal alike: one format everywhere."""

from django import template

register = template.Library()

MISSING = "—"


def duration_text(seconds) -> str:
    if seconds is None:
        return MISSING
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours / 24:.1f} d"


def value_text(value, kind: str) -> str:
    if value is None:
        return MISSING
    if kind == "percent":
        return f"{value * 100:.1f} %"
    if kind == "attainment":
        return f"{value * 100:.3f} %"
    if kind == "duration":
        return duration_text(value)
    if kind == "hours":
        return f"{value:,.1f} h"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{value:,.0f}" if isinstance(value, int | float) else str(value)


@register.filter
def figure_value(figure) -> str:
    return value_text(figure["value"], figure["kind"])


@register.filter
def figure_previous(figure) -> str:
    return value_text(figure["previous"], figure["kind"])


@register.filter
def direction(figure) -> str:
    """up, down, same, or "" when either month has no value."""
    value, previous = figure["value"], figure["previous"]
    if value is None or previous is None or isinstance(value, str):
        return ""
    if value == previous:
        return "same"
    return "up" if value > previous else "down"


@register.filter
def arrow(figure) -> str:
    return {"up": "▲", "down": "▼", "same": "="}.get(direction(figure), "")


@register.filter
def tone(figure) -> str:
    """good, bad or neutral: whether the change went the way that is better."""
    change = direction(figure)
    if change in ("", "same") or figure.get("better") not in ("higher", "lower"):
        return "neutral"
    return "good" if (change == "up") == (figure["better"] == "higher") else "bad"


@register.filter
def attainment(value) -> str:
    return value_text(value, "attainment")


@register.filter
def fraction(value) -> str:
    return value_text(value, "percent")


@register.filter
def duration(seconds) -> str:
    return duration_text(seconds)


@register.filter
def objective(value) -> str:
    """99.9 → "99.9 %", 99.0 → "99 %": as the SLO pages write objectives."""
    return MISSING if value is None else f"{float(value):g} %"
