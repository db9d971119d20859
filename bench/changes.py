"""Change approvals benchmark: the deploy gate, the change and DORA pages, and the DORA recompute
at a year of history.

    .venv/bin/python -m bench.changes [--requests 200] [--decisions 500] [--queries]

Runs on a throw-away PostgreSQL (tests/servers.py), or, when DATABASE_URL is set, on a test
database that Django creates next to that one and drops afterwards. It loads 100 teams and 1,000
services (bench/catalog.py's catalog, about 1,500 dependencies), one SLO per service with its
status snapshot (5 % in the frozen budget tier, 15 % in caution), then a small history (100
changes, 500 deployments, 200 incidents) and counts each measured request's queries; then the
rest of a year: 10,000 change requests (planned from a year ago to two weeks ahead, each with
its timeline, approvals on those past submission), 50,000 production deployments, 20,000
incidents (1 % of deployments caused one; 20 SEV1/SEV2 still open), 50 freezes (a third
recurring), 20,000 recorded gate decisions; runs ANALYZE and counts again. It then times:

- a gate decision in-process (toil.actions.gate.gate_evaluate: the facts, the pure rules and
  the record), for a standard deploy under an approved change and a low-risk one, on services in
  the middle of the dependency graph;
- /changes/, /changes/dora/ and GET /api/dora/ through Django's test client as an SRE lead;
- recomputing every team's and service's DORA figures for twelve months (the worker's
  toil.actions.deployments.dora_snapshots_recompute), the median of three.

Targets: a gate decision p95 under 20 ms; each page p95 under 50 ms; the same number of queries
at both sizes; the recompute within 5 s. It exits non-zero when one is missed. "CPU p95" is the
time this process spent computing (no waiting for the database or for other processes on the
machine): what other work on a busy machine cannot stretch.
"""

import argparse
import bisect
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import (
    LARGE,
    latencies_ms,
    load_catalog,
    load_organisation,
    p95,
    print_queries,
    queries_per_request,
    run_on_throwaway_database,
)

SMALL_SERVICES = 10
CHANGES, DEPLOYMENTS, INCIDENTS = 10_000, 50_000, 20_000
SMALL_CHANGES, SMALL_DEPLOYMENTS, SMALL_INCIDENTS = 100, 500, 200
FREEZES, GATE_DECISIONS, OPEN_INCIDENTS = 50, 20_000, 20
GATE_TARGET_MS, PAGE_TARGET_MS, RECOMPUTE_TARGET_S = 20, 50, 5.0
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
YEAR = dt.timedelta(days=365)
BATCH = 5000


def pages() -> dict[str, dict]:
    return {
        "/changes/": {"path": "/changes/"},
        "/changes/dora/": {"path": "/changes/dora/"},
        "GET /api/dora/": {"path": "/api/dora/"},
    }


def load_slos(services, rng) -> None:
    """One SLO per service with a status snapshot: its budget tier is what the gate reads."""
    from services.models.slos import SLO, SLOStatus

    slos = SLO.objects.bulk_create(
        SLO(
            service=service,
            name="Availability",
            slug="availability",
            objective="99.9",
            events_query="sum(rate(ok_total[{{.window}}]))",
            total_query="sum(rate(all_total[{{.window}}]))",
        )
        for service in services
    )
    tiers = []
    for slo in slos:
        roll = rng.random()
        tier = "frozen" if roll < 0.05 else "caution" if roll < 0.2 else "healthy"
        tiers.append(
            SLOStatus(
                slo=slo,
                computed_at=NOW,
                window_start=NOW - dt.timedelta(days=30),
                window_end=NOW,
                remaining={"frozen": 0.02, "caution": 0.3, "healthy": 0.8}[tier],
                policy_tier=tier,
            )
        )
    SLOStatus.objects.bulk_create(tiers)


