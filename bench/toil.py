"""Toil benchmark: latency and queries per request of the toil pages and API, and the time to
recompute every team's month, at the size of a large organisation.

    .venv/bin/python bench/toil.py [--requests 200] [--queries]
    .venv/bin/python bench/toil.py --teams 20 --items 1000 --entries 50000 --incidents 2000 \\
        --requests 20                                   # a quick try

Runs on a throw-away PostgreSQL (tests/servers.py), or, when DATABASE_URL is set, on a test
database that Django creates next to that one and drops afterwards. It loads 200 teams of
five engineers (and a viewer each) with two services each, then a small organisation's worth
of toil (the first two teams: 100 items, 1,000 entries, 20 incidents), stores the monthly
figures and counts each page's queries; then the rest with bulk inserts: 10,000 toil items
(one in ten automated, one in twenty retired), 500,000 log entries over the last year and
20,000 incidents over the same year with their role history (a second tech lead on half of
them, the newest 25 still open), runs ANALYZE and counts again. It then times what the worker
does: the figures of every team's current month (`toil_months_store`, the body of the
recompute), the recompute of a month every team has marked dirty
(`toil.tasks.toil.recompute_dirty_toil_months`), and the first refresh that fills in a year; and
one team's month computed from the records, as a page would without snapshots. Last, 200
requests per page in-process through Django's test client as a signed-in SRE lead, `DEBUG`
off.

Targets: the same number of queries at both sizes; p95 under 50 ms for the inventory, a team's
toil page and `GET /api/teams/{id}/toil/`; recomputing every team's month within 5 s. It exits
non-zero when one is missed.
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
    p95,
    print_queries,
    queries_per_request,
    run_on_throwaway_database,
)
from bench.incidents import profile_request

ENGINEERS_PER_TEAM = 5
SERVICES_PER_TEAM = 2
SMALL_TEAMS, SMALL_ITEMS, SMALL_ENTRIES, SMALL_INCIDENTS = 2, 100, 1000, 20
OPEN_INCIDENTS = 25
TARGET_P95_MS = 50
TARGET_RECOMPUTE_S = 5.0
#: The pages with a latency target; the others are measured and shown.
TARGETED = {"inventory", "team toil page", "GET /api/teams/{id}/toil/"}
BATCH = 10_000


def pages(team, team_id) -> dict[str, dict]:
    return {
        "inventory": {"path": "/toil/"},
        "inventory filtered": {
            "path": "/toil/",
            "data": {"team": team.slug, "status": "manual", "ordering": "payback"},
        },
        "inventory (htmx)": {
            "path": "/toil/",
            "data": {"q": "deploy", "ordering": "-hours"},
            "headers": {"HX-Request": "true"},
        },
        "team toil page": {"path": f"/toil/by-team/{team.slug}/"},
        "teams against the cap": {"path": "/toil/by-team/"},
        "team page (panel)": {"path": f"/teams/{team.slug}/"},
        "GET /api/teams/{id}/toil/": {"path": f"/api/teams/{team_id}/toil/"},
        "GET /api/toil-items/": {"path": "/api/toil-items/"},
        "GET /api/toil-months/": {"path": "/api/toil-months/", "data": {"over_cap": "true"}},
    }


def load_organisation(team_count: int, rng):
    """Teams with five engineers and a viewer each, two services each, and the SRE lead."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from portal.roles import grant_sre_lead
    from services.choices import Lifecycle, MembershipRole, Tier
    from services.models.catalog import Membership, Service, Team

    User = get_user_model()
    unusable = make_password(None)
    people = User.objects.bulk_create(
        User(username=f"person{n}", first_name="P", last_name=f"{n:04}", password=unusable)
        for n in range(team_count * (ENGINEERS_PER_TEAM + 1))
    )
    teams = Team.objects.bulk_create(
        Team(name=f"Team {n:03}", slug=f"team-{n:03}", manager=people[n * 6])
        for n in range(team_count)
    )
    engineers: dict[int, list[int]] = {}
    memberships = []
    for n, team in enumerate(teams):
        group = people[n * 6 : n * 6 + 6]
        engineers[team.pk] = [person.pk for person in group[:ENGINEERS_PER_TEAM]]
        memberships += [
            Membership(team=team, user=person, role=MembershipRole.ENGINEER)
            for person in group[:ENGINEERS_PER_TEAM]
        ]
        memberships.append(Membership(team=team, user=group[-1], role=MembershipRole.VIEWER))
    Membership.objects.bulk_create(memberships)
    services = Service.objects.bulk_create(
        Service(
            name=f"Service {n:04}",
            slug=f"service-{n:04}",
            owner_team=teams[n // SERVICES_PER_TEAM],
            tier=rng.choice([Tier.TIER_1, Tier.TIER_2, Tier.TIER_3]),
            lifecycle=Lifecycle.PRODUCTION,
        )
        for n in range(team_count * SERVICES_PER_TEAM)
    )
    sre_lead = User.objects.create(username="sre-lead", password=unusable)
    grant_sre_lead(sre_lead)
    return teams, engineers, services, sre_lead


TASKS = [
    "Manual deploy",
    "Log analysis",
    "Certificate renewal",
    "Database maintenance",
    "Alert investigation",
    "Access requests",
    "Backfill failed jobs",
    "Capacity check",
    "Restart stuck workers",
    "Rotate credentials",
]


def load_items(teams, services, count: int, today, rng, *, start: int = 0):
    """``count`` items over ``teams``, numbered from ``start``."""
    from toil.choices.toil import FrequencyUnit, ToilCategory, ToilStatus
    from toil.models.inventory import ToilItem

    items, links = [], []
    by_team = {}
    for service in services:
        by_team.setdefault(service.owner_team_id, []).append(service)
    for n in range(start, start + count):
        team = teams[n % len(teams)]
        roll = rng.random()
        status = (
            ToilStatus.AUTOMATED
            if roll < 0.1
            else ToilStatus.RETIRED
            if roll < 0.15
            else rng.choice([ToilStatus.MANUAL, ToilStatus.MANUAL, ToilStatus.PLANNED])
        )
        frequency = rng.randint(1, 60)
        minutes = rng.choice([5, 10, 15, 20, 30, 45, 60, 90, 120])
        automated_on = today - timedelta(days=rng.randint(1, 360))
        items.append(
            ToilItem(
                team=team,
                task=f"{rng.choice(TASKS)} {n}",
                category=rng.choice(ToilCategory.values),
                frequency=frequency,
                frequency_unit=rng.choice(FrequencyUnit.values),
                minutes_each=minutes,
                automation_potential=rng.randint(1, 5),
                automation_effort_hours=rng.choice([None, 8, 16, 40, 80]),
                status=status,
                automated_on=automated_on if status == ToilStatus.AUTOMATED else None,
                baseline_monthly_hours=frequency * minutes / 60
                if status == ToilStatus.AUTOMATED
                else None,
                retired_on=automated_on if status == ToilStatus.RETIRED else None,
            )
        )
    items = ToilItem.objects.bulk_create(items, batch_size=BATCH)
    for item in items:
        if rng.random() < 0.3:
            links.append(
                ToilItem.services.through(
                    toilitem_id=item.pk, service_id=rng.choice(by_team[item.team_id]).pk
                )
            )
    ToilItem.services.through.objects.bulk_create(links, batch_size=BATCH)
    return items


def load_entries(items, engineers, count: int, today, rng) -> None:
    """``count`` entries over the last year against ``items`` (none retired), each by an
    engineer of the item's team."""
    from toil.models.inventory import ToilEntry

    live = [item for item in items if item.retired_on is None]
    batch = []
    for _ in range(count):
        item = rng.choice(live)
        batch.append(
            ToilEntry(
                item_id=item.pk,
                user_id=rng.choice(engineers[item.team_id]),
                date=today - timedelta(days=rng.randint(0, 364)),
                minutes=rng.choice([5, 10, 15, 30, 45, 60, 90, 120, 240]),
            )
        )
        if len(batch) == BATCH:
            ToilEntry.objects.bulk_create(batch)
            batch = []
    ToilEntry.objects.bulk_create(batch)


def load_incidents(first: int, last: int, total: int, services, engineers, now, rng) -> None:
    """Incidents numbered first..last-1 of ``total`` over the last year (the newest
    OPEN_INCIDENTS open), each with its history: declared with a commander and a tech lead,
    and on half of them a second tech lead an hour in."""
    from incidents.choices import IncidentStatus, Severity
    from incidents.models.incidents import Incident, IncidentReferenceCounter
    from incidents.references import format_reference

    year_ago = now - timedelta(days=365)
    numbers = {
        year: counter.last_number
        for year, counter in IncidentReferenceCounter.objects.in_bulk().items()
    }
    incidents, affected = [], []
    for n in range(first, last):
        service = rng.choice(services)
        people = engineers[service.owner_team_id]
        started = year_ago + (now - year_ago - timedelta(hours=12)) * (n / total)
        is_open = n >= total - OPEN_INCIDENTS
        resolved = started + timedelta(minutes=rng.randint(20, 600))
        numbers[started.year] = numbers.get(started.year, 0) + 1
        incidents.append(
            Incident(
                reference=format_reference(started.year, numbers[started.year]),
                title=f"Errors on {service.name} ({n})",
                severity=rng.choice(Severity.values),
                status=IncidentStatus.INVESTIGATING if is_open else IncidentStatus.RESOLVED,
                team_id=service.owner_team_id,
                commander_id=rng.choice(people),
                tech_lead_id=rng.choice(people),
                started_at=started,
                detected_at=started,
                acknowledged_at=started + timedelta(minutes=5),
                mitigated_at=None if is_open else resolved,
                resolved_at=None if is_open else resolved,
            )
        )
        affected.append(service)
    incidents = Incident.objects.bulk_create(incidents, batch_size=5000)
    for year, number in numbers.items():
        IncidentReferenceCounter.objects.update_or_create(
            year=year, defaults={"last_number": number}
        )
    Incident.services.through.objects.bulk_create(
        (
            Incident.services.through(incident=incident, service=service)
            for incident, service in zip(incidents, affected, strict=True)
        ),
        batch_size=BATCH,
    )
    History = Incident.history.model
    copied = [
        field.attname
        for field in History._meta.concrete_fields
        if not field.attname.startswith("history_") and field.attname != "id"
    ]
    rows = []
    for incident in incidents:
        values = {name: getattr(incident, name) for name in copied}
        rows.append(
            History(id=incident.pk, history_date=incident.started_at, history_type="+", **values)
        )
        if rng.random() < 0.5:
            handed_over = values | {"tech_lead_id": rng.choice(engineers[incident.team_id])}
            rows.append(
                History(
                    id=incident.pk,
                    history_date=incident.started_at + timedelta(hours=1),
                    history_type="~",
                    **handed_over,
                )
            )
    History.objects.bulk_create(rows, batch_size=BATCH)


def cpu_ms(client, request: dict, count: int) -> float:
    """The median CPU time of this process per request: what the request itself costs, which
    other processes competing for the machine's cores do not inflate as they do wall time."""
    spent = []
    for _ in range(count):
        started = time.process_time()
        client.get(**request)
        spent.append((time.process_time() - started) * 1000)
    return statistics.median(spent)


def timed(function, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def benchmark(options) -> bool:
    from django.db import connection
    from django.test import Client

    from toil.actions.toil import (
        toil_months_mark_dirty,
        toil_months_recompute_dirty,
        toil_months_refresh,
        toil_months_store,
    )
    from toil.models.inventory import TeamToilMonth, ToilEntry, ToilItem, organisation_today
    from toil.selectors.toil import current_month, toil_figures

    # The recomputes rung while loading are not sent: the benchmark runs them itself.
    from toil.tasks import toil as tasks

    tasks.recompute_dirty_toil_months.apply_async = lambda *args, **kwargs: None

    rng = random.Random(2026)
    now = datetime.now(UTC)
    today = organisation_today(now)
    teams, engineers, services, sre_lead = load_organisation(options.teams, rng)
    client = Client()
    client.force_login(sre_lead)
    team = teams[0]

    small_teams = teams[:SMALL_TEAMS]
    small_services = [s for s in services if s.owner_team_id in {t.pk for t in small_teams}]
    items = load_items(small_teams, small_services, SMALL_ITEMS, today, rng)
    load_entries(items, engineers, SMALL_ENTRIES, today, rng)
    load_incidents(0, SMALL_INCIDENTS, SMALL_INCIDENTS, small_services, engineers, now, rng)
    toil_months_refresh(now=now)
    requests = pages(team, team.pk)
    small = queries_per_request(client, requests)

    started = time.perf_counter()
    items += load_items(teams, services, options.items - SMALL_ITEMS, today, rng, start=SMALL_ITEMS)
    print(f"  {len(items):,} toil items loaded in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    load_entries(items, engineers, options.entries - SMALL_ENTRIES, today, rng)
    print(
        f"  {ToilEntry.objects.count():,} entries loaded in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    load_incidents(
        SMALL_INCIDENTS, options.incidents, options.incidents, services, engineers, now, rng
    )
    print(f"  {options.incidents:,} incidents loaded in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    month = current_month(now)
    TeamToilMonth.objects.all().delete()
    written, first_refresh = timed(toil_months_refresh, now=now)
    print(
        f"\nFirst refresh (a year of every team, never computed): {written} rows "
        f"in {first_refresh:.1f} s"
    )
    recomputes = []
    for _ in range(3):
        _, seconds = timed(toil_months_store, months=[month], now=datetime.now(UTC))
        recomputes.append(seconds)
    recompute = statistics.median(recomputes)
    toil_months_mark_dirty(team_ids=[t.pk for t in teams], months=[month])
    done, dirty_seconds = timed(toil_months_recompute_dirty)
    _, live = timed(toil_figures, [month], team_ids=[team.pk], now=datetime.now(UTC))
    recompute_met = recompute <= TARGET_RECOMPUTE_S and dirty_seconds <= TARGET_RECOMPUTE_S
    print(
        f"Recompute every team's month: {len(teams)} teams in {recompute:.2f} s "
        f"(median of 3); {done} dirty marks recomputed in {dirty_seconds:.2f} s "
        f"{'ok' if recompute_met else f'MISSED: over {TARGET_RECOMPUTE_S} s'}"
    )
    print(f"One team's month from the records (no snapshot): {live * 1000:.0f} ms")

    large = queries_per_request(client, requests)
    if options.queries:
        print_queries(client, requests)
    if options.profile:
        for name in options.profile:
            print(f"\n{name}:")
            profile_request(client, requests[name])
    print(
        f"\n{len(teams)} teams, {ToilItem.objects.count():,} toil items, "
        f"{ToilEntry.objects.count():,} entries, {options.incidents:,} incidents; "
        f"{options.requests} requests per page\n"
    )
    with open("/proc/loadavg") as loadavg:
        print(f"Load average before timing: {' '.join(loadavg.read().split()[:3])}\n")
    header = (
        f"{'page':<28} {'queries small':>13} {'queries large':>13} "
        f"{'median ms':>10} {'p95 ms':>8} {'of it DB':>9} {'CPU ms':>7}  verdict"
    )
    print(header)
    print("-" * len(header))
    all_met = recompute_met
    for name, request in requests.items():
        timings, database = latencies_ms(client, request, options.requests)
        cpu = cpu_ms(client, request, max(options.requests // 4, 5))
        slow = p95(timings)
        constant = small[name] == large[name]
        fast = name not in TARGETED or slow < TARGET_P95_MS
        all_met &= constant and fast
        problems = [
            problem
            for problem, failed in (
                ("queries grow with the data", not constant),
                (f"p95 over {TARGET_P95_MS} ms", not fast),
            )
            if failed
        ]
        verdict = "ok" if not problems else "MISSED: " + ", ".join(problems)
        if name not in TARGETED and not problems:
            verdict = "ok (no latency target)"
        print(
            f"{name:<28} {small[name]:>13} {large[name]:>13} "
            f"{statistics.median(timings):>10.1f} {slow:>8.1f} "
            f"{statistics.median(database):>9.1f} {cpu:>7.1f}  {verdict}"
        )
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--queries", action="store_true", help="print each page's SQL")
    parser.add_argument(
        "--profile", action="append", metavar="PAGE", help="profile one request of PAGE"
    )
    options = parser.parse_args()
    return run_on_throwaway_database(lambda: benchmark(options))


if __name__ == "__main__":
    sys.exit(main())
