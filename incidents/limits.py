"""What incidents accept: the longest texts, the plausible times and the largest alert
deliveries. The models, forms, serializers and the alert intake all read these, so the UI, the
API, the admin and Alertmanager meet the same bounds (README, "Incidents: limits").
Pure: no I/O.
"""

from datetime import date, datetime, timedelta

# --- free text, in characters -----------------------------------------------------------------

TITLE_MAX_LENGTH = 200
SUMMARY_MAX_LENGTH = 5_000
IMPACT_MAX_LENGTH = 5_000
#: A note on the timeline, and the reason given with a change of status or severity.
NOTE_MAX_LENGTH = 5_000
#: A timeline entry as stored: the portal's own heading ("Status: … → …") plus a note.
TIMELINE_TEXT_MAX_LENGTH = 10_000
STATUS_UPDATE_SUBJECT_MAX_LENGTH = 250
STATUS_UPDATE_BODY_MAX_LENGTH = 20_000
#: Each Markdown section of a post-mortem (summary, root cause, five whys, …).
POSTMORTEM_SECTION_MAX_LENGTH = 50_000
ACTION_ITEM_TITLE_MAX_LENGTH = 200
WONT_DO_REASON_MAX_LENGTH = 2_000
SEVERITY_DESCRIPTION_MAX_LENGTH = 2_000

# --- times ------------------------------------------------------------------------------------

#: How far back an incident's times (start, detection, …), a timeline entry or an alert may
#: lie, counted from when the record was written: older is a typo (year 0001 made an MTTR of
#: two thousand years), not an incident anyone still reviews.
MAX_EVENT_AGE = timedelta(days=5 * 365)
#: How far ahead of the portal's clock an event time may be: clocks disagree by seconds, and a
#: sender's clock ahead of ours is read as now.
CLOCK_SKEW = timedelta(minutes=5)
#: An alert's times may be further ahead: Alertmanager sends a firing alert's planned end.
ALERT_CLOCK_SKEW = timedelta(days=1)
#: The latest due date of an action item, in years from today: later is a typo (9999).
ACTION_ITEM_MAX_YEARS_AHEAD = 3

# --- alert intake -----------------------------------------------------------------------------

#: The most alerts one Alertmanager delivery may carry; more is refused with a 400 that says
#: to set ``max_alerts`` in the webhook's configuration (Alertmanager then truncates and
#: reports ``truncatedAlerts``). A delivery of this size is handled well within Alertmanager's
#: default 10 s timeout (bench/incidents.py --intake).
MAX_ALERTS_PER_DELIVERY = 10_000
#: The largest delivery body, in bytes: room for MAX_ALERTS_PER_DELIVERY alerts of about 2 KB
#: each (labels, annotations, the generator URL). Larger is refused with a 413. The portal's
#: general limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) would stop a group of a few thousand.
MAX_DELIVERY_BYTES = 20 * 1024 * 1024


def implausible_time(
    moment: datetime,
    *,
    now: datetime,
    written: datetime | None = None,
    skew: timedelta = CLOCK_SKEW,
) -> str | None:
    """Why ``moment`` cannot be the time of an event recorded at ``written`` (now for a new
    record), or None when it can: not after now (give or take ``skew``), not more than
    MAX_EVENT_AGE before it was recorded."""
    if moment > now + skew:
        return "cannot be in the future."
    earliest = (written or now) - MAX_EVENT_AGE
    if moment < earliest:
        return f"cannot be before {earliest:%Y-%m-%d}: check the year."
    return None


def implausible_due_date(due: date, *, today: date, not_before: date | None = None) -> str | None:
    """Why ``due`` cannot be an action item's due date, or None: within
    ACTION_ITEM_MAX_YEARS_AHEAD years from today, and not before ``not_before`` (the day its
    incident started)."""
    try:
        latest = today.replace(year=today.year + ACTION_ITEM_MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + ACTION_ITEM_MAX_YEARS_AHEAD, day=28)
    if due > latest:
        return f"must be by {latest:%Y-%m-%d} at the latest ({ACTION_ITEM_MAX_YEARS_AHEAD} years)."
    if not_before is not None and due < not_before:
        return f"cannot be before the incident started ({not_before:%Y-%m-%d})."
    return None
