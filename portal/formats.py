"""The portal's one way of writing numbers and times, for pages, emails and the admin.

- Percentages: one decimal ("42.1 %"), with a space before the sign; finer precision only
  where the figure needs it (attainments near an objective: `percent:3`).
- Multiples (burn rates): two decimals and a multiplication sign ("0.47" then U+00D7).
- Counts: digits grouped by thousands with a thin space ("12 345").
- Moments: the viewer's time zone (the active one), 24-hour clock, with the zone's
  abbreviation ("1 Dec 2026, 19:05 CET"); days as "1 Dec 2026".
A missing figure is a dash, never 0 or 100 %.
"""

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

MISSING = "—"
TIMES = "\u00d7"  # the multiplication sign
MOMENT_FORMAT = "j M Y, H:i T"
DAY_FORMAT = "j M Y"


def _is_missing(value) -> bool:
    return value is None or value == ""


def percent_text(fraction, digits=1) -> str:
    """0.4213 → "42.1 %"; an overspent budget keeps its minus sign."""
    if _is_missing(fraction):
        return MISSING
    return f"{float(fraction) * 100:.{int(digits)}f} %"


def multiple_text(value) -> str:
    """0.47000000000000003 → "0.47" and the multiplication sign."""
    if _is_missing(value):
        return MISSING
    return f"{float(value):.2f}{TIMES}"


def count_text(value) -> str:
    """12345 → "12 345" (a narrow no-break space between thousands)."""
    if _is_missing(value):
        return MISSING
    return f"{int(value):,}".replace(",", "\u202f")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def moment_parts(local) -> tuple[str, str]:
    """(ISO 8601, "1 Dec 2026, 19:05 CET") of an aware datetime already in the zone to show:
    what date_format() gives for "c" and MOMENT_FORMAT, written directly, since a list shows
    up to a hundred moments and date_format() costs several times more. An hour that a
    daylight-saving change makes ambiguous (date_format() then names no zone) is left to
    date_format(), so that every page writes it the same way."""
    zone = local.tzinfo
    if zone is None or zone.utcoffset(local.replace(fold=not local.fold)) != local.utcoffset():
        return date_format(local, "c"), date_format(local, MOMENT_FORMAT)
    text = (
        f"{local.day} {_MONTHS[local.month - 1]} {local.year}, "
        f"{local.hour:02}:{local.minute:02} {local.tzname()}"
    )
    return local.isoformat(), text


def moment_html(value) -> str:
    """An aware datetime as a <time> element: machine-readable, and in the viewer's zone as
    moment_text() writes it. The one writer of moments in pages (filters, list tags)."""
    return format_html('<time datetime="{}">{}</time>', *moment_parts(timezone.localtime(value)))


def moment_text(value) -> str:
    """An aware datetime in the viewer's zone, 24-hour: "1 Dec 2026, 19:05 CET"."""
    if _is_missing(value):
        return MISSING
    return moment_parts(timezone.localtime(value))[1]


def day_text(value) -> str:
    if _is_missing(value):
        return MISSING
    return date_format(value, DAY_FORMAT)
