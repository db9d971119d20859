"""Demo incidents for `make run` (portal.demo loads them): half a year of history for the
lists and the metrics page, post-mortems in every state with their action items (some
overdue), and two incidents still being worked on: a SEV2 on Payments (priya's team) and
the gateway's errors that make its SLO page.

Everything is written as it happened, with its own times, rather than through the actions,
which stamp the present: a timeline entry carries the moment it describes. Loading again adds
only what is missing (incidents are known by title, post-mortems by incident).
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents.choices import (
    ActionItemKind,
    ActionItemPriority,
    ActionItemStatus,
    IncidentStatus,
    PostMortemStatus,
    TimelineKind,
)
from incidents.models.incidents import Incident, TimelineEntry
from incidents.models.postmortems import ActionItem, PostMortem
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

#: Minutes after detection, kind, text, author (None: the commander), pinned.
Step = tuple[int, str, str, str | None, bool]


@dataclass(frozen=True)
class DemoOpenIncident:
    incident: DemoIncident
    status: str
    scribe: str | None
    steps: tuple[Step, ...]


OPEN_INCIDENTS = [
    DemoOpenIncident(
        DemoIncident(
            "Card payments declined for some issuers",
            "SEV2",
            ("payments-api", "fraud-scoring"),
            "priya",
            0.03,
            4,
            3,
            0,
            impact="About 8 % of card payments are declined.",
        ),
        IncidentStatus.IDENTIFIED,
        "marco",
        (
            (3, TimelineKind.ROLE_CHANGE, "Marco Bianchi is now scribe.", None, False),
            (
                14,
                TimelineKind.NOTE,
                "Declines come from two issuers only; their 3-D Secure callbacks time out.",
                "marco",
                True,
            ),
            (
                22,
                TimelineKind.STATUS_CHANGE,
                "Status: Investigating → Identified. Raising the callback timeout and asking "
                "the issuers.",
                None,
                False,
            ),
        ),
    ),
    DemoOpenIncident(
        DemoIncident(
            "Gateway 5xx errors for a share of requests",
            "SEV3",
            ("api-gateway",),
            "ines",
            0.03,
            6,
            4,
            0,
            impact="About 3 % of public API requests fail with 502 or 503.",
        ),
        IncidentStatus.INVESTIGATING,
        None,
        (
            (
                2,
                TimelineKind.NOTE,
                "The availability SLO pages: the 1-hour burn rate is above 14.",
                None,
                True,
            ),
            (
                12,
                TimelineKind.NOTE,
                "Errors come from one node pool; draining it.",
                "david",
                False,
            ),
        ),
    ),
]


@dataclass(frozen=True)
class DemoActionItem:
    title: str
    owner: str
    #: Days from today (negative: in the past); done items were completed on it.
    due_in_days: int
    kind: str
    priority: str = ActionItemPriority.P2
    done: bool = False


@dataclass(frozen=True)
class DemoPostMortem:
    incident: str  # the title of its incident
    status: str
    author: str
    reviewers: tuple[str, ...]
    #: Days after the incident's resolution that it falls due.
    due_days: int
    summary: str
    root_cause: str
    items: tuple[DemoActionItem, ...]


POSTMORTEMS = [
    DemoPostMortem(
        "Gateway 502s in one region",
        PostMortemStatus.PUBLISHED,
        "ines",
        ("david",),
        5,
        "A configuration push left one region's gateway without upstreams for 30 minutes.",
        "The push was validated against the schema, not against the live upstream list.",
        (
            DemoActionItem(
                "Validate gateway config against live upstreams",
                "david",
                -50,
                ActionItemKind.PREVENT,
                ActionItemPriority.P1,
                done=True,
            ),
            DemoActionItem(
                "Alert on zero healthy upstreams per region",
                "ines",
                -40,
                ActionItemKind.DETECT,
                done=True,
            ),
            DemoActionItem(
                "Roll config pushes out region by region", "david", -9, ActionItemKind.MITIGATE
            ),
        ),
    ),
    DemoPostMortem(
        "Payout files delivered late",
        PostMortemStatus.PUBLISHED,
        "marco",
        ("priya",),
        7,
        "The nightly payout job waited on a bank's SFTP server that had moved.",
        "The bank's address change went to a mailbox nobody reads.",
        (
            DemoActionItem(
                "Route bank notices to the team's address", "priya", -6, ActionItemKind.PROCESS
            ),
            DemoActionItem(
                "Alert when the payout file is not sent by 05:00",
                "marco",
                -20,
                ActionItemKind.DETECT,
                done=True,
            ),
            DemoActionItem(
                "Document the payout runbook's manual resend",
                "priya",
                3,
                ActionItemKind.MITIGATE,
                ActionItemPriority.P3,
            ),
        ),
    ),
    DemoPostMortem(
        "Sign-in failures after a certificate rotation",
        PostMortemStatus.IN_REVIEW,
        "aisha",
        ("priya", "ines"),
        5,
        "A rotated signing certificate was not trusted by the session service for 45 minutes.",
        "The rotation script updated the issuer before the verifiers.",
        (
            DemoActionItem(
                "Rotate verifiers before the issuer",
                "kenji",
                -2,
                ActionItemKind.PREVENT,
                ActionItemPriority.P1,
            ),
            DemoActionItem(
                "Expiry alerts for every signing certificate", "aisha", 10, ActionItemKind.DETECT
            ),
        ),
    ),
    DemoPostMortem(
        "Checkout pages slow during the spring sale",
        PostMortemStatus.DRAFT,
        "lena",
        (),
        5,
        "Checkout slowed under sale traffic: the basket cache was too small.",
        "",
        (
            DemoActionItem(
                "Load-test checkout at twice the last peak", "tomas", 5, ActionItemKind.PREVENT
            ),
        ),
    ),
]


@transaction.atomic
def load_demo_incidents(now: datetime) -> int:
    """Create the demo incidents and post-mortems that are missing; returns how many
    incidents were created."""
    open_demos = [demo.incident for demo in OPEN_INCIDENTS]
    existing = set(
        Incident.objects.filter(
            title__in=[demo.title for demo in (*PAST_INCIDENTS, *open_demos)]
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
    for demo in OPEN_INCIDENTS:
        if demo.incident.title not in existing and _cast_present(demo.incident, people, services):
            _open_incident(demo, now, people, services)
            created += 1
    for demo in POSTMORTEMS:
        _postmortem(demo, now, people)
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


def _open_incident(demo: DemoOpenIncident, now, people, services) -> None:
    """An incident being worked on, with its timeline as it unfolded: each step at its own
    time since detection."""
    facts = demo.incident
    commander = people[facts.commander]
    started = now - timedelta(days=facts.days_ago)
    detected = started + timedelta(minutes=facts.detect)
    affected = [services[slug] for slug in facts.services]
    incident = Incident(
        title=facts.title,
        severity=facts.severity,
        status=demo.status,
        impact=facts.impact,
        team_id=affected[0].owner_team_id,
        commander=commander,
        scribe=people.get(demo.scribe) if demo.scribe else None,
        declared_by=commander,
        started_at=started,
        detected_at=detected,
        acknowledged_at=detected + timedelta(minutes=facts.acknowledge),
    )
    incident.full_clean(exclude=["reference"])
    incident.reference = next_incident_reference(started.year)
    incident.save()
    incident.services.set(affected)
    incident.subscribers.add(commander)
    name = commander.get_full_name()
    entries = [
        TimelineEntry(
            incident=incident,
            at=detected,
            kind=TimelineKind.DECLARED,
            text=f"Declared {facts.severity} by {name}.",
            author=commander,
        ),
        TimelineEntry(
            incident=incident,
            at=detected + timedelta(minutes=1),
            kind=TimelineKind.ROLE_CHANGE,
            text=f"{name} is now incident commander.",
            author=commander,
        ),
    ]
    for minutes, kind, text, author, pinned in demo.steps:
        entries.append(
            TimelineEntry(
                incident=incident,
                at=min(detected + timedelta(minutes=minutes), now),
                kind=kind,
                text=text,
                author=people.get(author, commander) if author else commander,
                pinned=pinned,
            )
        )
    TimelineEntry.objects.bulk_create(entries)


def _postmortem(demo: DemoPostMortem, now, people) -> None:
    """The post-mortem of a demo incident (unless it has one), its reviewers and action
    items, dated from the incident's resolution."""
    incident = Incident.objects.filter(title=demo.incident, postmortem__isnull=True).first()
    if incident is None or incident.resolved_at is None or demo.author not in people:
        return
    published = demo.status == PostMortemStatus.PUBLISHED
    written = incident.resolved_at + timedelta(days=1)
    postmortem = PostMortem(
        incident=incident,
        status=demo.status,
        author=people[demo.author],
        summary=demo.summary,
        root_cause=demo.root_cause,
        due_at=incident.resolved_at + timedelta(days=demo.due_days),
        published_at=written + timedelta(days=demo.due_days - 2) if published else None,
    )
    postmortem.full_clean()
    postmortem.save()
    # Written the day after the resolution, not when the demo was loaded.
    PostMortem.objects.filter(pk=postmortem.pk).update(created_at=written)
    postmortem.reviewers.set([people[name] for name in demo.reviewers if name in people])
    today = timezone.localdate(now)
    items = []
    for item in demo.items:
        due = today + timedelta(days=item.due_in_days)
        completed = datetime.combine(due, time(15), tzinfo=now.tzinfo) if item.done else None
        items.append(
            ActionItem(
                postmortem=postmortem,
                title=item.title,
                owner=people.get(item.owner),
                due_date=due,
                priority=item.priority,
                kind=item.kind,
                status=ActionItemStatus.DONE if item.done else ActionItemStatus.OPEN,
                completed_at=completed,
            )
        )
    for item in items:
        item.full_clean(exclude=["postmortem"])
    created = ActionItem.objects.bulk_create(items)
    ActionItem.objects.filter(pk__in=[item.pk for item in created]).update(created_at=written)
