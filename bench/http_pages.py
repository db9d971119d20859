"""Pages under HTTP load against the floor; each page's cost in-process at demo and org scale.

    .venv/bin/python bench/http_pages.py                   # gunicorn -w 2 and wrk, 10 s per run
    .venv/bin/python bench/http_pages.py --duration 5 --only /incidents
    .venv/bin/python bench/http_pages.py --in-process      # test client: ms and queries per page
    .venv/bin/python bench/http_pages.py --in-process --demo-only --requests 50

HTTP mode (needs `wrk`: `apt-get install wrk` on Debian/Ubuntu, `brew install wrk` on a Mac):
a throw-away PostgreSQL (tests/servers.py), migrations, collectstatic, the demo data and the
worker's recomputes (SLO snapshots, incident metrics) that production's worker would run; the
portal under `gunicorn -w 2` as production runs it (DEBUG off, hashed static files served by
whitenoise from STATIC_ROOT, PROMETHEUS_MULTIPROC_DIR set), and beside it bench/floor.py, a
bare Django view that runs one query and renders a small template, under the same gunicorn.
For each page, signed in as the demo SRE lead, `wrk -t2 -c16 --latency` runs against the
floor and then the page, so that whatever else the machine does hits both; it prints each
page's req/s, the floor's, their ratio, p50, p99 and the non-2xx count.
Target: every page at 25 % of the floor's throughput or more.

In-process mode: the same pages through Django's test client (DEBUG off), median and p95
per request, the median CPU time of this process per request, and the number of queries,
first with the demo data, then with the benchmarks' organisation added (bench/catalog.py's
100 teams and 1,000 services, bench/slo.py's 2,000 SLOs, bench/incidents.py's incidents).
Targets: median 10 ms or less at demo scale, 25 ms or less at org scale, and the same
number of queries at both.
"""

import sys
from pathlib import Path

# Run as a script: the project's root on sys.path, for `portal` and `tests`.
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable  # noqa: E402
from http.cookiejar import CookieJar  # noqa: E402

ROOT = _HERE.parent
PYTHON = sys.executable
TARGET_RATIO = 0.25
TARGET_DEMO_MS = 10
TARGET_ORG_MS = 25
ORG_INCIDENTS = 20_000
ADMIN_USERNAME = "admin"  # the demo SRE lead (portal.demo.people.ADMIN_USERNAME)
API_LISTS = [
    "/api/services/",
    "/api/slos/",
    "/api/incidents/",
    "/api/teams/",
    "/api/memberships/",
    "/api/tags/",
    "/api/budget-policies/",
    "/api/postmortems/",
    "/api/action-items/",
]


def page_paths(get_json: Callable[[str], dict]) -> list[str]:
    """The main pages and every API list, after /healthz; the service, SLO and incident are
    the first ones the API lists, as the reference comparison chooses them."""

    def first(path: str) -> dict:
        results = get_json(path)["results"]
        if not results:
            raise SystemExit(f"{path} lists nothing: the demo data did not load")
        return results[0]

    service = first("/api/services/?page_size=1")["slug"]
    slo = first("/api/slos/?page_size=1")
    incident = first("/api/incidents/?page_size=1")["reference"]
    return [
        # Not a page: what every signed-in request pays before its view (the middleware,
        # the session and the user), for reading the pages' figures against.
        "/healthz",
        "/",
        "/services/",
        f"/services/{service}/",
        f"/services/{slo['service']}/slos/{slo['slug']}/",
        "/slos/",
        "/incidents/",
        f"/incidents/{incident}/",
        "/incidents/metrics/",
        "/postmortems/",
        *API_LISTS,
    ]


# --- HTTP mode -----------------------------------------------------------------------------


def free_port() -> int:
    from tests.servers import free_port

    return free_port()


def run(command: list[str], env: dict, what: str) -> None:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def serve(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    # Its own process group: gunicorn's workers are stopped with their master.
    with open(log, "w") as output:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} did not start:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within 60 s")