def load_changes(count: int, services, people, rng) -> None:
    """Change requests planned from a year ago to two weeks ahead: the past ones completed,
    failed, rolled back, reviewed or rejected; the coming ones drafts, submitted, approved or
    scheduled. Each with one or two services, its timeline and approvals."""
    from toil.choices.changes import ChangeCategory, ChangeEventKind, ChangeStatus
    from toil.models.changes import ChangeApproval, ChangeEvent, ChangeRequest

    categories = [ChangeCategory.STANDARD] * 7 + [ChangeCategory.LOW_RISK] * 3
    past = [ChangeStatus.COMPLETED] * 6 + [
        ChangeStatus.FAILED,
        ChangeStatus.ROLLED_BACK,
        ChangeStatus.REVIEWED,
        ChangeStatus.REJECTED,
    ]
    coming = [ChangeStatus.DRAFT, ChangeStatus.SUBMITTED, ChangeStatus.APPROVED] + [
        ChangeStatus.SCHEDULED
    ] * 3
    span = (YEAR + dt.timedelta(days=14)).total_seconds()
    for first in range(0, count, BATCH):
        rows = []
        for _ in range(first, min(first + BATCH, count)):
            start = NOW - YEAR + dt.timedelta(seconds=rng.uniform(0, span))
            status = rng.choice(past if start < NOW else coming)
            services_of = rng.sample(services, rng.choice([1, 1, 1, 2]))
            approved = status not in {
                ChangeStatus.DRAFT,
                ChangeStatus.SUBMITTED,
                ChangeStatus.REJECTED,
            }
            rows.append(
                (
                    ChangeRequest(
                        title=f"Change to {services_of[0].name} ({rng.randrange(10**6)})",
                        category=rng.choice(categories),
                        status=status,
                        team_id=services_of[0].owner_team_id,
                        author=rng.choice(people),
                        window_start=start,
                        window_end=start + dt.timedelta(hours=rng.choice([1, 2, 4])),
                        rollback_plan="Redeploy the previous version.",
                        risk_score=rng.randrange(12),
                        risk_level=rng.choice(["low", "medium", "high"]),
                        submitted_at=None
                        if status == ChangeStatus.DRAFT
                        else start - dt.timedelta(days=2),
                        approved_at=start - dt.timedelta(days=1) if approved else None,
                    ),
                    services_of,
                )
            )
        created = ChangeRequest.objects.bulk_create([change for change, _ in rows])
        links, events, approvals = [], [], []
        for change, (_, services_of) in zip(created, rows, strict=True):
            for service in services_of:
                links.append(ChangeRequest.services.through(changerequest=change, service=service))
            events.append(
                ChangeEvent(
                    change=change,
                    at=change.window_start - dt.timedelta(days=3),
                    actor=change.author,
                    kind=ChangeEventKind.CREATED,
                    to_status="draft",
                    text="Written.",
                )
            )
            if change.approved_at:
                for approver in rng.sample(people, 2):
                    if approver.pk != change.author_id:
                        approvals.append(
                            ChangeApproval(
                                change=change,
                                approver=approver,
                                decision="approve",
                                role="change_approver",
                                created_at=change.approved_at,
                            )
                        )
        ChangeRequest.services.through.objects.bulk_create(links)
        ChangeEvent.objects.bulk_create(events)
        ChangeApproval.objects.bulk_create(approvals, ignore_conflicts=True)


def load_incidents(count: int, services, rng, *, first_number: int) -> list:
    """Incidents over the year, resolved but for OPEN_INCIDENTS SEV1/SEV2 ones of the large
    history; returns them."""
    from incidents.models.incidents import Incident

    created = []
    for first in range(0, count, BATCH):
        rows = []
        for number in range(first, min(first + BATCH, count)):
            started = NOW - dt.timedelta(seconds=rng.uniform(3600, YEAR.total_seconds()))
            still_open = first_number == 0 and number < OPEN_INCIDENTS
            rows.append(
                Incident(
                    reference=f"INC-B-{first_number + number:06d}",
                    title=f"Incident {first_number + number}",
                    severity=rng.choice(["SEV1", "SEV2"])
                    if still_open
                    else rng.choice(["SEV1", "SEV2", "SEV3", "SEV3", "SEV4"]),
                    status="investigating" if still_open else "resolved",
                    started_at=started,
                    detected_at=started + dt.timedelta(minutes=5),
                    resolved_at=None
                    if still_open
                    else started + dt.timedelta(minutes=rng.randint(20, 600)),
                )
            )
        batch = Incident.objects.bulk_create(rows)
        Incident.services.through.objects.bulk_create(
            Incident.services.through(incident=incident, service=rng.choice(services))
            for incident in batch
        )
        created.extend(batch)
    return created


