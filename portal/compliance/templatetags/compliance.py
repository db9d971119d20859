"""Template tags of compliance checks: the service page's compliance panel (services must not
import portal features, so the panel comes to the service page through this tag)."""

from django import template

from portal.compliance.selectors import service_panel

register = template.Library()


@register.inclusion_tag("compliance/_service_panel.html")
def service_compliance_panel(service):
    rows, unresolved = service_panel(service)
    return {"service": service, "rows": rows, "unresolved": unresolved}
