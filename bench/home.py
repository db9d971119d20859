"""Home page benchmark: latency and queries per request of "what needs attention" at a small
organisation and at the benchmarks' scale (20,000 incidents, 2,000 SLOs, their follow-ups).

    .venv/bin/python bench/home.py [--requests 200] [--queries] [--incidents 20000]

Runs on a throw-away PostgreSQL (tests/servers.py), or, when DATABASE_URL is set, on a test
database that Django creates next to that one and drops afterwards. It loads the incidents
benchmark's organisation (20 teams, 200 services, 60 engineers) and history (bench/incidents.py:
the newest 25 incidents open, post-mortems of the SEV1 and SEV2 ones), then 10 SLOs per
service with status snapshots (one in ten burning, one in twenty paging, one in fifteen
stale), three action items per post-mortem (due over the history, the newest pending), and
reviewers on the post-mortems in review. Each person's home is requested in-process through
Django's test client: an SRE lead in a team, an engineer who manages a team, and a viewer of
no team. Targets: the same number of queries at both sizes; p95 under 50 ms for each home.
"""

import argparse
import os
import random
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
from bench.incidents import SMALL, load_incidents, load_organisation, profile_request

TARGET_P95_MS = 50
SLOS_PER_SERVICE = 10
ITEMS_PER_POSTMORTEM = 3
BATCH = 5000


def load_slos(services, rng) -> None:
    """SLOS_PER_SERVICE SLOs per service with a status snapshot each (no buckets: the home
    page reads snapshots only)."""
    from decimal import Decimal

    from services.models.slos import SLO, SLOStatus

    now = datetime.now(UTC)
    slos = SLO.objects.bulk_create(
        (
            SLO(
                service=service,
                name=f"SLO {number} of {service.name}",
                slug=f"slo-{number}",
                objective=Decimal("99.9"),
                events_query='sum(rate(requests_total{code!~"5.."}[{{.window}}]))',
                total_query="sum(rate(requests_total[{{.window}}]))",
            )
            for service in services
            for number in range(SLOS_PER_SERVICE)
        ),
        batch_size=BATCH,
    )
    statuses = []
    for index, slo in enumerate(slos):
        alert = "page" if index % 20 == 0 else "ticket" if index % 10 == 5 else "none"
        remaining = rng.uniform(-0.3, 0.2) if alert != "none" else rng.uniform(0.2, 1)
        statuses.append(
            SLOStatus(
                slo=slo,
                computed_at=now,
                window_start=now - timedelta(days=30),
                window_end=now,
                attainment=0.999,
                remaining=remaining,
                alert=alert,
                policy_tier="caution",
                coverage=0.98,
                latest_data_at=now - timedelta(minutes=5 if index % 15 else 300),
                stale=index % 15 == 0,
                monthly=[{"start": "", "end": "", "attainment": 0.999, "met": index % 7 != 0}],
            )
        )
    SLOStatus.objects.bulk_create(statuses, batch_size=BATCH)


def load_follow_ups(engineers, rng) -> None:
    """Action items of every post-mortem (pending ones due in the last month or the next,
    done ones before) and reviewers of the ones in review; a tenth of the unpublished
    post-mortems go to review."""
    from incidents.choices import ActionItemStatus, PostMortemStatus
    from incidents.models.postmortems import ActionItem, PostMortem

    today = datetime.now(UTC).date()
    drafts = list(PostMortem.objects.filter(status=PostMortemStatus.DRAFT).order_by("pk"))
    in_review = drafts[::10]
    PostMortem.objects.filter(pk__in=[p.pk for p in in_review]).update(
        status=PostMortemStatus.IN_REVIEW
    )
    PostMortem.reviewers.through.objects.bulk_create(
        PostMortem.reviewers.through(postmortem_id=p.pk, user_id=engineer.pk)
        for p in in_review
        for engineer in rng.sample(engineers, 2)
    )
    items = []
    for postmortem in PostMortem.objects.select_related("incident").order_by("pk"):
        recent = postmortem.incident.started_at.date() > today - timedelta(days=90)
        for number in range(ITEMS_PER_POSTMORTEM):
            items.append(
                ActionItem(
                    postmortem=postmortem,
                    title=f"Follow-up {number} of {postmortem.incident.reference}",
                    owner=rng.choice(engineers),
                    due_date=today + timedelta(days=rng.randint(-30, 30))
                    if recent
                    else postmortem.incident.started_at.date() + timedelta(days=30),
                    status=ActionItemStatus.OPEN if recent else ActionItemStatus.DONE,
                )
            )
    ActionItem.objects.bulk_create(items, batch_size=BATCH)


