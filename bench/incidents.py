"""Incidents benchmark: latency and queries per request at 20 and at 20,000 incidents; with
--intake, the Alertmanager intake instead: large groups and an alert storm.

    .venv/bin/python bench/incidents.py [--requests 200] [--queries] [--explain]
    .venv/bin/python bench/incidents.py --intake [--storm-deliveries 500] [--storm-seconds 60]

Runs on a throw-away PostgreSQL (tests/servers.py), or, when DATABASE_URL is set, on a
test database that Django creates next to that one and drops afterwards. The history is
loaded with bulk inserts: four years of incidents (ten timeline entries each, one to three
affected services out of 200, alerts on those an alert opened, post-mortems of the SEV1 and
SEV2 ones), then each page is requested in-process through Django's test client as a
signed-in SRE lead. The metrics page reads the snapshots the worker writes: after each load
the recompute runs once, as the worker would, and its time at 20,000 is printed. Targets: the
same number of queries at 20 and at 20,000 incidents; p95 under 100 ms for each page at 20,000.
"""

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import (
    latencies_ms,
    p95,
    print_queries,
    queries_per_request,
    run_on_throwaway_database,
)

TEAMS, SERVICES, ENGINEERS = 20, 200, 60
SMALL, LARGE = 20, 20_000
ENTRIES_PER_INCIDENT = 10
OPEN_INCIDENTS = 25  # the newest ones; the rest of the history is resolved or closed
TARGET_P95_MS = 100
# Four years up to half a day ago: the newest incidents (started up to ten hours past their
# slot) are still in the past.
HISTORY = timedelta(days=4 * 365)
FIRST_START = datetime.now(UTC) - timedelta(hours=12) - HISTORY
SEVERITY_WEIGHTS = {"SEV1": 4, "SEV2": 14, "SEV3": 46, "SEV4": 36}
BATCH = 5000


def pages(incident) -> dict[str, dict]:
    """The requests measured: a name, and the test client's keyword arguments. The filters
    match the example incident, so that the filtered list is never empty."""
    return {
        "incident list": {"path": "/incidents/"},
        "incident list filtered": {
            "path": "/incidents/",
            "data": {
                "severity": incident.severity,
                "service": incident.services.all()[0].slug,
                "ordering": "-started",
            },
        },
        "incident list (htmx)": {
            "path": "/incidents/",
            "data": {"q": "database"},
            "headers": {"HX-Request": "true"},
        },
        "incident page": {"path": incident.get_absolute_url()},
        "metrics page": {"path": "/incidents/metrics/"},
        "GET /api/incidents/": {"path": "/api/incidents/"},
    }


