"""Filters of the home page's blocks."""

import datetime as dt

from django import template
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

register = template.Library()


@register.filter
def when(value) -> str:
    """A day ("3 Dec 2026") or a moment in the viewer's zone ("3 Dec 2026, 14:05 CET"),
    machine-readable too."""
    if isinstance(value, dt.datetime):
        value = localtime(value)
        return format_html(
            '<time datetime="{}">{}</time>',
            date_format(value, "c"),
            date_format(value, "j M Y, H:i T"),
        )
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), date_format(value, "j M Y")
    )
