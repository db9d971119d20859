"""Alertmanager's webhook payload (version 4): checking it before anything is written.

Alert intake from Prometheus Alertmanager's webhook takes two steps, kept apart so that nothing
is written from a payload that is not understood. This module is the first; applying a checked
payload is ``incidents.alertmanager.intake``.

``parse_webhook(data)`` checks the decoded JSON against the version 4 shape and returns a
``Webhook`` of plain dataclasses, or raises ``PayloadError`` naming the offending field
(``alerts[1].startsAt``): NUL characters, times more than five years back or a day ahead,
fingerprints and group keys longer than the database holds, and more than
``limits.MAX_ALERTS_PER_DELIVERY`` alerts are refused.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents import limits
from incidents.models.incidents import Incident, IncidentAlert

SUPPORTED_VERSION = "4"
FIRING = "firing"
RESOLVED = "resolved"
ALERT_STATUSES = (FIRING, RESOLVED)
# Alertmanager's JSON for "no end time yet": Go's zero time.
ZERO_TIME = datetime.fromisoformat("0001-01-01T00:00:00+00:00")


class PayloadError(ValueError):
    """The webhook body is not an Alertmanager version 4 payload; ``field`` names where."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class Webhook:
    version: str
    group_key: str
    truncated_alerts: int
    status: str
    receiver: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    alerts: tuple[Alert, ...]


def _required(data: dict, key: str, path: str):
    if key not in data:
        raise PayloadError(path, "is required.")
    return data[key]


def _no_nul(value: str, path: str) -> str:
    # PostgreSQL text and jsonb cannot hold a NUL character: refuse it here, naming where.
    if "\x00" in value:
        raise PayloadError(path, "must not contain NUL characters.")
    return value


def _string(
    data: dict,
    key: str,
    path: str,
    *,
    required: bool = True,
    blank: bool = True,
    max_length: int | None = None,
) -> str:
    value = _required(data, key, path) if required else data.get(key, "")
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise PayloadError(path, "must be a string.")
    if not blank and not value.strip():
        raise PayloadError(path, "must not be empty.")
    if max_length is not None and len(value) > max_length:
        raise PayloadError(path, f"must be at most {max_length:,} characters.")
    return _no_nul(value, path)


def _status(data: dict, path: str) -> str:
    value = _string(data, "status", path)
    if value not in ALERT_STATUSES:
        raise PayloadError(path, f'must be "firing" or "resolved", not {value!r}.')
    return value


def _label_set(data: dict, key: str, path: str) -> dict[str, str]:
    """Labels and annotations: string to string. Absent or null counts as empty."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(path, "must be an object of strings.")
    for name, text in value.items():
        _no_nul(name, f"{path}.{name.replace(chr(0), '')}")
        if not isinstance(text, str):
            raise PayloadError(f"{path}.{name}", "must be a string.")
        _no_nul(text, f"{path}.{name}")
    return dict(value)


def _time(data: dict, key: str, path: str, *, required: bool, now: datetime) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise PayloadError(path, "is required.")
        return None
    if not isinstance(value, str):
        raise PayloadError(path, "must be an RFC 3339 time string.")
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise PayloadError(path, f"must be an RFC 3339 time with a UTC offset, not {value!r}.")
    if parsed == ZERO_TIME:
        if required:
            raise PayloadError(path, "must be a real time, not the zero time.")
        return None
    problem = limits.implausible_time(parsed, now=now, skew=limits.ALERT_CLOCK_SKEW)
    if problem:
        raise PayloadError(path, f"{problem[0].upper()}{problem[1:]}")
    return parsed


def _alert(data, path: str, now: datetime) -> Alert:
    if not isinstance(data, dict):
        raise PayloadError(path, "must be an object.")
    fingerprint_length = IncidentAlert._meta.get_field("fingerprint").max_length
    return Alert(
        status=_status(data, f"{path}.status"),
        labels=_label_set(data, "labels", f"{path}.labels"),
        annotations=_label_set(data, "annotations", f"{path}.annotations"),
        starts_at=_time(data, "startsAt", f"{path}.startsAt", required=True, now=now),
        ends_at=_time(data, "endsAt", f"{path}.endsAt", required=False, now=now),
        generator_url=_string(data, "generatorURL", f"{path}.generatorURL", required=False),
        fingerprint=_string(
            data,
            "fingerprint",
            f"{path}.fingerprint",
            blank=False,
            max_length=fingerprint_length,
        ),
    )


def parse_webhook(data) -> Webhook:
    """Check a decoded webhook body; return it as dataclasses or raise PayloadError."""
    if not isinstance(data, dict):
        raise PayloadError("", "The body must be a JSON object.")
    version = _string(data, "version", "version")
    if version != SUPPORTED_VERSION:
        raise PayloadError("version", f'must be "{SUPPORTED_VERSION}", not {version!r}.')
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("truncatedAlerts", "must be a whole number, 0 or more.")
    alerts = _required(data, "alerts", "alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts", "must be a non-empty list of alerts.")
    if len(alerts) > limits.MAX_ALERTS_PER_DELIVERY:
        raise PayloadError(
            "alerts",
            f"holds {len(alerts):,} alerts; the portal takes at most "
            f"{limits.MAX_ALERTS_PER_DELIVERY:,} per delivery. Set max_alerts in the "
            "webhook's configuration: Alertmanager then sends the first ones and counts the "
            "rest in truncatedAlerts.",
        )
    now = timezone.now()
    parsed = tuple(_alert(alert, f"alerts[{index}]", now) for index, alert in enumerate(alerts))
    seen = set()
    for index, alert in enumerate(parsed):
        if alert.fingerprint in seen:
            raise PayloadError(f"alerts[{index}].fingerprint", "appears twice in one payload.")
        seen.add(alert.fingerprint)
    group_key_length = Incident._meta.get_field("alert_group_key").max_length
    return Webhook(
        version=version,
        group_key=_string(data, "groupKey", "groupKey", blank=False, max_length=group_key_length),
        truncated_alerts=truncated,
        status=_status(data, "status"),
        receiver=_string(data, "receiver", "receiver", required=False),
        group_labels=_label_set(data, "groupLabels", "groupLabels"),
        common_labels=_label_set(data, "commonLabels", "commonLabels"),
        common_annotations=_label_set(data, "commonAnnotations", "commonAnnotations"),
        external_url=_string(data, "externalURL", "externalURL", required=False),
        alerts=parsed,
    )
