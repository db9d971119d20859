"""Reports and reminders benchmark: the monthly reports of 100 teams and the organisation,
the daily digests of 2,000 people, and the report archive's pages.

    .venv/bin/python bench/reports.py [--requests 200] [--teams 100] [--people 2000]

Runs on a throw-away PostgreSQL (tests/servers.py), or, when DATABASE_URL is set, on a test
database next to that one. It loads 100 teams of 20 people (each team's manager among them,
zones spread over Europe, India, the Americas and New Zealand), 1,000 services, 2,000 SLOs with
their status snapshots (as the SLI worker writes them after a sync: budget, tier and twelve
months of attainment; bench/slo.py measures computing those), four years of incidents with
the volumes of bench/incidents.py (20,000; post-mortems of the SEV1 and SEV2 ones, three
action items each, some of them overdue). Then it times:

- generating every team's report and the organisation's for last month, charts included,
  with their recipients listed for sending (report_generate, as the worker runs it; the
  broker's rings are left out);
- planning the daily digests of every person (digests_plan: gathering, grouping, escalating,
  writing the log), then rendering and sending each to an SMTP server on loopback;
- /reports/ (with a year of archived reports), a report's page and /api/reports/, as an SRE
  lead, counting their queries with 101 and with 1,212 reports.

Targets: all reports in 60 s, all digests in 30 s, /reports/ p95 under 50 ms; pages' queries
the same at both archive sizes. Exits non-zero when one is missed.
"""

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import latencies_ms, p95, queries_per_request, run_on_throwaway_database
from bench.incidents import SEVERITY_WEIGHTS, incident_times

PEOPLE_PER_TEAM = 20
SERVICES_PER_TEAM = 10
SLOS_PER_SERVICE = 2
INCIDENTS = 20_000
ITEMS_PER_POSTMORTEM = 3
HISTORY = timedelta(days=4 * 365)
ZONES = ["UTC", "Europe/Paris", "Asia/Kolkata", "America/New_York", "Pacific/Auckland"]
#: Worker processes generating reports at once, as a Celery worker runs them (its default
#: concurrency: one process per CPU).
WORKERS = os.cpu_count() or 1
TARGET_REPORTS_S = 60
TARGET_DIGESTS_S = 30
TARGET_P95_MS = 50
BATCH = 5000


