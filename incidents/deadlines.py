"""Days and deadlines of incidents are kept in the portal's zone (settings.TIME_ZONE): a
post-mortem's due date, whether an action item is overdue and the months of the metrics are
the same whoever looks. Requests activate the viewer's zone to *show* times (portal.timezones);
nothing here may depend on it. Times are instants in UTC; only days need a zone.
"""

import datetime as dt

from django.utils import timezone


def portal_zone() -> dt.tzinfo:
    return timezone.get_default_timezone()


def portal_today() -> dt.date:
    """Today in the portal's zone."""
    return timezone.localdate(timezone=portal_zone())


def portal_date(moment: dt.datetime) -> dt.date:
    """The day ``moment`` falls on in the portal's zone."""
    return timezone.localtime(moment, portal_zone()).date()
