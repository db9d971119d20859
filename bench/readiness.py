"""Readiness and scorecard benchmark: re-evaluating every service, and the scorecard pages at 10
and at 1,000 services.

    .venv/bin/python bench/readiness.py [--requests 200] [--queries]

Runs on a throw-away PostgreSQL (tests/servers.py), or, when DATABASE_URL is set, on a test
database that Django creates next to that one and drops afterwards; the migrations load the
default checklist and scorecard (21 rules). 100 teams (each with a manager) own the services;
each service has one or two SLOs with status snapshots (some stale, thin, overspent or paging),
a fifth of them a SEV1/SEV2 incident of the last 90 days (some post-mortems published, some
past due, some P1 action items overdue), four in ten an approved readiness review and one in
ten a review in progress. Targets: every service's checks and scores recomputed in 2 s or
less (the nightly run, and the dirty-marked path a change takes); p95 under 50 ms for the
scorecards page, a team's scorecard, a service page and GET /api/scorecard-results/, with the
same number of queries at 10 and at 1,000 services.
"""

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import (
    latencies_ms,
    load_catalog,
    load_organisation,
    p95,
    print_queries,
    queries_per_request,
    run_on_throwaway_database,
)

SMALL, LARGE = 10, 1000
TARGET_P95_MS = 50
TARGET_RECOMPUTE_SECONDS = 2.0
NOW = datetime.now(UTC)


def pages(service, team_slug: str) -> dict[str, dict]:
    return {
        "scorecards page": {"path": "/scorecards/"},
        "team scorecard": {"path": f"/teams/{team_slug}/maturity/"},
        "service page": {"path": f"/services/{service.slug}/"},
        "GET /api/scorecard-results/": {"path": "/api/scorecard-results/"},
    }


def enrich(services, rng) -> None:
    """Links, SLOs with snapshots, incidents, post-mortems, action items and reviews for the
    services (bulk inserts), so that every check has something to judge."""
    from incidents.choices import (
        ActionItemKind,
        ActionItemPriority,
        IncidentStatus,
        PostMortemStatus,
    )
    from incidents.models.incidents import Incident, IncidentReferenceCounter
    from incidents.models.postmortems import ActionItem, PostMortem
    from incidents.references import format_reference
    from services.choices import ReviewStatus
    from services.models.catalog import Service
    from services.models.readiness import ReadinessChecklist, ReadinessReview
    from services.models.slos import SLO, SLOStatus

    for number, service in enumerate(services):
        service.dashboard_url = (
            f"https://grafana.example.com/d/{service.slug}" if number % 5 else ""
        )
        service.oncall_url = f"https://oncall.example.com/{service.owner_team_id}"
        service.pagerduty_service_id = f"P{service.pk}" if number % 3 else ""
    Service.objects.bulk_update(services, ["dashboard_url", "oncall_url", "pagerduty_service_id"])

    slos = []
    for service in services:
        for kind in ("availability", "latency")[: 1 + (service.pk % 2)]:
            slos.append(
                SLO(
                    service=service,
                    name=f"{service.name} {kind}",
                    slug=kind,
                    sli_kind=kind,
                    objective="99.9",
                    events_query='sum(rate(good{job="x"}[{{.window}}]))',
                    total_query='sum(rate(all{job="x"}[{{.window}}]))',
                )
            )
    SLO.objects.bulk_create(slos)
    statuses = []
    for slo in slos:
        roll = rng.random()
        statuses.append(
            SLOStatus(
                slo=slo,
                computed_at=NOW,
                window_start=NOW - timedelta(days=30),
                window_end=NOW,
                attainment=0.999,
                remaining=-0.2 if roll < 0.08 else 0.6,
                alert="page" if roll < 0.04 else "none",
                policy_tier="healthy",
                coverage=0.7 if 0.9 < roll < 0.95 else 0.99,
                stale=roll > 0.97,
            )
        )
    SLOStatus.objects.bulk_create(statuses)

    numbers = {
        year: c.last_number for year, c in IncidentReferenceCounter.objects.in_bulk().items()
    }
    incidents, links = [], []
    for service in services[::5]:
        started = NOW - timedelta(days=rng.randint(10, 80))
        numbers[started.year] = numbers.get(started.year, 0) + 1
        incident = Incident(
            reference=format_reference(started.year, numbers[started.year]),
            title=f"Errors on {service.name}",
            severity=rng.choice(["SEV1", "SEV2"]),
            status=IncidentStatus.RESOLVED,
            team_id=service.owner_team_id,
            started_at=started,
            detected_at=started + timedelta(minutes=5),
            acknowledged_at=started + timedelta(minutes=8),
            mitigated_at=started + timedelta(minutes=40),
            resolved_at=started + timedelta(minutes=60),
        )
        incidents.append(incident)
        links.append((incident, service))
    Incident.objects.bulk_create(incidents)
    for year, last in numbers.items():
        IncidentReferenceCounter.objects.update_or_create(year=year, defaults={"last_number": last})
    Incident.services.through.objects.bulk_create(
        Incident.services.through(incident=incident, service=service) for incident, service in links
    )
    postmortems = []
    for number, incident in enumerate(incidents):
        published = number % 3 == 0
        postmortems.append(
            PostMortem(
                incident=incident,
                status=PostMortemStatus.PUBLISHED if published else PostMortemStatus.DRAFT,
                due_at=incident.resolved_at + timedelta(days=7),
                published_at=NOW if published else None,
            )
        )
    PostMortem.objects.bulk_create(postmortems)
    ActionItem.objects.bulk_create(
        ActionItem(
            postmortem=postmortem,
            title="Alert on the queue's age",
            due_date=(NOW - timedelta(days=3 if number % 2 else -30)).date(),
            priority=ActionItemPriority.P1,
            kind=ActionItemKind.DETECT,
        )
        for number, postmortem in enumerate(postmortems)
    )

    checklist = ReadinessChecklist.objects.get(key="production-readiness")
    reviews = []
    for number, service in enumerate(services):
        if number % 10 < 4:
            approved = NOW - timedelta(days=rng.randint(1, 300))
            reviews.append(
                ReadinessReview(
                    service=service,
                    checklist=checklist,
                    status=ReviewStatus.APPROVED_WITH_WAIVERS
                    if number % 10 == 3
                    else ReviewStatus.APPROVED,
                    approved_at=approved,
                    expires_at=approved + timedelta(days=365),
                    waivers_expire_on=(NOW + timedelta(days=20)).date()
                    if number % 10 == 3
                    else None,
                )
            )
        elif number % 10 == 4:
            reviews.append(
                ReadinessReview(service=service, checklist=checklist, status=ReviewStatus.DRAFT)
            )
    ReadinessReview.objects.bulk_create(reviews)


