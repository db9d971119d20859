"""How SLO figures read on pages: fractions as percentages, burn rates as multiples.

A missing figure (an SLO without data) reads as a dash, never as 0 % or 100 %.
"""

from django import template
from django.utils import formats

from services.checks.catalog import MIN_COVERAGE

register = template.Library()


@register.filter
def low_coverage(status) -> bool:
    """Whether a snapshot's figures rest on too little of its window's data to be trusted
    as they stand (the readiness check's bar): its pages say so beside them."""
    return status.coverage is None or status.coverage < MIN_COVERAGE


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


@register.filter(expects_localtime=True)
def data_since(moment):
    """When a snapshot last had data, for the stale badge's title: "ever" without any, else
    the time as Django's engine prints one given no filter (the viewer's zone,
    DATETIME_FORMAT), so that the badge reads alike whichever engine renders it."""
    return formats.localize(moment) if moment else "ever"
