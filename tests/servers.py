"""Throw-away PostgreSQL and Redis servers on free loopback ports.

Used by the test suite (tests/conftest.py) and the benchmarks (bench/): each server
lives in its own temporary directory and is stopped and removed by ``stop()``.
"""

import email
import email.policy
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field


class ServerUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"{name} exited with code {process.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServerUnavailable(f"{name} did not listen on 127.0.0.1:{port} within {timeout} s")


def find_binary(name: str, patterns: tuple[str, ...] = ()) -> str:
    found = shutil.which(name)
    if found:
        return found
    for pattern in patterns:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    raise ServerUnavailable(f"{name} not found: run `make test-deps` (see README)")


@dataclass
class Server:
    directory: str
    process: subprocess.Popen | None = None
    port: int = 0
    log_path: str = ""
    _log: object = field(default=None, repr=False)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log:
            self._log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _as_unprivileged(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def start_postgres() -> tuple[Server, str]:
    """Start PostgreSQL; return the server and a DATABASE_URL for its superuser."""
    patterns = ("/usr/lib/postgresql/*/bin/{}",)
    initdb = find_binary("initdb", tuple(p.format("initdb") for p in patterns))
    postgres = find_binary("postgres", tuple(p.format("postgres") for p in patterns))
    directory = tempfile.mkdtemp(prefix="portal-pg-")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    data = os.path.join(directory, "data")
    server = Server(directory=directory, port=free_port(), log_path=os.path.join(directory, "log"))
    subprocess.run(
        _as_unprivileged(
            [initdb, "-D", data, "-U", "portal", "--auth=trust", "-E", "UTF8", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    server._log = open(server.log_path, "w")  # noqa: SIM115 - closed by stop()
    server.process = subprocess.Popen(
        _as_unprivileged(
            [
                postgres,
                "-D",
                data,
                "-p",
                str(server.port),
                "-h",
                "127.0.0.1",
                "-k",
                directory,
                # A throw-away database: durability buys nothing here, speed does.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ]
        ),
        stdout=server._log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(server.port, server.process, "PostgreSQL")
    # Accepting TCP connections comes slightly before accepting logins.
    deadline = time.monotonic() + 30
    pg_isready = find_binary("pg_isready", tuple(p.format("pg_isready") for p in patterns))
    while (
        subprocess.run(
            [pg_isready, "-h", "127.0.0.1", "-p", str(server.port)], capture_output=True
        ).returncode
        != 0
    ):
        if time.monotonic() > deadline:
            raise ServerUnavailable("PostgreSQL did not accept connections")
        time.sleep(0.1)
    return server, f"postgres://portal@127.0.0.1:{server.port}/postgres"


def start_redis(port: int | None = None) -> tuple[Server, str]:
    """Start Redis without persistence (on ``port``, e.g. to bring a stopped one back where
    its clients expect it, else a free one); return the server and its URL."""
    redis_server = find_binary("redis-server")
    directory = tempfile.mkdtemp(prefix="portal-redis-")
    server = Server(
        directory=directory, port=port or free_port(), log_path=os.path.join(directory, "log")
    )
    server._log = open(server.log_path, "w")  # noqa: SIM115 - closed by stop()
    server.process = subprocess.Popen(
        [
            redis_server,
            "--port",
            str(server.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            directory,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=server._log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(server.port, server.process, "Redis")
    return server, f"redis://127.0.0.1:{server.port}/0"


def start_alertmanager(config_text: str) -> tuple[Server, str]:
    """Start Prometheus Alertmanager with this configuration (YAML); return the server and
    its URL. Clustering is off so that it opens no port beyond its loopback API."""
    alertmanager = find_binary("prometheus-alertmanager", ("/usr/bin/alertmanager",))
    directory = tempfile.mkdtemp(prefix="portal-alertmanager-")
    config_path = os.path.join(directory, "alertmanager.yml")
    with open(config_path, "w") as config_file:
        config_file.write(config_text)
    server = Server(directory=directory, port=free_port(), log_path=os.path.join(directory, "log"))
    server._log = open(server.log_path, "w")  # noqa: SIM115 - closed by stop()
    server.process = subprocess.Popen(
        [
            alertmanager,
            f"--config.file={config_path}",
            f"--storage.path={os.path.join(directory, 'data')}",
            f"--web.listen-address=127.0.0.1:{server.port}",
            "--cluster.listen-address=",
        ],
        stdout=server._log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(server.port, server.process, "Alertmanager")
    return server, f"http://127.0.0.1:{server.port}"


@dataclass
class DeliveredEmail:
    """One message as the SMTP sink received it: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: object  # email.message.EmailMessage

    def body(self, content_type: str) -> str:
        return self.message.get_body(preferencelist=(content_type.split("/")[1],)).get_content()


class _CollectingHandler:
    """aiosmtpd handler keeping every message; refuses the addresses it is told to."""

    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.sink.refusals.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.sink.delivered.append(
            DeliveredEmail(envelope.mail_from, list(envelope.rcpt_tos), message)
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """An SMTP server that keeps what it receives. ``refusals`` maps a recipient address to
    the reply it gets instead of 250 (e.g. "550 No such user", "451 Try again later")."""

    port: int
    delivered: list[DeliveredEmail] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)
    _controller: object = field(default=None, repr=False)

    def stop(self) -> None:
        self._controller.stop()


def start_smtp_sink() -> SmtpSink:
    """Start an SMTP sink (aiosmtpd, in a thread of this process) on a free loopback port."""
    # Imported here: aiosmtpd is a test dependency, and the benchmarks use this module too.
    from aiosmtpd.controller import Controller

    sink = SmtpSink(port=free_port())
    sink._controller = Controller(_CollectingHandler(sink), hostname="127.0.0.1", port=sink.port)
    sink._controller.start()
    return sink


def start_prometheus(data_dir: str) -> tuple[Server, str]:
    """Start Prometheus on the TSDB in `data_dir` (e.g. blocks written by `promtool tsdb
    create-blocks-from openmetrics`), scraping nothing; return the server and its URL. Retention
    is a century so that blocks of any past date stay queryable; `data_dir` is the caller's."""
    prometheus = find_binary("prometheus")
    directory = tempfile.mkdtemp(prefix="portal-prometheus-")
    config_path = os.path.join(directory, "prometheus.yml")
    with open(config_path, "w") as config_file:
        config_file.write("global:\n  evaluation_interval: 1m\nscrape_configs: []\n")
    server = Server(directory=directory, port=free_port(), log_path=os.path.join(directory, "log"))
    server._log = open(server.log_path, "w")  # noqa: SIM115 - closed by stop()
    server.process = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={data_dir}",
            f"--web.listen-address=127.0.0.1:{server.port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=server._log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(server.port, server.process, "Prometheus")
    url = f"http://127.0.0.1:{server.port}"
    # The port opens before the TSDB has loaded its blocks; /-/ready answers 200 once it has.
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return server, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise ServerUnavailable("Prometheus did not become ready")
        time.sleep(0.1)