def load(rng, teams_count: int, people_count: int, now: datetime):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from incidents.choices import ActionItemKind, ActionItemStatus, IncidentStatus, PostMortemStatus
    from incidents.models.incidents import Incident, IncidentReferenceCounter
    from incidents.models.postmortems import ActionItem, PostMortem
    from incidents.references import format_reference
    from portal.profile.models import Profile
    from portal.roles import grant_sre_lead
    from services.choices import Lifecycle, MembershipRole, Tier
    from services.models.catalog import Membership, Service, Team
    from services.models.slos import SLO, SLOStatus

    User = get_user_model()
    unusable = make_password(None)
    people = User.objects.bulk_create(
        User(
            username=f"person{n}",
            email=f"person{n}@example.test",
            first_name="P",
            last_name=f"{n}",
            password=unusable,
        )
        for n in range(people_count)
    )
    Profile.objects.bulk_create(
        Profile(user=person, time_zone=ZONES[n % len(ZONES)]) for n, person in enumerate(people)
    )
    per_team = max(people_count // teams_count, 1)
    teams = Team.objects.bulk_create(
        Team(
            name=f"Team {n:03}", slug=f"team-{n:03}", manager=people[(n * per_team) % people_count]
        )
        for n in range(teams_count)
    )
    Membership.objects.bulk_create(
        Membership(
            user=person,
            team=teams[min(n // per_team, teams_count - 1)],
            role=MembershipRole.ENGINEER,
        )
        for n, person in enumerate(people)
    )
    services = Service.objects.bulk_create(
        Service(
            name=f"Service {n:04}",
            slug=f"service-{n:04}",
            owner_team=teams[n % teams_count],
            tier=Tier.TIER_2,
            lifecycle=Lifecycle.PRODUCTION,
        )
        for n in range(teams_count * SERVICES_PER_TEAM)
    )
    slos = SLO.objects.bulk_create(
        SLO(
            service=service,
            name=f"Availability {k}",
            slug=f"availability-{k}",
            objective="99.9",
            events_query="sum(rate(ok[{{.window}}]))",
            total_query="sum(rate(all[{{.window}}]))",
        )
        for service in services
        for k in range(SLOS_PER_SERVICE)
    )
    month_starts = []
    first = date(now.year, now.month, 1)
    for back in range(12, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        month_starts.append(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC))
    statuses = []
    for slo in slos:
        remaining = rng.choice([0.8, 0.7, 0.6, 0.3, 0.05, -0.2])
        monthly = [
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "attainment": attainment,
                "met": attainment >= 0.999,
            }
            for start, end in zip(month_starts, [*month_starts[1:], now], strict=True)
            for attainment in [rng.choice([0.9995, 0.9992, 0.9989, 0.9999, 0.998])]
        ]
        statuses.append(
            SLOStatus(
                slo=slo,
                computed_at=now,
                window_start=now - timedelta(days=30),
                window_end=now,
                attainment=0.9993,
                allowed_bad=1000.0,
                bad=(1 - remaining) * 1000,
                consumed=1 - remaining,
                remaining=remaining,
                policy_tier="healthy"
                if remaining > 0.5
                else "caution"
                if remaining >= 0.1
                else "frozen",
                coverage=1.0,
                latest_data_at=now,
                monthly=monthly,
            )
        )
    SLOStatus.objects.bulk_create(statuses, batch_size=BATCH)

    severities, weights = zip(*SEVERITY_WEIGHTS.items(), strict=True)
    start = now - HISTORY
    numbers, incidents = {}, []
    for n in range(INCIDENTS):
        started = start + HISTORY * (n / INCIDENTS) + timedelta(minutes=rng.randint(0, 600))
        numbers[started.year] = numbers.get(started.year, 0) + 1
        service = rng.choice(services)
        incidents.append(
            Incident(
                reference=format_reference(started.year, numbers[started.year]),
                title=f"Errors on {service.name} ({n})",
                severity=rng.choices(severities, weights)[0],
                status=IncidentStatus.CLOSED,
                team_id=service.owner_team_id,
                commander=rng.choice(people),
                **incident_times(started, rng),
            )
        )
    incidents = Incident.objects.bulk_create(incidents, batch_size=BATCH)
    for year, number in numbers.items():
        IncidentReferenceCounter.objects.update_or_create(
            year=year, defaults={"last_number": number}
        )
    postmortems = PostMortem.objects.bulk_create(
        (
            PostMortem(
                incident=incident,
                status=PostMortemStatus.PUBLISHED
                if incident.started_at < now - timedelta(days=20)
                else PostMortemStatus.DRAFT,
                author=incident.commander,
                due_at=incident.resolved_at + timedelta(days=7),
                published_at=incident.resolved_at + timedelta(days=5)
                if incident.started_at < now - timedelta(days=20)
                else None,
            )
            for incident in incidents
            if incident.severity in ("SEV1", "SEV2")
        ),
        batch_size=BATCH,
    )
    today = now.date()
    members = {}
    for n, person in enumerate(people):
        members.setdefault(min(n // per_team, teams_count - 1), []).append(person)
    team_index = {team.pk: index for index, team in enumerate(teams)}
    items = []
    for postmortem in postmortems:
        owners = members[team_index[postmortem.incident.team_id]]
        for k in range(ITEMS_PER_POSTMORTEM):
            due = postmortem.incident.started_at.date() + timedelta(days=rng.randint(7, 60))
            pending = due > today - timedelta(days=40) and k < 2
            items.append(
                ActionItem(
                    postmortem=postmortem,
                    title=f"Follow-up {k} of {postmortem.incident.reference}",
                    owner=rng.choice(owners),
                    due_date=due,
                    kind=ActionItemKind.PREVENT,
                    status=ActionItemStatus.OPEN if pending else ActionItemStatus.DONE,
                    completed_at=None
                    if pending
                    else postmortem.incident.resolved_at + timedelta(days=3),
                )
            )
    ActionItem.objects.bulk_create(items, batch_size=BATCH)
    lead = User.objects.create(username="sre-lead", email="lead@example.test", password=unusable)
    grant_sre_lead(lead)
    return lead


def generate_share(share: tuple[list[int], datetime]) -> list[tuple[float, float]]:
    """One worker process's reports, each generated as the task does; the wall-clock and CPU
    seconds of each (the CPU time says what a report costs however busy the machine is)."""
    from django.db import connections

    from portal.reports.actions import report_generate

    report_ids, now = share
    times = []
    for report_id in report_ids:
        began, cpu = time.perf_counter(), time.process_time()
        report_generate(report_id=report_id, now=now)
        times.append((time.perf_counter() - began, time.process_time() - cpu))
    connections.close_all()
    return times


def cpu_ms(client, request: dict, count: int) -> list[float]:
    """The CPU time this process spends on each request (its Python and the driver, not the
    database's): what a request costs here whatever else the machine is running."""
    for _ in range(5):
        client.get(**request)
    times = []
    for _ in range(count):
        began = time.process_time()
        client.get(**request)
        times.append((time.process_time() - began) * 1000)
    return times


def benchmark(request_count: int, teams_count: int, people_count: int) -> bool:
    from django.db import connection, connections
    from django.test import Client

    from portal import doorbell
    from portal.reminders.actions import digest_send, digests_plan
    from portal.reminders.choices import DigestStatus
    from portal.reminders.models import Digest
    from portal.reports.actions import reports_plan
    from portal.reports.models import MonthlyReport, ReportDelivery, ReportImage
    from portal.reports.months import last_full_month
    from tests.servers import start_smtp_sink

    # The broker is a doorbell outside what is measured: its rings are dropped here.
    doorbell.ring = lambda *args, **kwargs: False
    rng = random.Random(2026)
    now = datetime.now(UTC)
    began = time.perf_counter()
    lead = load(rng, teams_count, people_count, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Loaded in {time.perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.1f}")
    all_met = True

    month = last_full_month(now)
    began = time.perf_counter()
    report_ids = reports_plan(month=month)
    # The organisation's report (the first) is the longest: it starts first, in one process,
    # and the teams' reports are shared out, as the worker's processes would take them.
    connections.close_all()
    shares = [(report_ids[index::WORKERS], now) for index in range(WORKERS)]
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        results = pool.map(generate_share, shares)
    times = [seconds for share in results for seconds, _cpu in share]
    cpu = sum(cpu for share in results for _seconds, cpu in share)
    reports_seconds = time.perf_counter() - began
    failed = MonthlyReport.objects.exclude(status="ready").count()
    ok = reports_seconds <= TARGET_REPORTS_S and not failed
    all_met &= ok
    print(
        f"\nreports: {len(report_ids)} reports ({ReportImage.objects.count()} charts, "
        f"{ReportDelivery.objects.count()} copies listed) in {reports_seconds:.1f} s with "
        f"{WORKERS} worker processes ({cpu:.1f} s of CPU in all); each "
        f"{statistics.median(times) * 1000:.0f} ms (median), the organisation's "
        f"{results[0][0][0] * 1000:.0f} ms; failed {failed}  "
        + ("ok" if ok else f"MISSED (target {TARGET_REPORTS_S} s)")
    )

    sink = start_smtp_sink()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", sink.port, False
    try:
        began = time.perf_counter()
        plan = digests_plan(now=now, day=now.date())
        planned = time.perf_counter() - began
        ids = list(Digest.objects.filter(status=DigestStatus.PENDING).values_list("pk", flat=True))
        for digest_id in ids:
            digest_send(digest_id=digest_id, now=now)
        total = time.perf_counter() - began
    finally:
        sink.stop()
    sent = Digest.objects.filter(status=DigestStatus.SENT).count()
    items = sum(Digest.objects.values_list("item_count", flat=True))
    ok = total <= TARGET_DIGESTS_S and sent == len(ids)
    all_met &= ok
    print(
        f"digests: {Digest.objects.count()} people planned in {planned:.1f} s "
        f"({len(plan.digests)} with something due, {items} items, "
        f"{sum(Digest.objects.values_list('escalated_count', flat=True))} escalated); "
        f"{sent} rendered and sent over SMTP; {total:.1f} s in all  "
        + ("ok" if ok else f"MISSED (target {TARGET_DIGESTS_S} s)")
    )

    client = Client()
    client.force_login(lead)
    org = MonthlyReport.objects.get(team=None, month=month.first_day)
    pages = {
        "/reports/": {"path": "/reports/"},
        "/reports/ filtered": {"path": "/reports/", "data": {"scope": "team-001"}},
        "report page": {"path": org.get_absolute_url()},
        "report as emailed": {"path": org.get_absolute_url() + "email/"},
        "GET /api/reports/": {"path": "/api/reports/"},
    }
    small = queries_per_request(client, pages)
    # Eleven earlier months of archive, copies of this month's reports.
    template = list(MonthlyReport.objects.all())
    for back in range(1, 12):
        earlier = month.shifted(-back).first_day
        MonthlyReport.objects.bulk_create(
            [
                MonthlyReport(
                    team_id=report.team_id,
                    month=earlier,
                    status="ready",
                    subject=report.subject,
                    html=report.html,
                    text=report.text,
                    figures=report.figures,
                    generated_at=now,
                )
                for report in template
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    large = queries_per_request(client, pages)
    print(
        f"\n{MonthlyReport.objects.count()} reports archived; {request_count} requests per page\n"
    )
    archived = MonthlyReport.objects.count()
    header = (
        f"{'page':<22} {'queries@' + str(len(template)):>12} {'queries@' + str(archived):>13} "
        f"{'median ms':>10} {'p95 ms':>8} {'of it DB':>9} {'CPU p95':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    for name, request in pages.items():
        timings, database = latencies_ms(client, request, request_count)
        cpu_p95 = p95(cpu_ms(client, request, request_count))
        slow = p95(timings)
        problems = [
            problem
            for problem, failed in (
                ("queries grow with the archive", small[name] != large[name]),
                (
                    f"p95 over {TARGET_P95_MS} ms",
                    slow >= TARGET_P95_MS and name.startswith("/reports/"),
                ),
            )
            if failed
        ]
        all_met &= not problems
        print(
            f"{name:<22} {small[name]:>12} {large[name]:>13} {statistics.median(timings):>10.1f} "
            f"{slow:>8.1f} {statistics.median(database):>9.1f} {cpu_p95:>8.1f}  "
            + ("MISSED: " + ", ".join(problems) if problems else "ok")
        )
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--people", type=int, default=2000)
    args = parser.parse_args()
    return run_on_throwaway_database(lambda: benchmark(args.requests, args.teams, args.people))


if __name__ == "__main__":
    sys.exit(main())
