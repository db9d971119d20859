"""When freeze windows are in force. Pure: a freeze is its first occurrence (start and end),
the time zone it was planned in, and optionally an RFC 5545 recurrence rule
(``FREQ=WEEKLY;BYDAY=FR``) that repeats it, expanded with python-dateutil.

Occurrences repeat in wall-clock time: "every Friday 16:00 to Monday 08:00 in Europe/Paris"
starts at 16:00 and ends at 08:00 Paris time on either side of a daylight-saving change, so
such a weekend lasts 63 or 65 hours then rather than 64.
"""

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrulestr

#: Freezes repeat at most daily: a rule firing every hour or minute is a mistake, and would
#: cost thousands of occurrences to expand.
ALLOWED_FREQUENCIES = frozenset({DAILY, WEEKLY, MONTHLY, YEARLY})
#: How many occurrences one expansion reads at most.
MAX_OCCURRENCES = 1000
#: How far "frozen until" looks ahead when back-to-back occurrences chain.
UNTIL_HORIZON = timedelta(days=120)


@dataclass(frozen=True)
class FreezeRule:
    """A freeze as toil.freezes reads it; ``key`` is whatever identifies it to the caller."""

    key: object
    start: datetime
    end: datetime
    time_zone: str
    recurrence: str = ""


@functools.lru_cache(maxsize=4096)
def _rule(text: str, local_start: datetime):
    """The parsed rule, kept per process with the occurrences it has produced (``cache``): the
    gate and the calendar ask the same few rules again and again, and each answer would
    otherwise walk every occurrence since the first again.

    ignoretz: an UNTIL written with "Z" reads as wall-clock time in the freeze's zone, as
    DTSTART does; mixing the two would make dateutil refuse the rule."""
    return rrulestr(text, dtstart=local_start, ignoretz=True, cache=True)


def scope_errors(scope: str, *, team, service) -> dict[str, str]:
    """What a freeze of ``scope`` lacks, by field: the team of a team freeze, the service of
    a service freeze. The model, the form and the API say it in these words."""
    if scope == "team" and team is None:
        return {"team": "Choose the team whose services it freezes."}
    if scope == "service" and service is None:
        return {"service": "Choose the service it freezes."}
    return {}


def recurrence_error(text: str) -> str | None:
    """Why a recurrence rule cannot be used, or None when it can."""
    text = text.strip()
    if not text:
        return None
    if text.upper().startswith(("RRULE:", "DTSTART", "EXDATE", "RDATE")):
        return "Write the rule's parts only, e.g. FREQ=WEEKLY;BYDAY=FR (no RRULE: prefix)."
    try:
        rule = _rule(text, datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return f"Not an RFC 5545 recurrence rule: {error}."
    frequency = getattr(rule, "_freq", None)
    if frequency not in ALLOWED_FREQUENCIES:
        return "A freeze repeats daily, weekly, monthly or yearly."
    return None


def occurrences(
    rule: FreezeRule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The occurrences (UTC start, UTC end) of the freeze that overlap [start, end)."""
    if not rule.recurrence.strip():
        overlaps = rule.start < end and rule.end > start
        return [(rule.start, rule.end)] if overlaps else []
    zone = ZoneInfo(rule.time_zone)
    local_start = rule.start.astimezone(zone).replace(tzinfo=None)
    wall_length = rule.end.astimezone(zone).replace(tzinfo=None) - local_start
    # An occurrence that began up to its length (plus a day for the zone's offsets) before
    # `start` may still be running.
    low = (start.astimezone(zone).replace(tzinfo=None)) - wall_length - timedelta(days=1)
    high = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    found = []
    starts = _rule(rule.recurrence, local_start).xafter(max(low, local_start), inc=True)
    for local in itertools.islice(starts, MAX_OCCURRENCES):
        if local > high:
            break
        occurrence_start = local.replace(tzinfo=zone).astimezone(UTC)
        occurrence_end = (local + wall_length).replace(tzinfo=zone).astimezone(UTC)
        if occurrence_start < end and occurrence_end > start:
            found.append((occurrence_start, occurrence_end))
    return found


def active_at(rules: Iterable[FreezeRule], moment: datetime) -> list[tuple[FreezeRule, datetime]]:
    """The freezes in force at ``moment``, each with the end of its current occurrence."""
    active = []
    for rule in rules:
        current = occurrences(rule, moment, moment + timedelta(microseconds=1))
        if current:
            active.append((rule, max(end for _, end in current)))
    return active


def frozen_until(rules: Sequence[FreezeRule], moment: datetime) -> datetime | None:
    """When the freezes in force at ``moment`` are over, back-to-back occurrences of any of
    them chained together (up to UNTIL_HORIZON ahead); None when nothing is frozen."""
    active = active_at(rules, moment)
    if not active:
        return None
    until = max(end for _, end in active)
    upcoming = sorted(
        occurrence
        for rule in rules
        for occurrence in occurrences(rule, moment, moment + UNTIL_HORIZON)
    )
    for occurrence_start, occurrence_end in upcoming:
        if occurrence_start <= until < occurrence_end:
            until = occurrence_end
    return until


def overlapping(
    rules: Iterable[FreezeRule], start: datetime, end: datetime
) -> list[tuple[FreezeRule, datetime, datetime]]:
    """Each freeze with an occurrence overlapping [start, end), with its first such one."""
    found = []
    for rule in rules:
        hits = occurrences(rule, start, end)
        if hits:
            found.append((rule, *hits[0]))
    return found
