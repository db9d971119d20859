"""{% load lists %}: the pieces every list page repeats, as tags.

    {% sort_header "name" "Name" default="name" %}     a sortable column header
    {% filter_select filter.form.team "All teams" %}   one filter as a select

Tags rather than included templates: a list has five to eight sortable columns and up to a
thousand options in its filters, and each included template or option rendered through the
form machinery's per-option objects costs several times what the same markup costs built
here.
"""

import itertools
from types import SimpleNamespace

from django import template
from django.forms.models import ModelChoiceField
from django.template.defaulttags import querystring
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from portal.markup import escape_text

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key, label, default=""):
    return column_header(context["request"], key, label, default)


def column_header(request, key, label, default=""):
    """A column header that sorts by `key` (the FilterSet's ordering name), the other way
    round when the list is already sorted by it; `default` is the list's ordering when none
    is asked for. The link keeps the search and filters and goes back to the first page.
    The `{% sort_header %}` tag and Jinja2's `sort_header()` (portal.jinja)."""
    current = request.GET.get("ordering") or default
    descending = f"-{key}"
    if current == key:
        sort, arrow, ordering = _ASCENDING, _UP, descending
    elif current == descending:
        sort, arrow, ordering = _DESCENDING, _DOWN, key
    else:
        sort, arrow, ordering = "", "", key
    url = querystring(SimpleNamespace(request=request), request.GET, ordering=ordering, page=None)
    return format_html(
        '<th scope="col"{}><a href="{}" hx-get="{}">{}{}</a></th>', sort, url, url, label, arrow
    )


_ASCENDING = mark_safe(' aria-sort="ascending"')
_DESCENDING = mark_safe(' aria-sort="descending"')
_UP = mark_safe(' <span aria-hidden="true">▲</span>')
_DOWN = mark_safe(' <span aria-hidden="true">▼</span>')
_SELECTED = mark_safe(" selected")
#: The most rows a select of several chosen values shows before it scrolls.
MULTIPLE_SIZE = 6


@register.simple_tag
def filter_select(field, any_label):
    """One filter of a FilterSet as a select with an "any" option; a model's choices come in
    one query. The select takes one choice, as people mostly filter by one thing, unless the
    address already names several of a filter that accepts them (a link such as the change
    calendar's "and N more"): it then lets several be chosen and shows them all, so that
    changing another filter keeps them instead of sending the one a single select shows."""
    options = list(_options(field))
    chosen = sum(1 for _value, selected, _label in options if selected)
    several = (
        mark_safe(f' multiple size="{min(len(options) + 1, MULTIPLE_SIZE)}"') if chosen > 1 else ""
    )
    return format_html(
        '<div class="filter"><label for="{}">{}</label><select name="{}" id="{}"{}>'
        '<option value="">{}</option>{}</select></div>',
        field.id_for_label,
        field.label,
        field.html_name,
        field.id_for_label,
        several,
        any_label,
        mark_safe(
            "".join(
                f'<option value="{escape_text(value)}"{selected}>{escape_text(label)}</option>'
                for value, selected, label in options
            )
        ),
    )


def _options(field):
    """(value, selected, label) of each option, selected as the widget's own optgroups()
    decides (every match for a multiple choice, the first otherwise), without the
    per-option attribute dictionaries it builds for widget templates: a filter may offer
    a thousand services."""
    widget = field.field.widget
    chosen = set(widget.format_value(field.value()))
    has_selected = False
    for value, label in _model_choices(field.field) or widget.choices:
        for subvalue, sublabel in label if isinstance(label, list | tuple) else [(value, label)]:
            subvalue = "" if subvalue is None else subvalue
            selected = (not has_selected or widget.allow_multiple_selected) and (
                str(subvalue) in chosen
            )
            has_selected |= selected
            yield subvalue, _SELECTED if selected else "", sublabel


def _model_choices(form_field):
    """A model choice field's choices as (key, name) rows when its model names the column of
    its name (``CHOICE_LABEL_FIELD``) and the field labels options by it: the same choices
    as the field's iterator, in the same query, without a record built per option (1,000
    services cost 10 ms that way). None for any other field."""
    queryset = getattr(form_field, "queryset", None)
    label_field = getattr(getattr(queryset, "model", None), "CHOICE_LABEL_FIELD", None)
    if label_field is None or (
        type(form_field).label_from_instance is not ModelChoiceField.label_from_instance
    ):
        return None
    head = []
    if form_field.empty_label is not None:
        head.append(("", form_field.empty_label))
    if getattr(form_field, "null_label", None) is not None:
        head.append((form_field.null_value, form_field.null_label))
    rows = queryset.prefetch_related(None).values_list(
        form_field.to_field_name or "pk", label_field
    )
    return itertools.chain(head, rows)