def load_organisation(rng):
    """Teams, their services, the engineers who command incidents and the SRE lead who
    browses."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from portal.roles import grant_sre_lead
    from services.choices import Lifecycle, Tier
    from services.models.catalog import Service, Team

    User = get_user_model()
    unusable = make_password(None)
    engineers = User.objects.bulk_create(
        User(username=f"engineer{n}", first_name="Eng", last_name=f"{n:02}", password=unusable)
        for n in range(ENGINEERS)
    )
    teams = Team.objects.bulk_create(
        Team(name=f"Team {n:02}", slug=f"team-{n:02}", manager=engineers[n]) for n in range(TEAMS)
    )
    services = Service.objects.bulk_create(
        Service(
            name=f"Service {n:03}",
            slug=f"service-{n:03}",
            description=f"Service number {n}.",
            owner_team=teams[n % TEAMS],
            tier=rng.choice([Tier.TIER_1, Tier.TIER_2, Tier.TIER_3]),
            lifecycle=Lifecycle.PRODUCTION,
        )
        for n in range(SERVICES)
    )
    sre_lead = User.objects.create(username="sre-lead", password=unusable)
    grant_sre_lead(sre_lead)
    return engineers, services, sre_lead


def incident_times(started: datetime, rng) -> dict[str, datetime]:
    detected = started + timedelta(minutes=rng.randint(1, 30))
    acknowledged = detected + timedelta(minutes=rng.randint(1, 20))
    mitigated = acknowledged + timedelta(minutes=rng.randint(10, 240))
    resolved = mitigated + timedelta(minutes=rng.randint(5, 600))
    return {
        "started_at": started,
        "detected_at": detected,
        "acknowledged_at": acknowledged,
        "mitigated_at": mitigated,
        "resolved_at": resolved,
        "closed_at": resolved + timedelta(days=rng.randint(1, 10)),
    }


def load_incidents(first: int, last: int, total: int, engineers, services, rng) -> None:
    """Incidents numbered first..last-1 of ``total`` spread evenly over the history (the
    newest OPEN_INCIDENTS still open), with their services, timeline, alerts and
    post-mortems."""
    from incidents.choices import (
        IncidentSource,
        IncidentStatus,
        PostMortemStatus,
        TimelineKind,
    )
    from incidents.models.incidents import (
        Incident,
        IncidentAlert,
        IncidentReferenceCounter,
        TimelineEntry,
    )
    from incidents.models.postmortems import PostMortem
    from incidents.references import format_reference

    severities, weights = zip(*SEVERITY_WEIGHTS.items(), strict=True)
    numbers = {
        year: counter.last_number
        for year, counter in IncidentReferenceCounter.objects.in_bulk().items()
    }
    incidents, affected = [], []
    for n in range(first, last):
        started = FIRST_START + HISTORY * (n / total) + timedelta(minutes=rng.randint(0, 600))
        times = incident_times(started, rng)
        year = started.year
        numbers[year] = numbers.get(year, 0) + 1
        status = (
            rng.choice(
                [IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING]
            )
            if n >= total - OPEN_INCIDENTS
            else rng.choice([IncidentStatus.RESOLVED, IncidentStatus.CLOSED, IncidentStatus.CLOSED])
        )
        keep = {
            IncidentStatus.INVESTIGATING: 3,
            IncidentStatus.IDENTIFIED: 3,
            IncidentStatus.MONITORING: 4,
            IncidentStatus.RESOLVED: 5,
            IncidentStatus.CLOSED: 6,
        }[status]
        chosen = rng.sample(services, rng.randint(1, 3))
        by_alert = n % 3 == 0
        incidents.append(
            Incident(
                reference=format_reference(year, numbers[year]),
                title=f"{rng.choice(['Errors', 'Latency', 'Outage', 'Database'])} on "
                f"{chosen[0].name} ({n})",
                summary="Requests failed for some users.",
                severity=rng.choices(severities, weights)[0],
                status=status,
                team_id=chosen[0].owner_team_id,
                commander=rng.choice(engineers),
                tech_lead=rng.choice(engineers),
                users_affected=rng.randint(0, 50_000),
                impact="Some checkouts failed.",
                source=IncidentSource.ALERT if by_alert else IncidentSource.MANUAL,
                # Open incidents of one alert group are unique; closed ones may repeat.
                alert_group_key=f'{{}}:{{alertname="Alert{n}"}}' if by_alert else "",
                declared_by=None if by_alert else rng.choice(engineers),
                **dict(list(times.items())[:keep]),
            )
        )
        affected.append(chosen)
    incidents = Incident.objects.bulk_create(incidents, batch_size=BATCH)
    for year, number in numbers.items():
        IncidentReferenceCounter.objects.update_or_create(
            year=year, defaults={"last_number": number}
        )
    Incident.services.through.objects.bulk_create(
        (
            Incident.services.through(incident=incident, service=service)
            for incident, chosen in zip(incidents, affected, strict=True)
            for service in chosen
        ),
        batch_size=BATCH,
    )

    kinds = [TimelineKind.NOTE] * 5 + [TimelineKind.STATUS_CHANGE, TimelineKind.ROLE_CHANGE]
    entries, alerts, postmortems = [], [], []
    for incident in incidents:
        end = incident.resolved_at or incident.started_at + timedelta(hours=2)
        span = (end - incident.started_at) / ENTRIES_PER_INCIDENT
        for index in range(ENTRIES_PER_INCIDENT):
            entries.append(
                TimelineEntry(
                    incident=incident,
                    at=incident.started_at + span * index,
                    author=None if index == 0 else rng.choice(engineers),
                    kind=TimelineKind.DECLARED if index == 0 else rng.choice(kinds),
                    text=f"Entry {index} of {incident.reference}: what we saw and did.",
                    pinned=index in (0, 5),
                )
            )
        if incident.source == IncidentSource.ALERT:
            alerts.append(
                IncidentAlert(
                    incident=incident,
                    fingerprint=f"{incident.pk:016x}",
                    status="firing" if incident.is_open else "resolved",
                    labels={"alertname": "Errors", "service": "service-000"},
                    starts_at=incident.started_at,
                    ends_at=incident.mitigated_at,
                )
            )
        if incident.postmortem_required and incident.resolved_at:
            published = incident.status == IncidentStatus.CLOSED
            postmortems.append(
                PostMortem(
                    incident=incident,
                    status=PostMortemStatus.PUBLISHED if published else PostMortemStatus.DRAFT,
                    author=incident.commander,
                    summary="What happened.",
                    root_cause="Why it happened.",
                    due_at=incident.resolved_at + timedelta(days=7),
                    published_at=incident.closed_at if published else None,
                )
            )
    TimelineEntry.objects.bulk_create(entries, batch_size=BATCH)
    IncidentAlert.objects.bulk_create(alerts, batch_size=BATCH)
    PostMortem.objects.bulk_create(postmortems, batch_size=BATCH)


def explain_slowest_query(client, request: dict) -> None:
    """EXPLAIN ANALYZE of the page's slowest query: the evidence of where its database time
    goes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(**request)  # warm
    with CaptureQueriesContext(connection) as queries:
        client.get(**request)
    slowest = max(queries.captured_queries, key=lambda query: float(query["time"]))
    # Lists read through a server-side cursor: explain the query the cursor runs.
    sql = re.sub(r"^DECLARE .*? CURSOR WITH HOLD FOR ", "", slowest["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = [row[0] for row in cursor.fetchall()]
    print(f"  slowest query ({float(slowest['time']) * 1000:.1f} ms): {sql[:200]}...")
    print("\n".join(f"    {line}" for line in plan))


def profile_request(client, request: dict) -> None:
    """Where a request's time goes (cProfile): the portal's own functions by cumulative
    time, then every function by its own time."""
    profile = cProfile.Profile()
    client.get(**request)  # warm
    profile.enable()
    client.get(**request)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(r"/(incidents|services|portal)/[^/]+\.py", 15)
    stats.sort_stats("tottime").print_stats(12)


def recompute_metrics_snapshots() -> tuple[int, float]:
    """What the worker does every few minutes: every team's and the organisation's metrics
    snapshots. Returns how many were written and the seconds it took."""
    from django.utils import timezone

    from incidents.actions.metrics import incident_metrics_snapshots_recompute

    began = time.perf_counter()
    written = incident_metrics_snapshots_recompute(now=timezone.now())
    return written, time.perf_counter() - began


def benchmark(request_count: int, show_queries: bool, size: int, explain: bool) -> bool:
    from django.db import connection
    from django.test import Client

    from incidents.models.incidents import Incident, TimelineEntry
    from incidents.models.postmortems import PostMortem

    rng = random.Random(2026)
    engineers, services, sre_lead = load_organisation(rng)
    client = Client()
    client.force_login(sre_lead)

    # The small history is the newest SMALL incidents of the large one, so that both
    # sizes show the same kinds of incidents (open ones included).
    load_incidents(size - SMALL, size, size, engineers, services, rng)
    example = Incident.objects.filter(severity__in=["SEV1", "SEV2"]).order_by("pk").first()
    example = example or Incident.objects.order_by("pk").first()
    recompute_metrics_snapshots()
    small = queries_per_request(client, pages(example))

    load_incidents(0, size - SMALL, size, engineers, services, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    written, seconds = recompute_metrics_snapshots()
    print(
        f"Metrics snapshots recomputed (as the worker does): {written} snapshots from "
        f"{Incident.objects.count()} incidents in {seconds:.2f} s"
    )
    requests = pages(example)
    large = queries_per_request(client, requests)
    if show_queries:
        print_queries(client, requests)
        print()
    print(
        f"{Incident.objects.count()} incidents, {TimelineEntry.objects.count()} timeline "
        f"entries, {Incident.services.through.objects.count()} affected services, "
        f"{PostMortem.objects.count()} post-mortems; {request_count} requests per page"
    )
    print()
    header = (
        f"{'page':<24} {'queries@' + str(SMALL):>11} {'queries@' + str(size):>14} "
        f"{'median ms':>10} {'p95 ms':>8} {'of it DB':>9}  verdict"
    )
    print(header)
    print("-" * len(header))
    all_met, missed = True, []
    for name, request in requests.items():
        timings, database = latencies_ms(client, request, request_count)
        slow = p95(timings)
        problems = [
            problem
            for problem, failed in (
                ("queries grow with the history", small[name] != large[name]),
                (f"p95 over {TARGET_P95_MS} ms", slow >= TARGET_P95_MS),
            )
            if failed
        ]
        all_met &= not problems
        if problems:
            missed.append(name)
        print(
            f"{name:<24} {small[name]:>11} {large[name]:>14} "
            f"{statistics.median(timings):>10.1f} {slow:>8.1f} "
            f"{statistics.median(database):>9.1f}  "
            + ("MISSED: " + ", ".join(problems) if problems else "ok")
        )
    if explain:
        for name in missed:
            print(f"\n{name}:")
            explain_slowest_query(client, requests[name])
            profile_request(client, requests[name])
    return all_met


# --- the Alertmanager intake ------------------------------------------------------------------

WEBHOOK = "/api/alerts/alertmanager/"
WEBHOOK_TOKEN = "bench-alertmanager-token"
GROUP_SIZES = (500, 5_000, 10_000)
#: Alertmanager's default webhook timeout; a delivery must finish well within it.
ALERTMANAGER_TIMEOUT_S = 10
TARGET_GROUP_S = 5
TARGET_STORM_RECOMPUTES = 5


def alert_json(n: int, *, starts_at: datetime, status: str = "firing") -> dict:
    """One alert as Alertmanager sends it, with the labels and annotations of a real one
    (about 700 bytes)."""
    return {
        "status": status,
        "labels": {
            "alertname": "HighErrorRate",
            "service": f"service-{n % SERVICES:03}",
            "severity": "critical" if n % 10 == 0 else "warning",
            "instance": f"10.0.{n // 250}.{n % 250}:9100",
            "job": "api",
            "namespace": "production",
            "pod": f"api-{n:05}-7d9f8b6c5d-x2k4q",
            "region": "eu-west-1",
        },
        "annotations": {
            "summary": f"Error rate above 5% on api-{n:05}",
            "description": "More than 5% of requests failed over the last 5 minutes.",
            "runbook_url": "https://runbooks.example.test/api/high-error-rate",
        },
        "startsAt": starts_at.isoformat(),
        "endsAt": (
            (starts_at + timedelta(minutes=30)).isoformat()
            if status == "resolved"
            else "0001-01-01T00:00:00Z"
        ),
        "generatorURL": "http://prometheus.example.test/graph?g0.expr=rate%28errors%5B5m%5D%29",
        "fingerprint": f"{n:016x}",
    }


def webhook_json(group: str, alerts: list[dict]) -> str:
    status = "firing" if any(alert["status"] == "firing" for alert in alerts) else "resolved"
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="HighErrorRate", group="{group}"}}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "reliability-portal",
            "groupLabels": {"alertname": "HighErrorRate"},
            "commonLabels": {"alertname": "HighErrorRate", "job": "api"},
            "commonAnnotations": {"summary": f"High error rate ({group})"},
            "externalURL": "http://alertmanager.example.test:9093",
            "alerts": alerts,
        }
    )


