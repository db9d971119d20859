"""The Jinja2 environment of the pages' heaviest parts: list results and record panels.

A list's results (a table of 25 rows, each with links, badges and times) cost most of a
list page's rendering in Django's engine: every variable lookup, filter and tag is an
object walked per row. Jinja2 compiles a template to Python and renders the same markup
several times faster. The page around the results (navigation, filters) stays a Django
template and takes a Jinja2 template in with `{% jinja "x/_results.jinja" %}`
(portal.templatetags.jinja); an htmx request for the results alone renders the Jinja2
template directly. Jinja2 templates live in jinja/ (laid out as templates/ is) and end in
`.jinja`, so that a name says which engine renders it.

Templates get the same filters in both engines: settings.TEMPLATES names the Django
template libraries (`{% load %}` names) whose filters this environment takes, with
Django's own conventions kept (a filter that expects local time gets it; one that needs
to know about autoescaping is told it is on). Later libraries win a name two share.
"""

import functools
from types import SimpleNamespace

import jinja2
from django.template import defaultfilters, defaulttags, engines
from django.template.backends.django import get_installed_libraries
from django.templatetags.static import static
from django.utils.module_loading import import_module
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from portal.links import link
from portal.templatetags.lists import column_header


def environment(*, libraries=(), **options) -> jinja2.Environment:
    # A missing name is empty, as in Django's engine, whatever DEBUG says: Django's backend
    # would print it as "{{ name }}" under DEBUG (`make run`), a page unlike production's.
    options["undefined"] = jinja2.Undefined
    env = jinja2.Environment(**options)
    env.filters.update(
        pluralize=defaultfilters.pluralize,
        yesno=defaultfilters.yesno,
        linebreaksbr=defaultfilters.linebreaksbr,
        date=_as_jinja_filter(defaultfilters.date),
        timesince=defaultfilters.timesince_filter,
    )
    env.globals.update(url=link, static=static, querystring=querystring, sort_header=sort_header)
    installed = get_installed_libraries()
    for name in libraries:
        module = import_module(installed[name])
        env.filters.update(
            (filter_name, _as_jinja_filter(function))
            for filter_name, function in module.register.filters.items()
        )
        env.globals.update(getattr(module, "JINJA_GLOBALS", {}))
    return env


def render_part(template_name: str, context: dict) -> SafeString:
    """A Jinja2 template rendered to HTML for a Django page: what `{% jinja %}` and the
    apps' panel tags return. No request and no context processors: the caller passes what
    the part shows."""
    template = engines["jinja2"].get_template(template_name).template
    return mark_safe(template.render(context))


def _as_jinja_filter(function):
    """A Django template filter called as Django's engine calls it."""
    if getattr(function, "needs_autoescape", False):
        function = functools.partial(function, autoescape=True)
    if getattr(function, "expects_localtime", False):
        localised = function

        def function(value, *args):
            return localised(template_localtime(value), *args)

    return function


@jinja2.pass_context
def querystring(context, **changes) -> str:
    """Django's `{% querystring %}`: the request's query with `changes` applied (None
    removes a key)."""
    return defaulttags.querystring(SimpleNamespace(request=context["request"]), **changes)


@jinja2.pass_context
def sort_header(context, key: str, label: str, default: str = ""):
    return column_header(context["request"], key, label, default)
