"""{% load lists %}: the pieces every list page repeats, as tags.

    {% sort_header "name" "Name" default="name" %}     a sortable column header
    {% filter_select filter.form.team "All teams" %}   one filter as a single-choice select

Tags rather than included templates: a list has five to eight sortable columns and up to a
hundred options in its filters, and each included template or option rendered through the
form machinery's per-option objects costs several times what the same markup costs built
here.
"""

from django import template
from django.template.defaulttags import querystring
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key, label, default=""):
    """A column header that sorts by `key` (the FilterSet's ordering name), the other way
    round when the list is already sorted by it; `default` is the list's ordering when none
    is asked for. The link keeps the search and filters and goes back to the first page."""
    current = context.request.GET.get("ordering") or default
    descending = f"-{key}"
    if current == key:
        sort, arrow, ordering = _ASCENDING, _UP, descending
    elif current == descending:
        sort, arrow, ordering = _DESCENDING, _DOWN, key
    else:
        sort, arrow, ordering = "", "", key
    url = querystring(context, ordering=ordering, page=None)
    return format_html(
        '<th scope="col"{}><a href="{}" hx-get="{}">{}{}</a></th>', sort, url, url, label, arrow
    )


_ASCENDING = mark_safe(' aria-sort="ascending"')
_DESCENDING = mark_safe(' aria-sort="descending"')
_UP = mark_safe(' <span aria-hidden="true">▲</span>')
_DOWN = mark_safe(' <span aria-hidden="true">▼</span>')
_SELECTED = mark_safe(" selected")


@register.simple_tag
def filter_select(field, any_label):
    """One filter of a FilterSet as a single-choice select with an "any" option; the
    FilterSet accepts one value as well as several. The widget decides which options are
    selected, and lists a model's choices in one query."""
    widget = field.field.widget
    options = (
        (option["value"], _SELECTED if option["selected"] else "", option["label"])
        for _, group, _ in widget.optgroups(field.html_name, widget.format_value(field.value()))
        for option in group
    )
    return format_html(
        '<div class="filter"><label for="{}">{}</label><select name="{}" id="{}">'
        '<option value="">{}</option>{}</select></div>',
        field.id_for_label,
        field.label,
        field.html_name,
        field.id_for_label,
        any_label,
        format_html_join("", '<option value="{}"{}>{}</option>', options),
    )