def people(engineers, sre_lead):
    """The three people whose home is measured: the SRE lead in a team, an engineer who
    manages one, a viewer of none."""
    from django.contrib.auth import get_user_model

    from services.choices import MembershipRole
    from services.models.catalog import Membership, Team

    teams = list(Team.objects.order_by("pk")[:2])
    Membership.objects.get_or_create(user=sre_lead, team=teams[0], role=MembershipRole.ENGINEER)
    manager = teams[1].manager
    Membership.objects.get_or_create(user=manager, team=teams[1], role=MembershipRole.ENGINEER)
    viewer, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    return {"SRE lead": sre_lead, "engineer, manager": manager, "viewer, no team": viewer}


def measure(
    who: dict,
    request_count: int | None,
    show_queries: bool,
    profile: bool = False,
    explain: bool = False,
):
    """Queries (and, with a request count, timings) of each person's home."""
    from django.test import Client

    counts, timings = {}, {}
    for name, user in who.items():
        client = Client()
        client.force_login(user)
        request = {"home": {"path": "/"}}
        counts[name] = queries_per_request(client, request)["home"]
        if show_queries and request_count:
            print(f"\n{name}")
            print_queries(client, request, explain)
        if profile and request_count:
            print(f"\n{name}")
            profile_request(client, request["home"])
        if request_count:
            cpu = time.process_time()
            total, database = latencies_ms(client, request["home"], request_count)
            # This process's CPU per request (five warm-up requests included): what the page
            # costs whatever else the machine is doing, which wall-clock times are not.
            cpu_ms = (time.process_time() - cpu) * 1000 / (request_count + 5)
            timings[name] = (total, database, cpu_ms)
    return counts, timings


def benchmark(
    request_count: int, show_queries: bool, size: int, profile: bool, explain: bool = False
) -> bool:
    from django.conf import settings
    from django.db import connection

    from incidents.models.incidents import Incident
    from incidents.models.postmortems import ActionItem, PostMortem
    from services.models.slos import SLO

    # Homes are measured as they are made: the page cache (portal.pagecache) would answer
    # every repeat from memory, which is what a second look costs, not the page.
    settings.PAGE_CACHE_SECONDS = 0
    rng = random.Random(2026)
    engineers, services, sre_lead = load_organisation(rng)
    who = people(engineers, sre_lead)
    load_incidents(size - SMALL, size, size, engineers, services, rng)
    small, _ = measure(who, None, False)

    load_incidents(0, size - SMALL, size, engineers, services, rng)
    load_slos(services, rng)
    load_follow_ups(engineers, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    large, timings = measure(who, request_count, show_queries or explain, profile, explain)
    open_count = Incident.objects.filter(resolved_at__isnull=True).count()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")
    print(
        f"{Incident.objects.count()} incidents ({open_count} open), "
        f"{PostMortem.objects.count()} post-mortems, {ActionItem.objects.count()} action items, "
        f"{SLO.objects.count()} SLOs; {request_count} requests per home"
    )
    print()
    header = (
        f"{'home of':<20} {'queries@' + str(SMALL):>11} {'queries@' + str(size):>14} "
        f"{'median ms':>10} {'p95 ms':>8} {'of it DB':>9} {'CPU ms':>7}  verdict"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    for name in who:
        total, database, cpu_ms = timings[name]
        slow = p95(total)
        problems = [
            problem
            for problem, failed in (
                ("queries grow with the organisation", small[name] != large[name]),
                (f"p95 over {TARGET_P95_MS} ms", slow >= TARGET_P95_MS),
            )
            if failed
        ]
        all_met &= not problems
        print(
            f"{name:<20} {small[name]:>11} {large[name]:>14} "
            f"{statistics.median(total):>10.1f} {slow:>8.1f} "
            f"{statistics.median(database):>9.1f} {cpu_ms:>7.1f}  "
            + ("MISSED: " + ", ".join(problems) if problems else "ok")
        )
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per home")
    parser.add_argument("--incidents", type=int, default=20_000, help="incidents in the history")
    parser.add_argument(
        "--queries", action="store_true", help="also print each home's SQL with its time"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile one request of each home"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print PostgreSQL's plan of each home query that takes a millisecond or more",
    )
    args = parser.parse_args()
    return run_on_throwaway_database(
        lambda: benchmark(args.requests, args.queries, args.incidents, args.profile, args.explain)
    )


if __name__ == "__main__":
    sys.exit(main())
