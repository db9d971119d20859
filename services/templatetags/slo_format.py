"""How SLO figures read on pages: fractions as percentages, burn rates as multiples.

A missing figure (an SLO without data) reads as a dash, never as 0 % or 100 %.
"""

from django import template

register = template.Library()

MISSING = "—"


@register.filter
def percent(fraction, digits=1):
    """0.4213 → "42.1 %"; an overspent budget keeps its minus sign."""
    if fraction is None or fraction == "":
        return MISSING
    return f"{float(fraction) * 100:.{int(digits)}f} %"


@register.filter
def burn(rate):
    """How many times faster than sustainable the budget burns: 1.00x spends it exactly."""
    if rate is None or rate == "":
        return MISSING
    return f"{float(rate):.2f}x"


@register.filter
def objective(value):
    """An objective as people write it: Decimal("99.9000") → "99.9 %", 90 → "90 %"."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


@register.filter
def last_full_month(monthly):
    """The last complete calendar month of a snapshot's history (which ends with the month in
    progress), or None before a month has passed."""
    return monthly[-2] if monthly and len(monthly) >= 2 else None
