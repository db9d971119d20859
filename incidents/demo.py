"""Demo incidents for `make run` (portal.demo loads them): half a year of history for the
lists and the metrics page, and one incident still being worked on.

Past incidents are written as they happened, with their own times, rather than through the
actions, which stamp the present; the open one goes through the actions. Loading again adds
only what is missing (incidents are known by title).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from incidents.actions.incidents import (
    incident_add_note,
    incident_assign_role,
    incident_change_status,
    incident_declare,
)
from incidents.choices import IncidentRole, IncidentStatus, TimelineKind
from incidents.models.incidents import Incident, TimelineEntry
from incidents.references import next_incident_reference
from services.models.catalog import Service


@dataclass(frozen=True)
class DemoIncident:
    title: str
    severity: str
    services: tuple[str, ...]
    commander: str
    days_ago: float
    # Minutes from the start to detection, from detection to acknowledgement, and from
    # the start to resolution.
    detect: int
    acknowledge: int
    resolve: int
    closed: bool = False
    impact: str = ""


PAST_INCIDENTS = [
    DemoIncident(
        "Search results hours out of date",
        "SEV3",
        ("search-indexer", "search-api"),
        "nora",
        3,
        25,
        10,
        140,
        impact="Searches showed prices and stock from the morning.",
    ),
    DemoIncident(
        "Checkout pages slow during the spring sale",
        "SEV2",
        ("checkout-web", "cart"),
        "lena",
        12,
        6,
        4,
        75,
        impact="One in five checkouts took over ten seconds.",
    ),
    DemoIncident(
        "Sign-in failures after a certificate rotation",
        "SEV1",
        ("auth", "accounts"),
        "aisha",
        27,
        3,
        2,
        48,
        impact="No customer could sign in for 45 minutes.",
    ),
    DemoIncident(
        "Payout files delivered late", "SEV3", ("payouts",), "marco", 41, 90, 15, 300, True
    ),
    DemoIncident(
        "Event pipeline backlog", "SEV4", ("event-pipeline",), "mei", 55, 60, 30, 480, True
    ),
    DemoIncident("Gateway 502s in one region", "SEV2", ("api-gateway",), "ines", 70, 5, 5, 35),
    DemoIncident(
        "Recommendations missing on product pages",
        "SEV4",
        ("recommendations",),
        "sam",
        88,
        120,
        60,
        600,
        True,
    ),
    DemoIncident(
        "Refund confirmations not sent", "SEV3", ("refunds",), "marco", 103, 45, 20, 200, True
    ),
    DemoIncident("Order history timeouts", "SEV3", ("orders",), "tomas", 131, 15, 10, 95, True),
    DemoIncident(
        "Metrics gaps after an upgrade",
        "SEV4",
        ("metrics-stack",),
        "david",
        150,
        240,
        30,
        720,
        True,
    ),
]

OPEN_INCIDENT = DemoIncident(
    "Card payments declined for some issuers",
    "SEV2",
    ("payments-api", "fraud-scoring"),
    "priya",
    0.03,
    4,
    3,
    0,
    impact="About 8 % of card payments are declined.",
)


@transaction.atomic
def load_demo_incidents(now: datetime) -> int:
    """Create the demo incidents that are missing; returns how many were created."""
    existing = set(
        Incident.objects.filter(
            title__in=[demo.title for demo in (*PAST_INCIDENTS, OPEN_INCIDENT)]
        ).values_list("title", flat=True)
    )
    people = {user.username: user for user in get_user_model().objects.all()}
    services = {service.slug: service for service in Service.objects.all()}
    created = 0
    # Oldest first, so that references follow the order the incidents happened in.
    for demo in sorted(PAST_INCIDENTS, key=lambda demo: -demo.days_ago):
        if demo.title not in existing and _cast_present(demo, people, services):
            _past_incident(demo, now, people, services)
            created += 1
    if OPEN_INCIDENT.title not in existing and _cast_present(OPEN_INCIDENT, people, services):
        _open_incident(OPEN_INCIDENT, now, people, services)
        created += 1
    return created


def _cast_present(demo: DemoIncident, people, services) -> bool:
    # Someone may have removed a demo person or service since the first load.
    return demo.commander in people and set(demo.services) <= set(services)


def _past_incident(demo: DemoIncident, now, people, services) -> None:
    started = now - timedelta(days=demo.days_ago)
    detected = started + timedelta(minutes=demo.detect)
    resolved = started + timedelta(minutes=demo.resolve)
    commander = people[demo.commander]
    affected = [services[slug] for slug in demo.services]
    incident = Incident(
        title=demo.title,
        severity=demo.severity,
        status=IncidentStatus.CLOSED if demo.closed else IncidentStatus.RESOLVED,
        impact=demo.impact,
        team_id=affected[0].owner_team_id,
        commander=commander,
        declared_by=commander,
        started_at=started,
        detected_at=detected,
        acknowledged_at=detected + timedelta(minutes=demo.acknowledge),
        mitigated_at=resolved - (resolved - detected) / 4,
        resolved_at=resolved,
        closed_at=resolved + timedelta(days=2) if demo.closed else None,
    )
    incident.full_clean(exclude=["reference"])
    incident.reference = next_incident_reference(started.year)
    incident.save()
    incident.services.set(affected)
    name = commander.get_full_name()
    events = [
        (detected, TimelineKind.DECLARED, f"Declared {demo.severity} by {name}.", False),
        (
            incident.mitigated_at,
            TimelineKind.STATUS_CHANGE,
            "Status: Investigating → Monitoring.",
            True,
        ),
        (resolved, TimelineKind.STATUS_CHANGE, "Status: Monitoring → Resolved.", False),
    ]
    if demo.closed:
        events.append(
            (incident.closed_at, TimelineKind.STATUS_CHANGE, "Status: Resolved → Closed.", False)
        )
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            incident=incident, at=at, kind=kind, text=text, author=commander, pinned=pinned
        )
        for at, kind, text, pinned in events
    )


def _open_incident(demo: DemoIncident, now, people, services) -> None:
    commander = people[demo.commander]
    started = now - timedelta(days=demo.days_ago)
    incident = incident_declare(
        title=demo.title,
        severity=demo.severity,
        services=[services[slug] for slug in demo.services],
        declared_by=commander,
        impact=demo.impact,
        started_at=started,
        detected_at=started + timedelta(minutes=demo.detect),
        commander=commander,
    )
    scribe = people.get("marco", commander)
    incident_assign_role(incident=incident, role=IncidentRole.SCRIBE, user=scribe, by=commander)
    incident_add_note(
        incident=incident,
        text="Declines come from two issuers only; their 3-D Secure callbacks time out.",
        by=scribe,
        pinned=True,
    )
    incident_change_status(
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        by=commander,
        note="Raising the callback timeout and asking the issuers.",
    )
