"""Times are stored in UTC and shown in the viewer's time zone.

The browser reports its IANA zone in a cookie (static/js/timezone.js); each request
activates it, so templates and forms read and write times in the viewer's zone.
"""

import zoneinfo

from django.utils import timezone

COOKIE = "portal_tz"


def viewer_zone(request) -> zoneinfo.ZoneInfo | None:
    name = request.COOKIES.get(COOKIE, "")
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # A cookie is user input: an unknown or malformed zone falls back to the default.
        return None


class ViewerTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = viewer_zone(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
