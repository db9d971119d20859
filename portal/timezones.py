"""Times are stored in UTC and shown in the viewer's time zone.

The browser reports its IANA zone in a cookie (static/js/timezone.js); each request
activates it, so templates and forms read and write times in the viewer's zone.

Days are kept in the portal's zone (settings.TIME_ZONE): a post-mortem's due date, whether
an action item is overdue, the months of the metrics, toil and reports, the calendar of
changes are the same whoever looks. Nothing that decides a day may depend on the viewer's
zone, which only *shows* times.
"""

import datetime as dt
import zoneinfo

from django.utils import timezone

COOKIE = "portal_tz"


def portal_zone() -> zoneinfo.ZoneInfo:
    """The portal's zone, whatever zone the request activated."""
    return timezone.get_default_timezone()


def portal_today() -> dt.date:
    """Today in the portal's zone."""
    return timezone.localdate(timezone=portal_zone())


def portal_date(moment: dt.datetime) -> dt.date:
    """The day ``moment`` falls on in the portal's zone."""
    return timezone.localtime(moment, portal_zone()).date()


def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone of this name, or None for an unknown or malformed one (a zone can also
    leave the time zone database after it was stored)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def time_zone_error(name: str) -> str | None:
    """What is wrong with a zone name a person typed, if anything: the one message every
    form, model and API field gives."""
    return None if zone_named(name) else f"Unknown time zone “{name}”."


def viewer_zone(request) -> zoneinfo.ZoneInfo | None:
    name = request.COOKIES.get(COOKIE, "")
    # A cookie is user input: an unknown or malformed zone falls back to the default.
    return zone_named(name) if name else None


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
