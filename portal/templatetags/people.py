"""{% load people %} then {{ user|person }} or {{ user|person:"Nobody yet" }}: a person as the
pages name them (full name, else username), or the text for nobody ("—" by default).

A filter rather than an included template: lists name a person on every row, and an
`{% include %}` costs about three times as much as a filter.
"""

from django import template

register = template.Library()


@register.filter
def person(user, nobody=""):
    if not user:
        return nobody or "—"
    return user.get_full_name() or user.username
