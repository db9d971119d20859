"""Template filters for the portal's one number and time format (portal/formats.py):
`{% load formats %}` then `{{ fraction|percent }}`, `{{ rate|multiple }}`, `{{ n|count }}`,
`{{ when|moment }}` (a <time> element in the viewer's zone, 24-hour) and `{{ date|day }}`."""

from django import template

from portal import formats

register = template.Library()


@register.filter
def percent(fraction, digits=1):
    return formats.percent_text(fraction, digits)


@register.filter
def multiple(value):
    return formats.multiple_text(value)


@register.filter
def count(value):
    return formats.count_text(value)


@register.filter
def moment(value):
    if value is None or value == "":
        return formats.MISSING
    return formats.moment_html(value)


@register.filter
def day(value):
    return formats.day_text(value)
