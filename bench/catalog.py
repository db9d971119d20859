"""Catalog benchmark: latency and queries per request at 10 and at 1,000 services.

    .venv/bin/python bench/catalog.py [--requests 200]

Runs on a throw-away PostgreSQL (tests/servers.py), or, when DATABASE_URL is set, on a
test database that Django creates next to that one and drops afterwards. The catalog is
loaded with bulk inserts (100 teams, tags, dependencies), then each page is requested
in-process through Django's test client as a signed-in SRE lead. Targets: the same number
of queries at 10 and at 1,000 services; p95 under 50 ms for each page at 1,000.
"""

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TEAMS = 100
SMALL, LARGE = 10, 1000
TARGET_P95_MS = 50
DOMAINS = [
    "payments", "checkout", "search", "identity", "orders", "shipping", "catalog", "pricing",
    "inventory", "billing", "messaging", "reporting", "fraud", "loyalty", "media",
]  # fmt: skip
PARTS = ["api", "worker", "gateway", "indexer", "scheduler", "web", "sync", "store"]
TAGS = [
    "python", "go", "java", "kotlin", "typescript", "pci", "gdpr", "edge", "ml",
    "kafka", "postgres", "redis", "frontend", "batch", "legacy",
]  # fmt: skip


def pages(slug: str) -> dict[str, dict]:
    """The requests measured: a name, and the test client's keyword arguments."""
    return {
        "catalog list": {"path": "/services/"},
        "catalog search (htmx)": {
            "path": "/services/",
            "data": {"q": "payments"},
            "headers": {"HX-Request": "true"},
        },
        "catalog filtered": {
            "path": "/services/",
            "data": {"tier": "1", "lifecycle": "production", "ordering": "-dependents"},
        },
        "service page": {"path": f"/services/{slug}/"},
        "GET /api/services/": {"path": "/api/services/"},
    }


def load_catalog(first: int, last: int, teams, tags, rng) -> None:
    """Services numbered first..last-1, each depending on up to three earlier ones."""
    from services.choices import Lifecycle, Tier
    from services.models.catalog import Service

    lifecycles = list(Lifecycle.values)
    services = []
    for number in range(first, last):
        domain = DOMAINS[number % len(DOMAINS)]
        part = PARTS[number // len(DOMAINS) % len(PARTS)]
        personal = number % 4 == 0
        services.append(
            Service(
                name=f"{domain.title()} {part} {number}",
                slug=f"{domain}-{part}-{number}",
                description=f"The {part} of the {domain} domain, number {number}.",
                owner_team=teams[number % len(teams)],
                tier=[Tier.TIER_1, Tier.TIER_2, Tier.TIER_3][number % 3],
                lifecycle=lifecycles[number % len(lifecycles)],
                kind="service",
                system=domain,
                repository_url=f"https://git.example.com/{domain}/{part}-{number}",
                runbook_url=f"https://wiki.example.com/runbooks/{domain}-{part}-{number}",
                handles_personal_data=personal,
                data_retention_days=365 if personal else None,
            )
        )
    Service.objects.bulk_create(services)
    created = list(Service.objects.filter(pk__gte=services[0].pk).order_by("pk"))
    earlier = list(Service.objects.filter(pk__lt=services[0].pk).order_by("pk"))
    dependencies, labels = [], []
    for service in created:
        for dependency in rng.sample(earlier, min(len(earlier), rng.randint(0, 3))):
            dependencies.append(
                Service.depends_on.through(from_service=service, to_service=dependency)
            )
        for tag in rng.sample(tags, rng.randint(1, 3)):
            labels.append(Service.tags.through(service=service, tag=tag))
        earlier.append(service)
    Service.depends_on.through.objects.bulk_create(dependencies)
    Service.tags.through.objects.bulk_create(labels)


def load_organisation():
    """100 teams with a manager each, the tags, and the SRE lead who browses."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from portal.roles import grant_sre_lead
    from services.models.catalog import Tag, Team

    User = get_user_model()
    unusable = make_password(None)
    managers = User.objects.bulk_create(
        User(username=f"manager{number}", password=unusable) for number in range(TEAMS)
    )
    teams = Team.objects.bulk_create(
        Team(name=f"Team {number:03}", slug=f"team-{number:03}", manager=manager)
        for number, manager in enumerate(managers)
    )
    tags = Tag.objects.bulk_create(Tag(name=name, slug=name) for name in TAGS)
    sre_lead = User.objects.create(username="sre-lead", password=unusable)
    grant_sre_lead(sre_lead)
    return teams, tags, sre_lead


def queries_per_request(client, requests: dict) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, request in requests.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(**request)
        assert response.status_code == 200, f"{name}: HTTP {response.status_code}"
        counts[name] = len(queries)
    return counts


def print_queries(client, requests: dict, explain: bool = False) -> None:
    """Each page's queries with their time, slowest first: where the time goes; with
    ``explain``, PostgreSQL's plan (EXPLAIN ANALYZE) of each that took a millisecond or more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name, request in requests.items():
        client.get(**request)  # warm
        with CaptureQueriesContext(connection) as queries:
            client.get(**request)
        print(f"\n{name}:")
        for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"])):
            print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:300]}")
            if explain and float(query["time"]) >= 0.001:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN ANALYZE " + query["sql"])
                    for (line,) in cursor.fetchall():
                        print(f"              {line}")