def deliver(client, body: str) -> tuple[float, dict]:
    began = time.perf_counter()
    response = client.post(
        WEBHOOK,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {WEBHOOK_TOKEN}",
    )
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"delivery answered {response.status_code}: {response.content[:300]}")
    return elapsed, response.json()


def large_groups(client) -> bool:
    """A new group of N alerts, its re-delivery, and its resolution, for each N in
    GROUP_SIZES, through the webhook view as Alertmanager calls it."""
    from django.utils import timezone

    print(
        f"{'alerts':>7} {'body MB':>8} {'new group s':>12} {'re-delivery s':>14} "
        f"{'resolved s':>11}  verdict"
    )
    all_met = True
    for size in GROUP_SIZES:
        started = timezone.now() - timedelta(minutes=5)
        firing = [alert_json(n, starts_at=started) for n in range(size)]
        body = webhook_json(f"large-{size}", firing)
        new, answer = deliver(client, body)
        assert answer["created"], answer
        again, _ = deliver(client, body)
        resolved = [alert_json(n, starts_at=started, status="resolved") for n in range(size)]
        done, answer = deliver(client, webhook_json(f"large-{size}", resolved))
        assert answer["status_change"] == ["investigating", "monitoring"], answer
        slowest = max(new, again, done)
        met = slowest < TARGET_GROUP_S
        all_met &= met
        print(
            f"{size:>7,} {len(body) / 1e6:>8.1f} {new:>12.2f} {again:>14.2f} {done:>11.2f}  "
            + ("ok" if met else f"MISSED: over {TARGET_GROUP_S} s")
        )
    return all_met


