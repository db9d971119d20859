"""Alert intake from Prometheus Alertmanager's webhook (payload version 4): applying a delivery.

Nothing is written from a payload that is not understood: ``incidents.alertmanager.payload``
checks it first (``parse_webhook``). ``webhook_receive(webhook=...)`` then applies it in one
transaction:

  firing alerts
      find the open incident of the webhook's group key, or declare one (severity from the
      alerts' ``severity`` labels through ``settings.ALERT_SEVERITY_MAP``, the most severe
      wins, ``ALERT_DEFAULT_SEVERITY`` otherwise; affected services from the ``service``
      labels matched to catalog slugs; title from ``commonAnnotations.summary`` or the
      alert name). Each alert fingerprint new to the incident gets one timeline entry,
      and adds the services it names; a more severe one raises the incident's severity.
      A firing alert on an incident in monitoring reopens it to investigating.
  resolved alerts
      one timeline entry each; once every alert of the incident is resolved, the incident
      moves to monitoring (a person confirms the recovery and resolves it), mitigated when
      the last of its alerts ended.

Alertmanager re-sends a group's notification on every ``repeat_interval`` and retries
failed deliveries, so the same payload arrives many times, and not always in order: an
alert's state is stored per (incident, fingerprint) and compared, by ``startsAt``, with the
latest state of that fingerprint in the group (``news``). A re-delivery, or a stale firing
notification arriving after the resolved one, changes nothing; only a later ``startsAt`` is a
new firing. A delivery costs a few bulk statements whatever its size, and its timeline gets
one entry per alert up to ALERT_ENTRIES_PER_DELIVERY per event, then one entry for the rest.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import Truncator

from incidents import limits
from incidents.actions.incidents import (
    incident_change_severity,
    incident_change_status,
    incident_declare,
    incident_update,
)
from incidents.alertmanager.payload import FIRING, RESOLVED, Alert, Webhook
from incidents.choices import IncidentSource, IncidentStatus, Severity, TimelineKind
from incidents.lifecycle import TIMESTAMP_ORDER
from incidents.models.incidents import Incident, IncidentAlert, TimelineEntry
from services.models.catalog import Service

#: Incidents that move to monitoring by themselves once all their alerts are resolved.
AWAITING_RECOVERY = frozenset({IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED})
#: Timeline entries per delivery and event (fired, resolved, …): beyond, one entry sums up.
ALERT_ENTRIES_PER_DELIVERY = 20
#: An alert's timeline entry: its labels and summary, cut to fit.
ALERT_TEXT_MAX_LENGTH = 2_000


@dataclass
class IntakeOutcome:
    """What one delivery changed, as the endpoint reports it to Alertmanager's logs."""

    incident: Incident | None = None
    created: bool = False
    firing: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    status_change: tuple[str, str] | None = None
    unknown_services: list[str] = field(default_factory=list)
    detail: str = ""

    def as_dict(self) -> dict:
        return {
            "incident": self.incident.reference if self.incident else None,
            "status": self.incident.status if self.incident else None,
            "created": self.created,
            "alerts_firing": self.firing,
            "alerts_resolved": self.resolved,
            "status_change": list(self.status_change) if self.status_change else None,
            "unknown_services": self.unknown_services,
            "detail": self.detail,
        }


def alert_severity(alerts) -> str | None:
    """The most severe incident severity that the alerts' ``severity`` labels map to
    through ``settings.ALERT_SEVERITY_MAP``; None when no label maps."""
    mapping = {label.lower(): code for label, code in settings.ALERT_SEVERITY_MAP.items()}
    mapped = {mapping.get(alert.labels.get("severity", "").lower()) for alert in alerts}
    # SEV1 is the most severe, and the codes sort that way.
    return min(mapped & set(Severity.values), default=None)


def alert_title(webhook: Webhook) -> str:
    title = (
        webhook.common_annotations.get("summary")
        or webhook.common_labels.get("alertname")
        or next((alert.name for alert in webhook.alerts if alert.name), "")
        or f"Alert group {webhook.group_key}"
    )
    return Truncator(" ".join(title.split())).chars(Incident._meta.get_field("title").max_length)


def _services_named(alerts) -> tuple[list[Service], list[str]]:
    """Catalog services whose slugs the alerts' ``service`` labels name, in the order
    named (the first one's team owns the incident), and the labels that match none."""
    names = list(dict.fromkeys(a.labels["service"] for a in alerts if a.labels.get("service")))
    found = Service.objects.in_bulk(names, field_name="slug")
    return [found[name] for name in names if name in found], [n for n in names if n not in found]


def _alert_text(alert: Alert, event: str) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    text = f"Alert {alert.name or alert.fingerprint} {event}"
    text += f" ({shown})." if shown else "."
    detail = alert.annotations.get("summary") or alert.annotations.get("description")
    text = f"{text}\n\n{detail}" if detail else text
    return Truncator(text).chars(ALERT_TEXT_MAX_LENGTH)