def latencies_ms(client, request: dict, count: int) -> tuple[list[float], list[float]]:
    """Each request's total time and the part of it spent waiting for the database."""
    from django.db import connection

    waited = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[0] += time.perf_counter() - started

    for _ in range(5):  # warm up: templates compiled, connections open
        client.get(**request)
    timings, database = [], []
    with connection.execute_wrapper(timed):
        for _ in range(count):
            waited[0] = 0.0
            started = time.perf_counter()
            response = client.get(**request)
            timings.append((time.perf_counter() - started) * 1000)
            database.append(waited[0] * 1000)
            assert response.status_code == 200
    return timings, database


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def benchmark(request_count: int, show_queries: bool) -> bool:
    from django.test import Client

    from services.models.catalog import Service

    rng = random.Random(2026)
    teams, tags, sre_lead = load_organisation()
    client = Client()
    client.force_login(sre_lead)

    load_catalog(0, SMALL, teams, tags, rng)
    small = queries_per_request(client, pages(Service.objects.order_by("pk").last().slug))

    load_catalog(SMALL, LARGE, teams, tags, rng)
    # A service in the middle of the graph: it depends on others and others on it.
    slug = Service.objects.order_by("pk")[LARGE // 2].slug
    requests = pages(slug)
    large = queries_per_request(client, requests)
    if show_queries:
        print_queries(client, requests)
        print()
    print(
        f"{Service.objects.count()} services, {len(teams)} teams, "
        f"{Service.depends_on.through.objects.count()} dependencies, "
        f"{Service.tags.through.objects.count()} tag links; "
        f"{request_count} requests per page"
    )
    print()
    header = (
        f"{'page':<24} {'queries@' + str(SMALL):>11} {'queries@' + str(LARGE):>13} "
        f"{'median ms':>10} {'p95 ms':>8} {'of it DB':>9}  verdict"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    for name, request in requests.items():
        timings, database = latencies_ms(client, request, request_count)
        slow = p95(timings)
        met = small[name] == large[name] and slow < TARGET_P95_MS
        all_met &= met
        verdict = (
            "ok"
            if met
            else "MISSED: "
            + ", ".join(
                problem
                for problem, failed in (
                    ("queries grow with the catalog", small[name] != large[name]),
                    (f"p95 over {TARGET_P95_MS} ms", slow >= TARGET_P95_MS),
                )
                if failed
            )
        )
        print(
            f"{name:<24} {small[name]:>11} {large[name]:>13} "
            f"{statistics.median(timings):>10.1f} {slow:>8.1f} "
            f"{statistics.median(database):>9.1f}  {verdict}"
        )
    return all_met


def run_on_throwaway_database(benchmark: Callable[[], bool]) -> int:
    """Run `benchmark` (it answers whether every target was met) in a Django set up as a
    production process is, on a test database: on a throw-away PostgreSQL (tests/servers.py),
    or next to the one DATABASE_URL names. Prints the verdict; returns the exit status."""
    server = None
    if not os.environ.get("DATABASE_URL"):
        from tests.servers import start_postgres

        server, os.environ["DATABASE_URL"] = start_postgres()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # What a production process runs with: no debug, no per-request log lines. The test
    # environment is not set up: its template instrumentation would be measured too.
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Each request is measured as the first view after a change: the page cache
    # (portal/pagecache.py) would answer the repeats from memory.
    os.environ.setdefault("PAGE_CACHE_SECONDS", "0")
    # Static files come from the finders; no collectstatic output is needed or made.
    warnings.filterwarnings("ignore", message="No directory at")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection
        from django.test.utils import override_settings

        # Plain static storage: production's manifest needs a collectstatic this run skips.
        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        database = connection.creation.create_test_db(verbosity=0)
        try:
            with override_settings(STORAGES=storages):
                all_met = benchmark()
        finally:
            connection.creation.destroy_test_db(database, verbosity=0)
    finally:
        if server:
            server.stop()
    print()
    print("All targets met." if all_met else "Some targets missed (see above).")
    return 0 if all_met else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument(
        "--queries", action="store_true", help="also print each page's SQL with its time"
    )
    args = parser.parse_args()
    return run_on_throwaway_database(lambda: benchmark(args.requests, args.queries))


if __name__ == "__main__":
    sys.exit(main())
