"""Template tags of compliance checks: the service page's compliance panel (services must not
import portal features, so the panel comes to the service page through this tag)."""

from django import template

from portal.compliance.selectors import service_panel
from portal.jinja import render_part

register = template.Library()


@register.simple_tag
def service_compliance_panel(service):
    """The service's checks with their last result and its unresolved findings: one query, and
    a Jinja2 template (portal.jinja)."""
    rows, unresolved = service_panel(service)
    return render_part(
        "compliance/_service_panel.jinja",
        {"service": service, "rows": rows, "unresolved": unresolved},
    )