def _summary_text(alerts: list[Alert], event: str) -> str:
    """One entry for the alerts of a delivery beyond ALERT_ENTRIES_PER_DELIVERY: a group of
    thousands would bury the timeline otherwise."""
    names = ", ".join(sorted({alert.name or alert.fingerprint for alert in alerts})[:10])
    text = f"{len(alerts):,} more alerts {event} ({names})."
    return Truncator(text).chars(ALERT_TEXT_MAX_LENGTH)


def _history(group_key: str, fingerprints: list[str]) -> dict[str, IncidentAlert]:
    """The latest stored state of each fingerprint in the group, on any of its incidents (one
    query): what a delivery is compared with."""
    latest: dict[str, IncidentAlert] = {}
    stored = (
        IncidentAlert.objects.filter(
            incident__alert_group_key=group_key, fingerprint__in=fingerprints
        )
        .only("fingerprint", "status", "starts_at")
        .order_by("starts_at", "updated_at", "id")
    )
    for alert in stored:
        latest[alert.fingerprint] = alert
    return latest


def news(alert: Alert, known: IncidentAlert | None) -> str | None:
    """What this alert's state in a delivery tells that the stored one does not: "fired",
    "fired again", "resolved", or None for a re-delivery or a stale notification.

    Each firing of an alert has its own ``startsAt``, so an older ``startsAt`` than the one
    stored is news of an earlier firing (delivered late) and a firing notification with the
    stored ``startsAt`` of a resolved alert is the re-delivery of a firing that has since
    ended. Only a later ``startsAt`` is a new firing.
    """
    if known is None:
        return "fired" if alert.status == FIRING else "resolved"
    if alert.starts_at < known.starts_at:
        return None
    if alert.status == FIRING:
        # A later start is a new firing, even when the end of the last one never arrived.
        return "fired again" if alert.starts_at > known.starts_at else None
    if known.status == RESOLVED and alert.starts_at == known.starts_at:
        return None
    return "resolved"


def _locked_open_incident(group_key: str) -> Incident | None:
    return Incident.objects.open().select_for_update().filter(alert_group_key=group_key).first()


def _changes(webhook: Webhook) -> list[tuple[Alert, str]]:
    """The alerts of the delivery that tell something new, with what (see ``news``)."""
    known = _history(webhook.group_key, [alert.fingerprint for alert in webhook.alerts])
    changes = [(alert, news(alert, known.get(alert.fingerprint))) for alert in webhook.alerts]
    return [(alert, event) for alert, event in changes if event]


def _firing(changes: list[tuple[Alert, str]]) -> list[Alert]:
    return [alert for alert, _ in changes if alert.status == FIRING]


def _incident_for(
    webhook: Webhook, outcome: IntakeOutcome
) -> tuple[Incident | None, list[tuple[Alert, str]]]:
    """The group's open incident, locked for this delivery (declared when alerts newly fire
    and there is none), and the delivery's news compared with what is stored once the lock
    is held: a concurrent delivery of the same alerts has committed by then."""
    incident = _locked_open_incident(webhook.group_key)
    changes = _changes(webhook)
    firing = _firing(changes)
    if incident is not None or not firing:
        return incident, changes
    services, outcome.unknown_services = _services_named(firing)
    try:
        with transaction.atomic():
            incident = incident_declare(
                title=alert_title(webhook),
                severity=alert_severity(firing) or settings.ALERT_DEFAULT_SEVERITY,
                services=services,
                summary=Truncator(webhook.common_annotations.get("description", "")).chars(
                    limits.SUMMARY_MAX_LENGTH
                ),
                # A clock ahead of ours must not put the start in the future.
                started_at=min(min(alert.starts_at for alert in firing), timezone.now()),
                source=IncidentSource.ALERT,
                group_key=webhook.group_key,
            )
    except (IntegrityError, ValidationError):
        # A concurrent delivery of the same group declared it first (one open incident
        # per group key is a constraint): carry on with that one, and with what it stored.
        incident = _locked_open_incident(webhook.group_key)
        if incident is None:
            raise
        return incident, _changes(webhook)
    outcome.created = True
    return incident, changes