def storm_bodies(count: int) -> list[str]:
    """``count`` deliveries from count / 5 alert groups, each seen five times as
    Alertmanager sends them: one alert fires (a new incident), a second joins, the same
    again (a repeat), the first resolves, the second resolves (the incident moves to
    monitoring)."""
    from django.utils import timezone

    bodies = []
    for group in range(count // 5):
        started = timezone.now() - timedelta(minutes=3)
        first, second = 2 * group, 2 * group + 1
        steps = [
            [alert_json(first, starts_at=started)],
            [alert_json(first, starts_at=started), alert_json(second, starts_at=started)],
            [alert_json(first, starts_at=started), alert_json(second, starts_at=started)],
            [
                alert_json(first, starts_at=started, status="resolved"),
                alert_json(second, starts_at=started),
            ],
            [
                alert_json(first, starts_at=started, status="resolved"),
                alert_json(second, starts_at=started, status="resolved"),
            ],
        ]
        bodies += [webhook_json(f"storm-{group}", alerts) for alerts in steps]
    return bodies


def alert_storm(client, deliveries: int, seconds: float) -> bool:
    """``deliveries`` webhook deliveries spread evenly over ``seconds``, as production runs
    them: the view, the actions, the rings on commit (Redis), and a Celery worker running
    the recomputes they ring. Counts the metric recomputes that followed."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import before_task_publish, task_postrun
    from django.conf import settings

    from incidents import tasks
    from incidents.actions import incidents as incident_actions
    from incidents.models.metrics import IncidentMetricsDirtyMark
    from portal.celery import app as celery_app

    recompute = tasks.recompute_changed_incident_metrics.name
    rings, runs, changes = [], [], []

    def count_ring(sender=None, **kwargs):
        if sender == recompute:
            rings.append(sender)

    def count_run(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == recompute:
            runs.append(retval)

    # Each change the metrics read, as it is marked: what used to ring a full recompute each.
    mark = incident_actions.incident_metrics_mark_changed

    def counted_mark(**kwargs):
        changes.append(1)
        return mark(**kwargs)

    incident_actions.incident_metrics_mark_changed = counted_mark
    before_task_publish.connect(count_ring, weak=False)
    task_postrun.connect(count_run, weak=False)
    bodies = storm_bodies(deliveries)
    delay = settings.INCIDENT_METRICS_RECOMPUTE_DELAY
    timings = []
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        began = time.monotonic()
        for index, body in enumerate(bodies):
            time.sleep(max(0.0, began + seconds * index / len(bodies) - time.monotonic()))
            timings.append(deliver(client, body)[0] * 1000)
        sent = time.monotonic() - began
        deadline = time.monotonic() + delay + 60
        while time.monotonic() < deadline and IncidentMetricsDirtyMark.objects.exists():
            time.sleep(0.5)
        time.sleep(3)  # any ring still queued runs (and finds nothing)
    incident_actions.incident_metrics_mark_changed = mark
    did_work = [written for written in runs if written]
    print(
        f"{len(bodies)} deliveries in {sent:.0f} s (median {statistics.median(timings):.0f} ms, "
        f"p95 {p95(timings):.0f} ms each); {len(changes)} of them changed what the metrics "
        f"read (before: {len(changes)} full recomputes)"
    )
    print(
        f"  recompute rings: {len(rings)}; recomputes run: {len(runs)}, of which "
        f"{len(did_work)} recomputed ({sum(did_work)} snapshots) and "
        f"{len(runs) - len(did_work)} found nothing to do; "
        f"INCIDENT_METRICS_RECOMPUTE_DELAY={delay} s"
    )
    met = len(did_work) <= TARGET_STORM_RECOMPUTES and not IncidentMetricsDirtyMark.objects.exists()
    print("  " + ("ok" if met else f"MISSED: over {TARGET_STORM_RECOMPUTES} recomputes"))
    return met


def intake_benchmark(deliveries: int, seconds: float) -> bool:
    from django.test import Client

    from incidents.actions.metrics import incident_metrics_snapshots_recompute

    rng = random.Random(2026)
    engineers, services, _ = load_organisation(rng)
    # A history for the recomputes to read: a year and a half of it.
    load_incidents(0, 2_000, 2_000, engineers, services, rng)
    from django.utils import timezone

    incident_metrics_snapshots_recompute(now=timezone.now())
    client = Client()
    print("Large groups (one delivery each; Alertmanager gives up after 10 s):")
    groups_met = large_groups(client)
    print()
    print(f"Alert storm: {deliveries} deliveries in {seconds:.0f} s, a Celery worker running:")
    storm_met = alert_storm(client, deliveries, seconds)
    return groups_met and storm_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument(
        "--queries", action="store_true", help="also print each page's SQL with its time"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="for each page that misses a target: EXPLAIN ANALYZE of its slowest query and "
        "a profile of one request",
    )
    parser.add_argument(
        "--incidents", type=int, default=LARGE, help="size of the large history (a quick try)"
    )
    parser.add_argument(
        "--intake",
        action="store_true",
        help="benchmark the Alertmanager intake (large groups, an alert storm) instead",
    )
    parser.add_argument("--storm-deliveries", type=int, default=500)
    parser.add_argument("--storm-seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.intake:
        from tests.servers import start_redis

        redis_server, os.environ["CELERY_BROKER_URL"] = start_redis()
        os.environ["ALERTMANAGER_WEBHOOK_TOKEN"] = WEBHOOK_TOKEN
        try:
            return run_on_throwaway_database(
                lambda: intake_benchmark(args.storm_deliveries, args.storm_seconds)
            )
        finally:
            redis_server.stop()
    return run_on_throwaway_database(
        lambda: benchmark(args.requests, args.queries, args.incidents, args.explain)
    )


if __name__ == "__main__":
    sys.exit(main())
