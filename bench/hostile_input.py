"""Hostile-input benchmark: how long the API takes to refuse the worst inputs it is capped
against, and to accept the largest ones it allows.

    .venv/bin/python bench/hostile_input.py [--runs 5]

Runs on a throw-away PostgreSQL like bench/catalog.py, in-process through DRF's test client
with an SRE lead's token, DEBUG off. Each case prints its answer and the median time over
the runs. Target: every refusal under 500 ms (before the caps, 10,000 tags held a worker
for 20.7 s and 10,000 dependencies for 13 s).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import run_on_throwaway_database

TARGET_MS = 500
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def cases(neighbours: list[str]) -> list[tuple[str, str, str, object, str, int]]:
    """(name, method, path, body, content type, expected status)."""
    service = {"name": "Hub", "owner_team": "payments"}
    return [
        (
            "10,000 tags",
            "post",
            "/api/services/",
            {**service, "slug": "t", "tags": [f"t{n}" for n in range(10_000)]},
            "json",
            400,
        ),
        (
            "10,000 dependencies",
            "post",
            "/api/services/",
            {**service, "slug": "d", "depends_on": [f"s{n}" for n in range(10_000)]},
            "json",
            400,
        ),
        (
            "JSON nested 100,000 deep",
            "post",
            "/api/services/",
            "[" * 100_000 + "]" * 100_000,
            "application/json",
            400,
        ),
        (
            "3 MB JSON body",
            "post",
            "/api/teams/",
            json.dumps({"name": "Big", "description": "x" * 3_000_000}),
            "application/json",
            413,
        ),
        (
            "NUL in owner_team",
            "post",
            "/api/services/",
            {**service, "slug": "n", "owner_team": "pay\0ments"},
            "json",
            400,
        ),
        (
            "YAML nested 100,000 deep",
            "post",
            "/api/slos/openslo/",
            "[" * 100_000 + "]" * 100_000,
            "application/yaml",
            400,
        ),
        ("YAML alias bomb (10^9)", "post", "/api/slos/openslo/", LAUGHS, "application/yaml", 400),
        (
            "50 new tags (the maximum)",
            "post",
            "/api/services/",
            {**service, "slug": "tags-{run}", "tags": [f"new-{{run}}-{n}" for n in range(50)]},
            "json",
            201,
        ),
        (
            "200 dependencies (the maximum)",
            "post",
            "/api/services/",
            {**service, "slug": "deps-{run}", "depends_on": neighbours},
            "json",
            201,
        ),
    ]


def with_run(body, run: int):
    if isinstance(body, dict):
        return {
            key: (
                value.format(run=run)
                if isinstance(value, str)
                else [item.format(run=run) for item in value]
                if isinstance(value, list)
                else value
            )
            for key, value in body.items()
        }
    return body


def benchmark(runs: int) -> bool:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from portal.api.tokens import token_create
    from services.models.catalog import MAX_DEPENDENCIES_PER_SERVICE, Service, Team

    team = Team.objects.create(name="Payments", slug="payments")
    Service.objects.bulk_create(
        Service(name=f"S{n}", slug=f"s{n}", owner_team=team)
        for n in range(MAX_DEPENDENCIES_PER_SERVICE)
    )
    neighbours = [f"s{n}" for n in range(MAX_DEPENDENCIES_PER_SERVICE)]
    lead = get_user_model().objects.create_superuser("lead", "lead@example.test", "x")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=lead)[1]}")

    api.get("/api/services/")  # warm up: URL resolver, serializers, connections
    header = f"{'input':<32} {'answer':>6} {'median ms':>10} {'max ms':>8}  verdict"
    print(f"{runs} runs each, median and slowest\n")
    print(header)
    print("-" * len(header))
    all_met = True
    for name, method, path, body, content_type, expected in cases(neighbours):
        timings, statuses = [], set()
        for run in range(runs):
            payload = with_run(body, run)
            started = time.perf_counter()
            if content_type == "json":
                response = getattr(api, method)(path, payload, format="json")
            else:
                response = getattr(api, method)(path, payload, content_type=content_type)
            timings.append((time.perf_counter() - started) * 1000)
            statuses.add(response.status_code)
        refusal = expected >= 400
        met = statuses == {expected} and (not refusal or max(timings) < TARGET_MS)
        all_met &= met
        verdict = "ok" if met else f"MISSED (answers {sorted(statuses)})"
        print(
            f"{name:<32} {'/'.join(map(str, sorted(statuses))):>6} "
            f"{statistics.median(timings):>10.1f} {max(timings):>8.1f}  {verdict}"
        )
    return all_met


def main() -> int:
    os.environ.setdefault("LOG_LEVEL", "ERROR")  # refusals log a warning each
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each case")
    args = parser.parse_args()
    return run_on_throwaway_database(lambda: benchmark(args.runs))


if __name__ == "__main__":
    sys.exit(main())