def sign_in(base: str, username: str, password: str) -> str:
    """The session and CSRF cookies of a browser signed in as `username`, as one header."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(urllib.request.Request(base + "/login/", data=form))
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "sessionid=" not in cookie:
        raise SystemExit(f"could not sign in as {username}")
    return cookie


def fetch(url: str, cookie: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, cookie: str, seconds: int, threads: int, connections: int) -> dict:
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
    ).stdout
    found = {
        "rps": re.search(r"Requests/sec:\s+([\d.]+)", output),
        "p50": re.search(r"^\s+50%\s+(\S+)", output, re.M),
        "p99": re.search(r"^\s+99%\s+(\S+)", output, re.M),
    }
    if not all(found.values()):
        raise SystemExit(f"wrk gave nothing usable for {url}:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {
        "rps": float(found["rps"].group(1)),
        "p50": milliseconds(found["p50"].group(1)),
        "p99": milliseconds(found["p99"].group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def http_benchmark(args) -> int:
    if not shutil.which("wrk"):
        print(
            "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`.",
            file=sys.stderr,
        )
        return 2
    from tests.servers import start_postgres

    work = Path(tempfile.mkdtemp(prefix="portal-http-bench-"))
    server, database_url = start_postgres()
    processes: list[subprocess.Popen] = []
    try:
        (work / "prometheus").mkdir()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PORTAL_VAR_DIR": str(work / "var"),
            "STATIC_ROOT": str(work / "static"),
            "WHITENOISE_USE_FINDERS": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        print("migrating, collecting static files, loading the demo data...", flush=True)
        run([PYTHON, "manage.py", "migrate", "--no-input"], env, "migrate")
        run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v", "0"], env, "collectstatic")
        run([PYTHON, "manage.py", "load_demo_data"], env, "load_demo_data")
        run(
            [
                PYTHON,
                "-c",
                "import django; django.setup(); from bench.http_pages import "
                "worker_recomputes; worker_recomputes()",
            ],
            {**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
            "the worker's recomputes",
        )
        password = (work / "var" / "demo-password").read_text().strip()

        gunicorn = str(Path(PYTHON).parent / "gunicorn")
        common = ["-w", str(args.workers), "--log-level", "warning"]
        portal_port, floor_port = free_port(), free_port()
        portal, floor = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{floor_port}"
        processes.append(
            serve(
                [gunicorn, "portal.wsgi", "-b", f"127.0.0.1:{portal_port}", *common],
                env,
                work / "portal.log",
            )
        )
        processes.append(
            serve(
                [gunicorn, "bench.floor:app", "-b", f"127.0.0.1:{floor_port}", *common],
                env,
                work / "floor.log",
            )
        )
        wait_until_up(portal + "/healthz", processes[0], work / "portal.log")
        wait_until_up(floor + "/", processes[1], work / "floor.log")

        cookie = sign_in(portal, ADMIN_USERNAME, password)
        paths = page_paths(lambda path: json.loads(fetch(portal + path, cookie)[1]))
        paths = [path for path in paths if not args.only or any(o in path for o in args.only)]

        print(
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
            f"gunicorn -w {args.workers}, signed in as {ADMIN_USERNAME} (SRE lead)\n"
        )
        rows = []
        header = (
            f"{'page':<34} {'req/s':>8} {'floor req/s':>12} {'ratio':>6} "
            f"{'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}  verdict"
        )
        print(header)
        print("-" * len(header))
        all_met = True
        for path in paths:
            status, _ = fetch(portal + path, cookie)
            base = wrk(floor + "/", cookie, args.duration, args.threads, args.connections)
            page = wrk(portal + path, cookie, args.duration, args.threads, args.connections)
            ratio = page["rps"] / base["rps"]
            met = status == 200 and page["non_2xx"] == 0 and ratio >= TARGET_RATIO
            all_met &= met
            verdict = "ok" if met else f"MISSED (GET {status})"
            rows.append((path, page, base, ratio))
            print(
                f"{path:<34} {page['rps']:>8.0f} {base['rps']:>12.0f} {ratio:>6.2f} "
                f"{page['p50']:>8.1f} {page['p99']:>8.1f} {page['non_2xx']:>8}  {verdict}",
                flush=True,
            )
        if args.markdown:
            print("\n| page | req/s | floor req/s | ratio | p50 | p99 | non-2xx |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for path, page, base, ratio in rows:
                print(
                    f"| `{path}` | {page['rps']:,.0f} | {base['rps']:,.0f} | {ratio:.2f} | "
                    f"{page['p50']:.0f} ms | {page['p99']:.0f} ms | {page['non_2xx']} |"
                )
        print()
        print("All targets met." if all_met else "Some targets missed (see above).")
        return 0 if all_met else 1
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


# --- In-process mode -----------------------------------------------------------------------


def worker_recomputes() -> None:
    """What the worker does after the demo data rings it: every SLO's snapshot and the
    incident metrics snapshots. Pages read these; without them they show their
    before-the-first-recompute states."""
    from django.utils import timezone

    from incidents.actions.metrics import incident_metrics_snapshots_recompute
    from services.actions.sli import slo_statuses_recompute

    now = timezone.now()
    slo_statuses_recompute(now=now)
    incident_metrics_snapshots_recompute(now=now)


def query_count(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    return len(queries)


def repeat_median_ms(client, path: str, count: int) -> float:
    """The median of a repeat view as production serves it: the page cache on
    (PAGE_CACHE_SECONDS as in the settings' default), no write in between, so every request
    after the first is answered from the kept copy. What a second look costs, not the page."""
    from django.test import override_settings

    with override_settings(PAGE_CACHE_SECONDS=10):
        client.get(path)  # kept
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def timings_ms(client, path: str, count: int) -> tuple[list[float], list[float]]:
    """Each request's time, and the CPU time this process spent on it: on a machine shared
    with other work the first grows with the load, the second much less."""
    for _ in range(3):  # warm up: templates compiled, connections open
        client.get(path)
    timings, cpu = [], []
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return timings, cpu


class Organisation:
    """The benchmarks' organisation beside the demo data, loaded in two steps like the
    other benchmarks, so that query counts can be compared at a small and a large size:
    bench/catalog.py's 100 teams and their services, bench/slo.py's 2,000 SLOs (ten per service,
    snapshots recomputed without SLI history) and bench/incidents.py's incident history
    (the newest incidents first)."""

    # The newest 100 incidents: the 25 open ones and enough resolved ones for post-mortems.
    SMALL_SERVICES, SMALL_INCIDENTS = 10, 100
    SLOS = 2000  # bench/slo.py's: ten on each of the first 200 services

    def __init__(self, incident_count: int):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password

        from bench import catalog
        from services.models.catalog import Tag, Team

        self.incident_count = incident_count
        self.rng = random.Random(2026)
        User = get_user_model()
        unusable = make_password(None)
        self.managers = User.objects.bulk_create(
            User(username=f"manager{n}", first_name="Eng", last_name=f"{n:02}", password=unusable)
            for n in range(catalog.TEAMS)
        )
        self.teams = Team.objects.bulk_create(
            Team(name=f"Team {n:03}", slug=f"team-{n:03}", manager=manager)
            for n, manager in enumerate(self.managers)
        )
        known = set(Tag.objects.values_list("slug", flat=True))
        Tag.objects.bulk_create(
            Tag(name=name, slug=name) for name in catalog.TAGS if name not in known
        )
        self.tags = list(Tag.objects.all())

    def load(
        self, services: tuple[int, int], slos: tuple[int, int], incidents: tuple[int, int]
    ) -> None:
        from django.db import connection

        from bench import catalog, slo
        from bench import incidents as history
        from services.models.catalog import Service

        catalog.load_catalog(*services, self.teams, self.tags, self.rng)
        ours = list(Service.objects.filter(owner_team__in=self.teams).order_by("pk"))
        slo.load_slos(*slos, ours)
        history.load_incidents(*incidents, self.incident_count, self.managers, ours, self.rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        worker_recomputes()

    def load_small(self) -> None:
        from bench import slo

        total = self.incident_count
        self.load(
            (0, self.SMALL_SERVICES),
            (0, self.SMALL_SERVICES * slo.SLOS_PER_SERVICE),
            (total - self.SMALL_INCIDENTS, total),
        )

    def load_rest(self) -> None:
        from bench import catalog, slo

        total = self.incident_count
        self.load(
            (self.SMALL_SERVICES, catalog.LARGE),
            (self.SMALL_SERVICES * slo.SLOS_PER_SERVICE, self.SLOS),
            (0, total - self.SMALL_INCIDENTS),
        )

    @staticmethod
    def summary() -> str:
        from incidents.models.incidents import Incident
        from services.models.catalog import Service, Team
        from services.models.slos import SLO

        return (
            f"{Service.objects.count()} services, {Team.objects.count()} teams, "
            f"{SLO.objects.count()} SLOs, {Incident.objects.count()} incidents"
        )


def in_process_benchmark(args) -> bool:
    from django.contrib.auth import get_user_model
    from django.test import Client

    import portal.wsgi  # noqa: F401 - set up as the web process is (its garbage collector)
    from portal.demo.load import load_demo_data

    load_demo_data(password=secrets.token_urlsafe(12))
    worker_recomputes()
    client = Client()
    client.force_login(get_user_model().objects.get(username=ADMIN_USERNAME))
    paths = page_paths(lambda path: client.get(path).json())
    paths = [path for path in paths if not args.only or any(o in path for o in args.only)]

    demo = {
        path: (query_count(client, path), timings_ms(client, path, args.requests)) for path in paths
    }
    repeat = {path: repeat_median_ms(client, path, args.requests) for path in paths}
    small, org = {}, {}
    if not args.demo_only:
        print("loading the organisation...", flush=True)
        started = time.perf_counter()
        organisation = Organisation(args.incidents)
        organisation.load_small()
        small = {path: query_count(client, path) for path in paths}
        organisation.load_rest()
        print(organisation.summary(), f"in {time.perf_counter() - started:.0f} s")
        org = {
            path: (query_count(client, path), timings_ms(client, path, args.requests))
            for path in paths
        }

    print(f"\n{args.requests} requests per page, DEBUG off, signed in as the demo SRE lead\n")
    print(
        "median, p95 and cpu: the page made (page cache off); repeat: the same page viewed again"
        " with no write between, answered by the page cache (portal.pagecache)\n"
    )
    header = (
        f"{'page':<42} {'queries':>7} {'median ms':>9} {'p95 ms':>7} {'cpu ms':>6} {'repeat':>6}"
        + (
            f" {'queries small/org':>17} {'org median':>10} {'org p95':>8} {'org cpu':>7}"
            if org
            else ""
        )
        + "  verdict"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    for path in paths:
        queries, (timings, cpu) = demo[path]
        median, slow = statistics.median(timings), p95(timings)
        problems = [f"median over {TARGET_DEMO_MS} ms"] if median > TARGET_DEMO_MS else []
        line = (
            f"{path:<42} {queries:>7} {median:>9.1f} {slow:>7.1f} {statistics.median(cpu):>6.1f}"
            f" {repeat[path]:>6.1f}"
        )
        if org:
            org_queries, (org_timings, org_cpu) = org[path]
            org_median = statistics.median(org_timings)
            counts = f"{small[path]}/{org_queries}"
            line += (
                f" {counts:>17} {org_median:>10.1f} {p95(org_timings):>8.1f}"
                f" {statistics.median(org_cpu):>7.1f}"
            )
            if org_median > TARGET_ORG_MS:
                problems.append(f"org median over {TARGET_ORG_MS} ms")
            if org_queries != small[path]:
                problems.append("queries grow with the data")
        all_met &= not problems
        print(line + "  " + ("ok" if not problems else "MISSED: " + ", ".join(problems)))
    return all_met


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--in-process", action="store_true", help="test client instead of wrk")
    parser.add_argument("--only", nargs="+", help="only the paths containing one of these")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--requests", type=int, default=100, help="in-process requests per page")
    parser.add_argument("--demo-only", action="store_true", help="in-process: skip org scale")
    parser.add_argument(
        "--incidents", type=int, default=ORG_INCIDENTS, help="in-process: org-scale incidents"
    )
    args = parser.parse_args()
    if not args.in_process:
        return http_benchmark(args)
    from bench.catalog import run_on_throwaway_database

    # Demo data rings the worker on commit: an in-memory broker takes the rings, and its
    # warning that no host was named stays out of the figures.
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    return run_on_throwaway_database(lambda: in_process_benchmark(args))


if __name__ == "__main__":
    sys.exit(main())
