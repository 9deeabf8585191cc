"""Shared benchmark harness: a real server, a load generator, and the two references.

- ``bench_database_url()`` / ``prepare_database()``: a dedicated ``<name>_bench``
  database beside DATABASE_URL's (``spotter_bench`` on the embedded PostgreSQL),
  migrated, so benchmarks pointed at different databases never share data.
- ``django_setup()``: Django in this process with the same settings as the server, to
  create data and mint JWTs (``access_token_for``).
- ``Server``: gunicorn with several worker processes, DEBUG off, bench endpoints on.
- ``run_closed()``: N concurrent clients, each sending its next request when the last
  answered (throughput). ``run_open()``: requests sent on a fixed schedule whatever
  the replies (latency at an offered rate; measured from the scheduled send time, so
  queueing is counted).
- ``db_ceiling()``: the same number of clients running one bare SQL statement through
  psycopg: what the database alone can do.

The load generator is one asyncio process speaking HTTP/1.1 on raw sockets; it
reports its own CPU use so a run can show it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-key-bench-secret-key-0123456789"
PORT = int(os.environ.get("BENCH_PORT", "8077"))


# --- database ------------------------------------------------------------------


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL")
    if not base:
        base = subprocess.check_output(
            [sys.executable, "-m", "gymsite.devdb"], cwd=ROOT, text=True
        ).strip()
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "spotter"
    return urlunsplit(parts._replace(path=f"/{name}_bench"))


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": BENCH_SECRET,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "BENCH_ENDPOINTS": "true",
            "API_THROTTLE_USER": "100000000/minute",
            "API_THROTTLE_ANON": "100000000/minute",
            # Every bench client shares one address and a few devices.
            "ACCESS_THROTTLE_DEVICE": "off",
            "ACCESS_THROTTLE_ADDRESS": "off",
            "LOG_LEVEL": "WARNING",
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_LOG_LEVEL": "warning",
            # A worker recycled mid-run would be measured as a slow request.
            "GUNICORN_MAX_REQUESTS": "0",
            "DATABASE_CONN_MAX_AGE": "600",
        }
    )
    env.update(extra)
    return env


def prepare_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=server_env(database_url),
        check=True,
    )


def _libpq(url: str) -> str:
    """psycopg wants a socket directory as ?host=, not percent-encoded in the netloc."""
    parts = urlsplit(url)
    from urllib.parse import unquote

    host = unquote(parts.hostname or "") if parts.hostname else ""
    if host.startswith("/"):
        user = parts.username or "postgres"
        return f"postgresql://{user}@/{parts.path.lstrip('/')}?host={quote(host)}"
    return url.replace("postgres://", "postgresql://", 1)


def libpq_url(database_url: str) -> str:
    return _libpq(database_url)


def django_setup(database_url: str) -> None:
    os.environ.update(server_env(database_url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gymsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bench_organisation():
    """The one gym of the bench database (a one-gym deployment: host needs no mapping)."""
    from accounts.models import Organisation

    organisation, _ = Organisation.objects.get_or_create(
        slug="bench", defaults={"name": "Bench Gym", "currency": "GBP"}
    )
    return organisation


def bench_user(email: str = "bench-floor@bench.test"):
    """A signed-up person with a staff role in the bench gym (for the floor endpoint)."""
    from accounts.models import Role, RoleAssignment, User
    from accounts.tenancy import tenant_scope

    organisation = bench_organisation()
    user, _ = User.objects.get_or_create(email=email)
    with tenant_scope(organisation):
        RoleAssignment.objects.get_or_create(user=user, role=Role.OWNER, branch=None)
    return user


def bench_members(
    organisation, branch, *, prefix: str, first_name: str, last_name: str, count: int
):
    """``count`` people with logins and member records at ``branch`` (created once,
    reused by later runs): their users, in order."""
    from accounts.models import Member, User
    from accounts.tenancy import tenant_scope

    emails = [f"{prefix}-{n}@bench.test" for n in range(count)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [
            User(email=e, first_name=first_name, last_name=last_name, password="!")
            for e in emails
            if e not in existing
        ]
    )
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    with tenant_scope(organisation):
        have = set(Member.objects.filter(user__in=users.values()).values_list("user_id", flat=True))
        Member.objects.bulk_create(
            [
                Member(
                    organisation=organisation,
                    user=u,
                    first_name=first_name,
                    last_name=last_name,
                    email=u.email,
                    home_branch=branch,
                )
                for u in users.values()
                if u.pk not in have
            ]
        )
    return [users[e] for e in emails]


def access_token_for(user) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=__import__("datetime").timedelta(hours=2))
    return str(token)


# --- server --------------------------------------------------------------------


class Server:
    """gunicorn serving gymsite.wsgi with ``workers`` processes on 127.0.0.1:PORT."""

    def __init__(self, database_url: str, workers: int = 4, threads: int = 1, **env: str):
        self.database_url = database_url
        self.workers = workers
        self.threads = threads
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "gymsite.wsgi",
            # Production's settings (scripts/serve), so the bench measures what runs
            # there; what follows on the command line wins over the file.
            "--config",
            "gymsite/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--worker-class",
            "gthread" if self.threads > 1 else "sync",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=server_env(self.database_url, **self.env)
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                # e.g. the port is taken: never measure somebody else's server.
                raise RuntimeError(
                    f"gunicorn exited ({self.process.returncode}); port {PORT} busy?"
                )
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2)
                time.sleep(0.5)
                if self.process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited; port {PORT} is served by another process")
                return self
            except Exception:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=20)

    def worker_pids(self) -> list[int]:
        if not self.process:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone or unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the server's workers and by the database's backends for
    the bench database: the cost of a request whatever else the machine is doing
    (throughput on a shared machine is noisy; CPU per request much less so)."""

    def __init__(self, server: Server, database_url: str):
        self.server = server
        self.database = urlsplit(database_url).path.lstrip("/")
        self.database_url = database_url

    def _backend_pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(_libpq(self.database_url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            ).fetchall()
        return [pid for (pid,) in rows]

    def read(self) -> tuple[float, float]:
        server = sum(_process_cpu(pid) for pid in self.server.worker_pids())
        database = sum(_process_cpu(pid) for pid in self._backend_pids())
        return server, database

    def per_request(self, before: tuple[float, float], count: int) -> str:
        after = self.read()
        server, database = (after[0] - before[0], after[1] - before[1])
        if not count:
            return ""
        return (
            f"CPU per request: server {server / count * 1000:.2f} ms + "
            f"database {database / count * 1000:.2f} ms = "
            f"{(server + database) / count * 1000:.2f} ms"
        )


# --- load generation -------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: dict | list | bytes | None = None

    def encode(self) -> bytes:
        body = self.body
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            self.headers.setdefault("Content-Type", "application/json")
        body = body or b""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: 127.0.0.1:{PORT}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        return "\r\n".join(lines).encode() + body


@dataclass
class Result:
    latencies: list[float]
    statuses: list[int]
    bodies: list[bytes]
    elapsed: float
    client_cpu: float

    @property
    def count(self) -> int:
        return len(self.statuses)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def status_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for s in self.statuses:
            counts[s] = counts.get(s, 0) + 1
        return counts

    def summary(self, label: str) -> str:
        return (
            f"{label:<28} {self.count:>6} req in {self.elapsed:6.2f}s = {self.rate:8.1f}/s  "
            f"p50 {self.percentile(50) * 1000:7.1f} ms  p99 {self.percentile(99) * 1000:7.1f} ms  "
            f"statuses {self.status_counts()}  load-generator CPU {self.client_cpu:.0%}"
        )


async def _send(request: Request) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    try:
        writer.write(request.encode())
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return status, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_closed(requests: list[Request], concurrency: int) -> Result:
    """Send every request, ``concurrency`` at a time (each client waits for its reply)."""

    async def main():
        queue = list(enumerate(requests))
        queue.reverse()
        latencies = [0.0] * len(requests)
        statuses = [0] * len(requests)
        bodies = [b""] * len(requests)

        async def client():
            while queue:
                index, request = queue.pop()
                started = time.perf_counter()
                statuses[index], bodies[index] = await _send(request)
                latencies[index] = time.perf_counter() - started

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, statuses, bodies, time.perf_counter() - started

    cpu_before = _cpu()
    latencies, statuses, bodies, elapsed = asyncio.run(main())
    return Result(latencies, statuses, bodies, elapsed, (_cpu() - cpu_before) / elapsed)


def run_open(make_request: Callable[[int], Request], rate: float, duration: float) -> Result:
    """Send ``rate`` requests a second for ``duration`` seconds, on schedule."""

    async def main():
        total = int(rate * duration)
        latencies = [0.0] * total
        statuses = [0] * total
        bodies = [b""] * total
        start = time.perf_counter()

        async def one(index: int):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            statuses[index], bodies[index] = await _send(make_request(index))
            latencies[index] = time.perf_counter() - scheduled

        await asyncio.gather(*(one(i) for i in range(total)))
        return latencies, statuses, bodies, time.perf_counter() - start

    cpu_before = _cpu()
    latencies, statuses, bodies, elapsed = asyncio.run(main())
    return Result(latencies, statuses, bodies, elapsed, (_cpu() - cpu_before) / elapsed)


# --- references ----------------------------------------------------------------


def floor_requests(tokens: list[str]) -> list[Request]:
    """The framework floor: one trivial authenticated POST per client token."""
    return [
        Request("POST", "/api/v1/bench/floor", {"Authorization": f"Bearer {t}"}, {}) for t in tokens
    ]


def db_ceiling(
    database_url: str, sql: str, params: Callable[[int], tuple], clients: int, total: int
) -> Result:
    """``total`` executions of one statement by ``clients`` threads, autocommit."""
    import psycopg

    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    counter = iter(range(total))
    conninfo = libpq_url(database_url)

    def worker():
        with psycopg.connect(conninfo, autocommit=True) as conn:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                started = time.perf_counter()
                rows = conn.execute(sql, params(index)).rowcount
                with lock:
                    latencies.append(time.perf_counter() - started)
                    statuses.append(rows)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    cpu_before = _cpu()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return Result(latencies, statuses, [], elapsed, (_cpu() - cpu_before) / elapsed)


def median_of(runs: list[Result]) -> float:
    return statistics.median(r.rate for r in runs)


def pair_ratios_line(rates: list[float], floor_runs: list[Result]) -> str:
    """Each measured run's rate over the floor run right after it, and their median:
    robust to the machine's load drifting over the whole run (a shared machine)."""
    ratios = sorted(rate / f.rate for rate, f in zip(rates, floor_runs, strict=True) if f.rate)
    return (
        "ratio to floor, per adjacent pair: "
        + ", ".join(f"{ratio:.2f}" for ratio in ratios)
        + f" (median {ratios[len(ratios) // 2]:.2f})"
    )