def load_deployments(count: int, services, rng, *, first_number: int) -> list:
    from toil.models.deployments import Deployment

    created = []
    for first in range(0, count, BATCH):
        rows = []
        for number in range(first, min(first + BATCH, count)):
            finished = NOW - dt.timedelta(seconds=rng.uniform(600, YEAR.total_seconds()))
            roll = rng.random()
            rows.append(
                Deployment(
                    service=rng.choice(services),
                    environment="production",
                    version=f"v{first_number + number}",
                    started_at=finished - dt.timedelta(minutes=rng.randint(2, 30)),
                    finished_at=finished,
                    status="failed"
                    if roll < 0.08
                    else "rolled_back"
                    if roll < 0.12
                    else "succeeded",
                    first_commit_at=finished - dt.timedelta(hours=rng.uniform(1, 200)),
                )
            )
        created.extend(Deployment.objects.bulk_create(rows))
    return created


def load_causes(deployments, incidents, rng) -> None:
    """1 % of the deployments caused an incident that started after them."""
    from toil.models.deployments import IncidentCause

    pool = sorted((i for i in incidents if i.resolved_at), key=lambda incident: incident.started_at)
    starts = [incident.started_at for incident in pool]
    causes, used = [], set()
    for deployment in rng.sample(deployments, len(deployments) // 100):
        # The first incident not yet linked that started after the deployment.
        index = bisect.bisect_right(starts, deployment.started_at)
        while index < len(pool) and pool[index].pk in used:
            index += 1
        if index < len(pool):
            used.add(pool[index].pk)
            causes.append(IncidentCause(incident=pool[index], deployment=deployment))
    IncidentCause.objects.bulk_create(causes)


def load_freezes(count: int, teams, services, rng) -> None:
    from toil.models.changes import FreezeWindow

    rows = []
    for number in range(count):
        start = NOW + dt.timedelta(days=rng.uniform(-200, 60))
        scope = ["organisation", "team", "service"][number % 3]
        rows.append(
            FreezeWindow(
                name=f"Freeze {number}",
                scope=scope,
                team=rng.choice(teams) if scope == "team" else None,
                service=rng.choice(services) if scope == "service" else None,
                start=start,
                end=start + dt.timedelta(hours=rng.choice([4, 24, 64])),
                time_zone="Europe/Paris",
                recurrence="FREQ=WEEKLY;BYDAY=FR" if number % 3 == 0 else "",
            )
        )
    FreezeWindow.objects.bulk_create(rows)


def load_gate_decisions(count: int, services, asker, rng) -> None:
    from toil.models.changes import GateDecision, GateDecisionService

    for first in range(0, count, BATCH):
        rows = [
            GateDecision(
                asked_by=asker,
                asked_at=NOW - dt.timedelta(seconds=rng.uniform(60, YEAR.total_seconds())),
                category=rng.choice(["standard", "low-risk"]),
                decision=rng.choice(["allow", "allow", "allow", "deny", "needs_approval"]),
                reasons=[],
            )
            for _ in range(first, min(first + BATCH, count))
        ]
        created = GateDecision.objects.bulk_create(rows)
        GateDecisionService.objects.bulk_create(
            GateDecisionService(decision=d, service=rng.choice(services), asked_at=d.asked_at)
            for d in created
        )


def gate_cases(services, author):
    """The gate decisions timed: a standard deploy under an approved change, a low-risk one;
    on a service in the middle of the dependency graph."""
    from toil.models.changes import ChangeRequest

    service = services[len(services) // 2]
    change = ChangeRequest.objects.create(
        title="The change the gate benchmark deploys",
        category="standard",
        status="scheduled",
        team_id=service.owner_team_id,
        author=author,
        window_start=NOW - dt.timedelta(hours=1),
        window_end=NOW + dt.timedelta(days=30),
        rollback_plan="Redeploy.",
        approved_at=NOW - dt.timedelta(hours=2),
    )
    change.services.set([service])
    return {
        "gate: standard, approved change": {
            "services": [service],
            "category": "standard",
            "change": change,
        },
        "gate: low-risk": {"services": [services[len(services) // 3]], "category": "low-risk"},
    }


def time_gate(cases: dict, asker, count: int) -> dict[str, tuple]:
    from django.db import connection

    from toil.actions.gate import gate_evaluate
    from toil.selectors.changes import change_for_gate

    results = {}
    for name, case in cases.items():
        timings, cpu = [], []
        decision = ""
        queries = [0]

        def counted(execute, sql, params, many, context, queries=queries):
            queries[0] += 1
            return execute(sql, params, many, context)

        for attempt in range(count + 5):
            # A pipeline names its change by number: the gate reads it afresh each time.
            change = case.get("change")
            queries[0] = 0
            started, started_cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(counted):
                if change is not None:
                    change = change_for_gate().get(pk=change.pk)
                _, answer = gate_evaluate(
                    services=case["services"],
                    category=case["category"],
                    change=change,
                    by=asker,
                    version="bench",
                )
            elapsed = (time.perf_counter() - started) * 1000
            if attempt >= 5:  # warmed up
                timings.append(elapsed)
                cpu.append((time.process_time() - started_cpu) * 1000)
            decision = answer.decision
        results[name] = (timings, queries[0], decision, cpu)
    return results


def page_latencies(client, request: dict, count: int):
    """bench.catalog.latencies_ms (each request's time and its database part), and the CPU
    time this process spent on each: the part other work on the machine does not stretch."""
    timings, database = latencies_ms(client, request, count)
    cpu = []
    for _ in range(count):
        started = time.process_time()
        client.get(**request)
        cpu.append((time.process_time() - started) * 1000)
    return timings, database, cpu


def recompute_dora() -> tuple[int, float]:
    from toil.actions.deployments import dora_snapshots_recompute

    seconds = []
    for _ in range(4):  # the first warms up
        began = time.perf_counter()
        written = dora_snapshots_recompute(now=NOW)
        seconds.append(time.perf_counter() - began)
    return written, statistics.median(seconds[1:])


def profile(call, pattern=r"/(toil|incidents|services|portal)/[^/]+\.py") -> None:
    """Where a call's time goes (cProfile): the portal's functions by cumulative time, then
    every function by its own time."""
    import cProfile
    import pstats

    call()  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(pattern, 20)
    stats.sort_stats("tottime").print_stats(15)


def benchmark(
    request_count: int, decision_count: int, show_queries: bool, profiled: bool = False
) -> bool:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from services.models.catalog import Service
    from toil.models.changes import ChangeRequest, GateDecision
    from toil.models.deployments import Deployment, IncidentCause

    # Pages are measured as they are made: the page cache (portal.pagecache) would answer every
    # repeat of a page from memory, which is what a second look costs, not the page.
    settings.PAGE_CACHE_SECONDS = 0
    rng = random.Random(2026)
    teams, tags, sre_lead = load_organisation()
    people = list(get_user_model().objects.filter(username__startswith="manager"))
    client = Client()
    client.force_login(sre_lead)

    # The small history.
    load_catalog(0, SMALL_SERVICES, teams, tags, rng)
    services = list(Service.objects.order_by("pk"))
    load_slos(services, rng)
    load_changes(SMALL_CHANGES, services, people, rng)
    incidents = load_incidents(SMALL_INCIDENTS, services, rng, first_number=INCIDENTS)
    deployments = load_deployments(SMALL_DEPLOYMENTS, services, rng, first_number=DEPLOYMENTS)
    load_causes(deployments, incidents, rng)
    load_freezes(3, teams, services, rng)
    load_gate_decisions(100, services, sre_lead, rng)
    recompute_dora()
    requests = pages()
    small = queries_per_request(client, requests)
    small_gate = time_gate(gate_cases(services, people[0]), sre_lead, 3)

    # The rest of the year.
    load_catalog(SMALL_SERVICES, LARGE, teams, tags, rng)
    services = list(Service.objects.order_by("pk"))
    load_slos(services[SMALL_SERVICES:], rng)
    load_changes(CHANGES - SMALL_CHANGES, services, people, rng)
    incidents = load_incidents(INCIDENTS - SMALL_INCIDENTS, services, rng, first_number=0)
    deployments = load_deployments(DEPLOYMENTS - SMALL_DEPLOYMENTS, services, rng, first_number=0)
    load_causes(deployments, incidents, rng)
    load_freezes(FREEZES - 3, teams, services, rng)
    load_gate_decisions(GATE_DECISIONS - 100, services, sre_lead, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    written, recompute_seconds = recompute_dora()
    recompute_met = recompute_seconds <= RECOMPUTE_TARGET_S
    print(
        f"DORA recompute (as the worker does): {written} snapshots from "
        f"{Deployment.objects.count()} deployments and {IncidentCause.objects.count()} caused "
        f"incidents in {recompute_seconds:.2f} s (median of 3)  "
        f"{'ok' if recompute_met else f'MISSED: over {RECOMPUTE_TARGET_S:.0f} s'}"
    )
    large = queries_per_request(client, requests)
    if show_queries:
        print_queries(client, requests)
        print()
    cases = gate_cases(services, people[0])
    if profiled:
        from toil.actions.deployments import dora_snapshots_recompute

        print("\n=== DORA recompute")
        profile(lambda: dora_snapshots_recompute(now=NOW))
        for name, request in requests.items():
            print(f"\n=== {name}")
            profile(lambda request=request: client.get(**request))
        for name in cases:
            print(f"\n=== {name}")
            profile(lambda name=name: time_gate({name: cases[name]}, sre_lead, 1))
    large_gate = time_gate(cases, sre_lead, decision_count)
    print(
        f"{Service.objects.count()} services, {ChangeRequest.objects.count()} changes, "
        f"{Deployment.objects.count()} deployments, {IncidentCause.objects.count()} caused "
        f"incidents, {GateDecision.objects.count()} gate decisions; "
        f"{request_count} requests per page, {decision_count} gate decisions per case"
    )
    print()
    header = (
        f"{'measured':<34} {'queries@small':>13} {'queries@large':>13} "
        f"{'median ms':>10} {'p95 ms':>8} {'of it DB':>9} {'CPU p95':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    all_met = recompute_met
    for name, (timings, queries, decision, cpu) in large_gate.items():
        small_queries = small_gate[name][1]
        slow = p95(timings)
        met = small_queries == queries and slow < GATE_TARGET_MS
        all_met &= met
        verdict = "ok" if met else f"MISSED (p95 target {GATE_TARGET_MS} ms, constant queries)"
        print(
            f"{name + ' → ' + decision:<34} {small_queries:>13} {queries:>13} "
            f"{statistics.median(timings):>10.1f} {slow:>8.1f} {'':>9} {p95(cpu):>8.1f}  {verdict}"
        )
    for name, request in requests.items():
        timings, database, cpu = page_latencies(client, request, request_count)
        slow = p95(timings)
        met = small[name] == large[name] and slow < PAGE_TARGET_MS
        all_met &= met
        verdict = "ok" if met else f"MISSED (p95 target {PAGE_TARGET_MS} ms, constant queries)"
        print(
            f"{name:<34} {small[name]:>13} {large[name]:>13} "
            f"{statistics.median(timings):>10.1f} {slow:>8.1f} "
            f"{statistics.median(database):>9.1f} {p95(cpu):>8.1f}  {verdict}"
        )
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--decisions", type=int, default=500, help="gate decisions per case")
    parser.add_argument(
        "--queries", action="store_true", help="also print each page's SQL with its time"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile each page and gate case once"
    )
    args = parser.parse_args()
    return run_on_throwaway_database(
        lambda: benchmark(args.requests, args.decisions, args.queries, args.profile)
    )


if __name__ == "__main__":
    sys.exit(main())