def _record_alerts(
    incident: Incident, changes: list[tuple[Alert, str]], outcome: IntakeOutcome
) -> list[IncidentAlert]:
    """Store the changed alerts' states on the incident, with a timeline entry per change
    (up to ALERT_ENTRIES_PER_DELIVERY per event, then one entry for the rest), in a few
    bulk statements whatever the number of alerts; return all of the incident's alerts as
    they now are."""
    now = timezone.now()
    # What the incident's state needs of its other alerts: no labels (JSON) to decode.
    stored = {
        alert.fingerprint: alert
        for alert in incident.alerts.only(
            "incident", "fingerprint", "status", "starts_at", "ends_at"
        )
    }
    written, entries_by_event = [], {}
    for alert, event in changes:
        if alert.status == FIRING:
            outcome.firing.append(alert.fingerprint)
            at = alert.starts_at
        else:
            outcome.resolved.append(alert.fingerprint)
            at = alert.ends_at or now
        state = IncidentAlert(
            incident=incident,
            fingerprint=alert.fingerprint,
            status=alert.status,
            labels=alert.labels,
            annotations=alert.annotations,
            starts_at=alert.starts_at,
            ends_at=alert.ends_at,
            created_at=now,
            updated_at=now,
        )
        written.append(state)
        stored[alert.fingerprint] = state
        entries_by_event.setdefault(event, []).append((min(at, now), alert))
    # One upsert for new and changed alerts alike (an UPDATE of thousands of rows through
    # bulk_update's CASE expressions took seconds); a known alert keeps its row and id.
    IncidentAlert.objects.bulk_create(
        written,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["incident", "fingerprint"],
        update_fields=["status", "labels", "annotations", "starts_at", "ends_at", "updated_at"],
    )
    entries = []
    for event, happened in entries_by_event.items():
        happened.sort(key=lambda pair: pair[0])
        shown, rest = happened[:ALERT_ENTRIES_PER_DELIVERY], happened[ALERT_ENTRIES_PER_DELIVERY:]
        entries += [
            TimelineEntry(
                incident=incident, kind=TimelineKind.ALERT, text=_alert_text(alert, event), at=at
            )
            for at, alert in shown
        ]
        if rest:
            entries.append(
                TimelineEntry(
                    incident=incident,
                    kind=TimelineKind.ALERT,
                    text=_summary_text([alert for _, alert in rest], event),
                    at=rest[-1][0],
                )
            )
    # The times were checked when the payload was parsed and the texts are cut to fit: the
    # entries are written in one statement, not validated one by one.
    TimelineEntry.objects.bulk_create(entries, batch_size=1000)
    return list(stored.values())


def _mitigated_at(incident: Incident, alerts: list[IncidentAlert]) -> datetime:
    """When the incident stopped hurting: the latest end of its resolved alerts (the delivery
    time for one without an end), though never in the future (a clock ahead of ours) nor
    before the times the incident already has (they must stay in order)."""
    now = timezone.now()
    ended = max(alert.ends_at or now for alert in alerts)
    earlier = TIMESTAMP_ORDER[: TIMESTAMP_ORDER.index("mitigated_at")]
    known = [getattr(incident, name) for name in earlier if getattr(incident, name) is not None]
    return max(min(ended, now), *known)


def _follow_new_alerts(incident: Incident, webhook: Webhook, outcome: IntakeOutcome) -> None:
    """Alerts that newly fire on an existing incident add the services they name, and
    raise its severity when they map to a worse one (never lower it: a person may have
    judged it worse than the alerts do)."""
    fired = [alert for alert in webhook.alerts if alert.fingerprint in outcome.firing]
    severity = alert_severity(fired)
    if severity is not None and severity < incident.severity:
        incident_change_severity(
            incident=incident, severity=severity, note="A more severe alert fired."
        )
    services, outcome.unknown_services = _services_named(fired)
    affected = list(incident.services.all())
    if not set(services) <= set(affected):
        incident_update(
            incident=incident, services=affected + [s for s in services if s not in affected]
        )


@transaction.atomic
def webhook_receive(*, webhook: Webhook) -> IntakeOutcome:
    """Apply one webhook delivery (see the module docstring); all of it or nothing. Its cost
    is a handful of queries whatever the number of alerts (bench/incidents.py --intake)."""
    outcome = IntakeOutcome()
    incident, changes = _incident_for(webhook, outcome)
    outcome.incident = incident
    if incident is None:
        if any(alert.status == FIRING for alert in webhook.alerts):
            outcome.detail = (
                "Already recorded (a re-delivery or a stale notification); nothing changed."
            )
        else:
            outcome.detail = "No open incident for this alert group; nothing to resolve."
        return outcome
    alerts = _record_alerts(incident, changes, outcome) if changes else list(incident.alerts.all())
    still_firing = any(alert.status == FIRING for alert in alerts)
    if outcome.firing and not outcome.created:
        _follow_new_alerts(incident, webhook, outcome)
    before = incident.status
    if outcome.firing and before == IncidentStatus.MONITORING:
        incident_change_status(
            incident=incident, status=IncidentStatus.INVESTIGATING, note="An alert fired again."
        )
    elif outcome.resolved and not still_firing and before in AWAITING_RECOVERY:
        incident_change_status(
            incident=incident,
            status=IncidentStatus.MONITORING,
            note="All of its alerts are resolved; confirm the recovery, then resolve it.",
            at=_mitigated_at(incident, alerts),
        )
    if incident.status != before:
        outcome.status_change = (before, incident.status)
    if not (outcome.created or outcome.firing or outcome.resolved):
        outcome.detail = "Already recorded; nothing changed."
    return outcome