def cpu_ms(client, request: dict, count: int) -> float:
    """The median CPU time of this process per request: what a request costs the web process
    whatever else the machine runs (wall times grow with the machine's load)."""
    timings = []
    for _ in range(count):
        began = time.process_time()
        client.get(**request)
        timings.append((time.process_time() - began) * 1000)
    return statistics.median(timings)


def seconds_of(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def recompute_timings() -> tuple[float, float, int, float]:
    """The median of three full recomputes (the nightly task's body) and of three dirty-path
    recomputes (every service marked, then the task's claim-and-recompute), in seconds, how
    many services the dirty path took, and the CPU seconds of this process in a full one."""
    from django.utils import timezone

    from services.actions.scorecards import (
        checks_mark_all_dirty,
        checks_recompute,
        checks_recompute_dirty,
    )

    began = time.process_time()
    checks_recompute(service_ids=None, now=timezone.now())  # also warms up
    cpu = time.process_time() - began
    full = [
        seconds_of(lambda: checks_recompute(service_ids=None, now=timezone.now())) for _ in range(3)
    ]
    dirty, count = [], 0
    for _ in range(3):
        checks_mark_all_dirty()
        began = time.perf_counter()
        count = checks_recompute_dirty(now=timezone.now())
        dirty.append(time.perf_counter() - began)
    return statistics.median(full), statistics.median(dirty), count, cpu


def example_service():
    """A service with a current approval and no open review, the first in the catalog: the
    same kind of service page at both sizes."""
    from services.models.catalog import Service

    return (
        Service.objects.filter(
            readiness_reviews__status="approved", readiness_reviews__superseded_at=None
        )
        .order_by("pk")
        .first()
    )


def profile_recompute() -> None:
    """Where one full recompute spends its time: the 25 costliest functions."""
    import cProfile
    import pstats

    from django.utils import timezone

    from services.actions.scorecards import checks_recompute

    profiler = cProfile.Profile()
    profiler.runcall(lambda: checks_recompute(service_ids=None, now=timezone.now()))
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def profile_page(client, name, request) -> None:
    """Where one request of a page spends its time: the 20 costliest functions by own time."""
    import cProfile
    import pstats

    client.get(**request)  # warm
    profiler = cProfile.Profile()
    profiler.runcall(lambda: client.get(**request))
    print(f"\n{name}:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def benchmark(request_count: int, show_queries: bool, profile: bool = False) -> bool:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from services.actions.scorecards import (
        campaign_create,
        checks_recompute,
        scorecard_trends_record,
    )
    from services.models.catalog import Service
    from services.models.scorecards import ScorecardResult, ScorecardRule

    rng = random.Random(2026)
    teams, tags, sre_lead = load_organisation()
    client = Client()
    client.force_login(sre_lead)
    for tier in (1, 2):
        campaign_create(
            name=f"Tier {tier} at Silver",
            slug=f"tier-{tier}-silver",
            scorecard_key="service-maturity",
            target_level="Silver",
            tiers=[tier],
            due_on=(NOW + timedelta(days=60)).date(),
        )

    load_catalog(0, SMALL, teams, tags, rng)
    enrich(list(Service.objects.order_by("pk")), rng)
    checks_recompute(service_ids=None, now=timezone.now())
    scorecard_trends_record(now=timezone.now())
    team_slug = example_service().owner_team.slug
    small = queries_per_request(client, pages(example_service(), team_slug))

    load_catalog(SMALL, LARGE, teams, tags, rng)
    enrich(
        list(
            Service.objects.filter(pk__gt=Service.objects.order_by("pk")[SMALL - 1].pk).order_by(
                "pk"
            )
        ),
        rng,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if profile:
        profile_recompute()
    full, dirty, count, cpu = recompute_timings()
    scorecard_trends_record(now=timezone.now())
    requests = pages(example_service(), team_slug)
    large = queries_per_request(client, requests)
    if show_queries:
        print_queries(client, requests)
        print()
    if profile:
        for name, request in requests.items():
            profile_page(client, name, request)

    rules = ScorecardRule.objects.filter(scorecard__key="service-maturity").count()
    levels = dict(
        ScorecardResult.objects.order_by().values_list("level__name").annotate(n=Count("pk"))
    )
    print(
        f"{Service.objects.count()} services, {len(teams)} teams, {rules} rules on the default "
        f"scorecard; levels {levels}; {request_count} requests per page"
    )
    print()
    all_met = True
    for name, seconds in (("recompute all (nightly)", full), (f"recompute {count} dirty", dirty)):
        met = seconds <= TARGET_RECOMPUTE_SECONDS
        all_met &= met
        print(
            f"{name}: {seconds:.2f} s (median of 3; {seconds / count * 1000:.2f} ms per service) "
            + ("ok" if met else f"MISSED: over {TARGET_RECOMPUTE_SECONDS} s")
        )
    print(f"  CPU of this process in one full recompute: {cpu:.2f} s")
    print()
    header = (
        f"{'page':<28} {'queries@' + str(SMALL):>11} {'queries@' + str(LARGE):>13} "
        f"{'median ms':>10} {'p95 ms':>8} {'of it DB':>9} {'CPU ms':>7}  verdict"
    )
    print(header)
    print("-" * len(header))
    for name, request in requests.items():
        timings, database = latencies_ms(client, request, request_count)
        slow = p95(timings)
        problems = [
            problem
            for problem, failed in (
                ("queries grow with the catalog", small[name] != large[name]),
                (f"p95 over {TARGET_P95_MS} ms", slow >= TARGET_P95_MS),
            )
            if failed
        ]
        all_met &= not problems
        print(
            f"{name:<28} {small[name]:>11} {large[name]:>13} "
            f"{statistics.median(timings):>10.1f} {slow:>8.1f} "
            f"{statistics.median(database):>9.1f} "
            f"{cpu_ms(client, request, max(request_count // 4, 5)):>7.1f}  "
            + ("MISSED: " + ", ".join(problems) if problems else "ok")
        )
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument(
        "--queries", action="store_true", help="also print each page's SQL with its time"
    )
    parser.add_argument("--profile", action="store_true", help="also profile one full recompute")
    args = parser.parse_args()
    return run_on_throwaway_database(lambda: benchmark(args.requests, args.queries, args.profile))


if __name__ == "__main__":
    sys.exit(main())
