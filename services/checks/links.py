"""Whether a failed check's fix link leads the person looking somewhere they may act.

Check results are kept in snapshots, the same for everyone, and some fix links lead to forms
only some people may use: a service's edit and "add an SLO" pages are its editors', a team's
edit page and the admin SRE leads'. Pages show such a link to those who may follow it and
the step as text to everyone else, who would otherwise land on a refusal.
"""

from functools import lru_cache
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

from portal.roles import can_edit, is_sre_lead

_SERVICE_EDITORS = frozenset({"service_edit", "slo_add"})
_SRE_LEADS = frozenset({"team_edit"})


def fix_link_for(user, url: str, service) -> str:
    """``url`` when ``user`` may act on the page it leads to, else an empty string."""
    if not url:
        return ""
    view = _view_of(url)
    if view in _SERVICE_EDITORS:
        allowed = can_edit(user, service)
    elif view in _SRE_LEADS or view.startswith("admin:"):
        allowed = is_sre_lead(user)
    else:
        allowed = True
    return url if allowed else ""


@lru_cache(maxsize=4096)
def _view_of(url: str) -> str:
    # Resolving walks the URL patterns; a page lists a few hundred links to a few dozen pages.
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return ""
