"""The compliance metrics the suite's Prometheus holds for the compliance tests, written as
OpenMetrics and turned into TSDB blocks with promtool, a series per service:

- personal_data_oldest_record_age_days{service}: payments-api keeps 20 days, ledger 45;
  "twins" has two series (two instances), which a query must aggregate;
- actions_without_consent_total{service}: flat for payments-api (no action without consent),
  one more a minute for ledger.

The samples cover the six hours up to END, a whole hour at least two hours before the suite
starts, so that the data is in the past on any clock; tests evaluate at END.
"""

from datetime import UTC, datetime, timedelta

MINUTE = timedelta(minutes=1)
SPAN = timedelta(hours=6)

OLDEST_RECORD_DAYS = {"payments-api": 20, "ledger": 45}
TWINS = {"a": 10, "b": 12}
CONSENT_PER_MINUTE = {"payments-api": 0, "ledger": 1}


def end_of_data(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


def openmetrics(end: datetime) -> str:
    lines = [
        "# TYPE personal_data_oldest_record_age_days gauge",
        "# HELP personal_data_oldest_record_age_days Age of the oldest personal record.",
    ]
    moments = []
    moment = end - SPAN
    while moment <= end:
        moments.append(moment)
        moment += MINUTE
    for moment in moments:
        stamp = int(moment.timestamp())
        for service, days in OLDEST_RECORD_DAYS.items():
            lines.append(
                f'personal_data_oldest_record_age_days{{service="{service}"}} {days} {stamp}'
            )
        for instance, days in TWINS.items():
            lines.append(
                f'personal_data_oldest_record_age_days{{instance="{instance}",service="twins"}} '
                f"{days} {stamp}"
            )
    lines += [
        "# TYPE actions_without_consent counter",
        "# HELP actions_without_consent Actions on personal data without a consent record.",
    ]
    for index, moment in enumerate(moments):
        stamp = int(moment.timestamp())
        for service, per_minute in CONSENT_PER_MINUTE.items():
            lines.append(
                f'actions_without_consent_total{{service="{service}"}} '
                f"{3 + per_minute * index} {stamp}"
            )
    return "\n".join([*lines, "# EOF", ""])
