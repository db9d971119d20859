"""The SLI data the suite's Prometheus holds: the request counters of one job, "checkout", scraped
every minute on the minute, with known increments so that every bucket's counts are exact.

- Each minute adds 100 requests answered 200 and 1 answered 500; from 11:30 to 11:45 on the last
  day, 20 answered 500 per minute (a fast burn).
- Scrapes from 10:21 to 10:39 on the last day are missing (a gap): the buckets of 10:20, 10:25,
  10:30 and 10:35 have fewer than two samples, so Prometheus has no rate for them.
- The 200 counter restarts from zero just after 11:01 on the last day (a counter reset), which
  rate() makes up for: its buckets still count 500 good requests.

The test data is written as OpenMetrics text and turned into TSDB blocks with promtool; the same
constants give the counts a test expects, so the two cannot drift apart.
"""

from datetime import UTC, datetime, timedelta

from services.budget.windows import BUCKET

MINUTE = timedelta(minutes=1)
FIRST_SCRAPE = datetime(2026, 10, 31, 0, 0, tzinfo=UTC)
LAST_SCRAPE = datetime(2026, 11, 1, 12, 10, tzinfo=UTC)
GAP = (datetime(2026, 11, 1, 10, 21, tzinfo=UTC), datetime(2026, 11, 1, 10, 40, tzinfo=UTC))
RESET_AT = datetime(2026, 11, 1, 11, 2, tzinfo=UTC)
INCIDENT = (datetime(2026, 11, 1, 11, 30, tzinfo=UTC), datetime(2026, 11, 1, 11, 45, tzinfo=UTC))

GOOD_PER_MINUTE = 100
BAD_PER_MINUTE = 1
INCIDENT_BAD_PER_MINUTE = 20

EVENTS_QUERY = 'sum(rate(http_requests_total{job="checkout",code!~"5.."}[{{.window}}]))'
BAD_EVENTS_QUERY = 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))'
TOTAL_QUERY = 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))'


def scrape_times() -> list[datetime]:
    times, moment = [], FIRST_SCRAPE
    while moment <= LAST_SCRAPE:
        if not GAP[0] <= moment < GAP[1]:
            times.append(moment)
        moment += MINUTE
    return times


def bad_in_minute_ending(moment: datetime) -> int:
    incident = INCIDENT[0] < moment <= INCIDENT[1]
    return INCIDENT_BAD_PER_MINUTE if incident else BAD_PER_MINUTE


def counter_values(moment: datetime) -> tuple[int, int]:
    """The 200 and 500 counters at a scrape."""
    if moment < RESET_AT:
        good = 1000 + GOOD_PER_MINUTE * ((moment - FIRST_SCRAPE) // MINUTE)
    else:
        good = GOOD_PER_MINUTE * ((moment - RESET_AT) // MINUTE + 1)
    incident_minutes = max(0, (min(moment, INCIDENT[1]) - INCIDENT[0]) // MINUTE)
    bad = (
        50
        + BAD_PER_MINUTE * ((moment - FIRST_SCRAPE) // MINUTE)
        + (INCIDENT_BAD_PER_MINUTE - BAD_PER_MINUTE) * incident_minutes
    )
    return good, bad


def openmetrics() -> str:
    lines = ["# TYPE http_requests counter", "# HELP http_requests Requests answered."]
    for moment in scrape_times():
        good, bad = counter_values(moment)
        stamp = int(moment.timestamp())
        lines.append(f'http_requests_total{{code="200",job="checkout"}} {good} {stamp}')
        lines.append(f'http_requests_total{{code="500",job="checkout"}} {bad} {stamp}')
    return "\n".join([*lines, "# EOF", ""])


def expected_bucket(start: datetime) -> tuple[int, int] | None:
    """(good, total) of the bucket from `start`, or None where the gap leaves it without data.
    Every bucket with data has all six scrapes of its range (start to end, both included)."""
    scrapes = set(scrape_times())
    minutes = [start + n * MINUTE for n in range(6)]
    present = sum(moment in scrapes for moment in minutes)
    if present < 2:
        return None
    assert present == 6, f"bucket {start} is partly covered: the test data would be inexact"
    bad = sum(bad_in_minute_ending(moment) for moment in minutes[1:])
    good = GOOD_PER_MINUTE * (BUCKET // MINUTE)
    return good, good + bad


def expected_buckets(start: datetime, end: datetime) -> dict[datetime, tuple[int, int]]:
    """Every bucket with data starting in [start, end)."""
    buckets, moment = {}, start
    while moment < end:
        counts = expected_bucket(moment)
        if counts is not None:
            buckets[moment] = counts
        moment += BUCKET
    return buckets
