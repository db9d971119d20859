"""`{% jinja "incidents/_incident_results.jinja" %}`: a Jinja2 template (portal.jinja)
rendered inside a Django template with the same context, as `{% include %}` would.

settings.TEMPLATES lists this library among the built-ins, so no `{% load %}` is needed.
"""

from django import template
from django.template.backends.utils import csrf_input_lazy

from portal.jinja import render_part

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, template_name):
    variables = context.flatten()
    request = variables.get("request")
    if request is not None:
        # What the Jinja2 backend gives a template rendered with a request; the context
        # processors have already run for the Django template around it.
        variables["csrf_input"] = csrf_input_lazy(request)
    return render_part(template_name, variables)
