"""Paths of named routes, remembered.

A list page links every row to its record, and Django's reverse() costs about 10 µs a call
(it matches the arguments against every candidate pattern), as much as rendering the rest
of the row. The same route with the same arguments always gives the same path while the
URLconf and the script prefix stay the same, so each process remembers the paths it has
built: `link("service_detail", service.slug)`. Templates get the same through `{% url %}`
(portal.templatetags.remembered_urls replaces the built-in tag).
"""

from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

# Enough for every record of the organisation the benchmarks model (about 25,000 paths,
# 3 MB); beyond that the least recently used are built again.
REMEMBERED_PATHS = 50_000


@lru_cache(maxsize=REMEMBERED_PATHS)
def _path(viewname: str, args: tuple, prefix: str, urlconf: str | None) -> str:
    return reverse(viewname, args=args, urlconf=urlconf)


def link(viewname: str, *args: str | int) -> str:
    """reverse(viewname, args=args) for a route name without a namespace, remembered."""
    return _path(viewname, args, get_script_prefix(), get_urlconf())


@receiver(setting_changed)
def _forget_paths(*, setting, **kwargs):
    # Tests may swap the URLconf; Django forgets its own URL caches then, and so do we.
    if setting == "ROOT_URLCONF":
        _path.cache_clear()
