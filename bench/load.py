"""A bounded load test of the whole service on one machine: a client process on loopback posts
records to POST /api/v1/records (gunicorn, as in bench/intake_api.py) at a fixed rate while
signed-in chiefs and inspectors use the console (queue, alert pages, inbox, dashboards) and an
`auditcage worker` evaluates what arrives.

Untimed set-up: a demo scenario, its reference data, a first slice of records posted and
evaluated (so the console has alerts to show) and the demo accounts. Timed: `--seconds` of load,
open loop (a batch is due every batch/rate seconds whatever the last answer; latency is measured
from when it was due). Afterwards the worker is given `--drain` seconds to catch up, and every
record the API accepted is looked up: `lost` counts those not stored, or stored and not evaluated.

Prints `name: value unit` lines: the records/s held, p50/p99 of intake and of the console pages
under that load, errors (any answer other than 200, or none), records lost, the worker's lag, and
the RSS of the API (gunicorn, all processes) and of the worker at the start and the end of the
load (flat memory shows as equal figures).

    python bench/load.py [--rate 40] [--seconds 60] [--batch 20] [--warm 300]
                         [--chiefs 3] [--inspectors 2] [--think 0.5] [--workers 2]
                         [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import make_scenario  # noqa: E402
from bench.intake_api import (  # noqa: E402
    Connection,
    load_reference,
    make_batches,
    run_clients,
    stored_ids,
    wait_ready,
    warm_every_worker,
)
from bench.precheck import free_port, percentile, start_server  # noqa: E402

PASSWORD = "bench-load-password"  # the demo accounts' password for this run
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
ALERT_LINK = re.compile(r'href="/console/alerts/(\d+)"')
# What each kind of user opens, in turn (alert pages are picked from the list they last saw).
CHIEF_PAGES = ("/console/inbox", "alert", "/console/dashboards/", "/console/inbox")
INSPECTOR_PAGES = ("/console/alerts", "alert", "/console/dashboards/scoreboard", "/console/alerts")


@dataclass
class Figures:
    lock: threading.Lock = field(default_factory=threading.Lock)
    intake_ms: list[float] = field(default_factory=list)
    console_ms: dict[str, list[float]] = field(default_factory=dict)
    sent: int = 0
    accepted_ids: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class ConsoleUser:
    """One signed-in browser: a keep-alive connection and its session cookie."""

    def __init__(self, port: int, username: str) -> None:
        self.port = port
        self.username = username
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.alert_ids: list[str] = []

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """(status, text); status 0 when no answer came. Like a browser, a request that fails on
        a kept-alive connection the server has just closed is sent once more on a new one."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for reused in (self.conn is not None, False):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                reply = self.conn.getresponse()
                text = reply.read().decode("utf-8", "replace")
                break
            except (OSError, http.client.HTTPException):
                self.close()
                if not reused:
                    return 0, ""
        for header in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return reply.status, text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def sign_in(self) -> None:
        status, page = self.request("GET", "/console/login")
        token = CSRF.search(page)
        if status != 200 or token is None:
            raise SystemExit(f"{self.username}: no sign-in page ({status})")
        form = {"username": self.username, "password": PASSWORD, "csrf_token": token.group(1)}
        status, _ = self.request("POST", "/console/login", form)
        if status != 302:
            raise SystemExit(f"{self.username}: sign-in refused ({status})")

    def browse(self, pages: Sequence[str], figures: Figures, until: float, think: float) -> None:
        for page in itertools.cycle(pages):
            if time.monotonic() >= until:
                return
            name, path = page, page
            if page == "alert":
                if not self.alert_ids:
                    continue
                path = f"/console/alerts/{random.choice(self.alert_ids)}"
            started = time.perf_counter()
            status, text = self.request("GET", path)
            elapsed = (time.perf_counter() - started) * 1000
            with figures.lock:
                figures.console_ms.setdefault(name, []).append(elapsed)
            if status != 200:
                figures.error(f"console {name} {status}")
            elif page != "alert":
                self.alert_ids = ALERT_LINK.findall(text)[:50] or self.alert_ids
            time.sleep(random.uniform(0, 2 * think))


def intake(port: int, batches: Sequence, figures: Figures, rate: float, until: float) -> None:
    """Open loop: batch i is due at start + i·size/rate; late answers do not slow the sender."""
    conn = Connection(port, timeout=60)
    started = time.monotonic()
    due = started
    try:
        for batch in batches:
            due += batch.size / rate
            if due >= until:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            status, body = conn.request("POST", "/api/v1/records", batch.body, batch.key)
            elapsed = (time.monotonic() - due) * 1000
            with figures.lock:
                figures.intake_ms.append(elapsed)
                figures.sent += batch.size
            if status != 200:
                figures.error(f"intake {status}")
                continue
            report = orjson.loads(body)
            with figures.lock:
                figures.accepted_ids.extend(
                    o["record_id"]
                    for o in report["outcomes"]
                    if o["outcome"] in ("accepted", "accepted_with_warnings")
                )
    finally:
        conn.close()


def rss_mb(pid: int, *, with_children: bool = False) -> float:
    """Resident memory of a process (and its children: gunicorn's workers), from /proc."""
    pids = [pid]
    if with_children:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            pids += [int(c) for c in children]
        except OSError:
            pass
    total_kb = 0
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


def auditcage(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "auditcage", "--database-url", url, *args]


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def backlog(url: str) -> tuple[int, int]:
    """(records not yet evaluated, new alerts not yet routed)."""
    from sqlalchemy import func, select

    from auditcage.alerts.models import Alert, AlertStatus
    from auditcage.engine.runner import pending_records
    from auditcage.storage.session import make_engine, make_session_factory
    from notifications.routing_models import AlertRouting

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            unrouted = session.scalar(
                select(func.count())
                .select_from(Alert)
                .where(
                    Alert.status == AlertStatus.NEW,
                    Alert.id.not_in(select(AlertRouting.alert_id)),
                )
            )
            return pending_records(session), unrouted or 0
    finally:
        engine.dispose()


def wait_caught_up(url: str, worker: subprocess.Popen, timeout: float) -> float:
    """Seconds until the worker has evaluated every record and routed every alert."""
    started = time.monotonic()
    while any(backlog(url)):
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with status {worker.returncode}")
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def warm_console(port: int, users: Sequence[ConsoleUser], workers: int) -> None:
    """Bursts of page views on fresh connections until one burst finds no cold gunicorn worker:
    each loads the rule packs on its first alert page (about 10 s on a busy 2-core machine)."""
    burst = [(u, p) for u in users for p in ("/console/alerts", "/console/inbox")]
    burst = (burst * (2 * workers))[: max(4, 2 * workers)]
    for _ in range(30):
        latencies: list[float] = []

        def view(user: ConsoleUser, path: str, latencies: list[float] = latencies) -> None:
            fresh = ConsoleUser(port, user.username)
            fresh.cookies = dict(user.cookies)
            started = time.perf_counter()
            fresh.request("GET", path)
            latencies.append((time.perf_counter() - started) * 1000)
            fresh.close()

        threads = [threading.Thread(target=view, args=pair) for pair in burst]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        if latencies and max(latencies) < 1000:
            return
    raise SystemExit("the console did not warm up")


def make_accounts(url: str) -> list[tuple[str, str]]:
    """The demo accounts (chiefs bound to the staff owning most alerts), with PASSWORD:
    (username, role)."""
    from auditcage.demo.accounts import ensure_demo_accounts
    from auditcage.reference.service import build_index
    from auditcage.storage.session import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            made = ensure_demo_accounts(session, build_index(session), password=PASSWORD)
            return [(a.username, a.role) for a in made]
    finally:
        engine.dispose()


STARTED = time.monotonic()


def step(what: str) -> None:
    """Set-up progress on stderr, so a slow phase shows where it is."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {what}", file=sys.stderr, flush=True)


def measure(args: argparse.Namespace, url: str, tmp: Path) -> list[str]:
    reference, records_path = make_scenario(args.warm + int(args.rate * args.seconds) + 200, tmp)
    lines = records_path.read_bytes().splitlines()
    batches, setting = make_batches(lines, args.batch)
    warm = list(itertools.islice(batches, max(1, args.warm // args.batch)))
    loaded = batches[len(warm) :]
    port = free_port()
    server = start_server(url, setting, port, args.workers)
    worker: subprocess.Popen | None = None
    users: list[tuple[ConsoleUser, Sequence[str]]] = []
    try:
        step("scenario generated; loading the reference data")
        load_reference(url, reference)
        # One worker from the start: it evaluates the warm-up slice, then everything after.
        worker = subprocess.Popen(
            auditcage(url, "worker", "--no-deliver", "--idle", "0.5"),
            env=cli_env(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        step("worker started; waiting for the API")
        wait_ready(port, server)
        warm_every_worker(port, batches[0].key, 4)
        # A first slice, evaluated and routed: the console then has alerts, inboxes, figures.
        step("posting the warm-up slice")
        first = run_clients(port, warm, clients=2)
        if first.errors:
            raise SystemExit(f"warm-up intake: {first.errors} requests failed")
        step("waiting for the worker to evaluate and route it")
        wait_caught_up(url, worker, timeout=600)
        accounts = make_accounts(url)
        # Several sessions may share an account, as a chief signed in on a phone and a desk.
        heads = [u for u, role in accounts if role.endswith("_head")]
        chiefs = [heads[i % len(heads)] for i in range(args.chiefs)]
        inspectors = ["inspector"] * args.inspectors
        users += [(ConsoleUser(port, u), CHIEF_PAGES) for u in chiefs]
        users += [(ConsoleUser(port, u), INSPECTOR_PAGES) for u in inspectors]
        for user, _ in users:
            user.sign_in()
        step("signed in; warming the console")
        warm_console(port, [user for user, _ in users], args.workers)
        api_start, worker_start = rss_mb(server.pid, with_children=True), rss_mb(worker.pid)

        step("load starts")
        figures = Figures()
        started = time.monotonic()
        until = started + args.seconds
        threads = [threading.Thread(target=intake, args=(port, loaded, figures, args.rate, until))]
        threads += [
            threading.Thread(target=user.browse, args=(pages, figures, until, args.think))
            for user, pages in users
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        elapsed = time.monotonic() - started
        step("load over; draining the worker")
        lag = wait_caught_up(url, worker, timeout=args.drain)
        left, _ = backlog(url)
        api_end, worker_end = rss_mb(server.pid, with_children=True), rss_mb(worker.pid)
        if worker.poll() is not None:
            figures.error(f"worker exited {worker.returncode}")
    finally:
        for user, _ in users:
            user.close()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    stored = stored_ids(url)
    lost = sum(1 for r in set(figures.accepted_ids) if r not in stored) + left
    console = [ms for values in figures.console_ms.values() for ms in values]
    out = [
        f"load_records: {len(figures.accepted_ids) / elapsed:.1f} records/s",
        f"load_offered: {args.rate:.1f} records/s",
        f"load_sent: {figures.sent} records",
        f"load_intake_p50: {percentile(figures.intake_ms, 0.5):.1f} ms",
        f"load_intake_p99: {percentile(figures.intake_ms, 0.99):.1f} ms",
        f"load_console_requests: {len(console)} requests",
        f"load_console_p50: {percentile(console, 0.5):.1f} ms",
        f"load_console_p99: {percentile(console, 0.99):.1f} ms",
    ]
    for name, values in sorted(figures.console_ms.items()):
        slug = name.strip("/").replace("console/", "").replace("/", "_") or "home"
        out.append(f"load_console_{slug}_p99: {percentile(values, 0.99):.1f} ms")
    out += [
        f"load_errors: {sum(figures.errors.values())} requests",
        f"load_lost: {lost} records",
        f"load_worker_drain: {lag:.1f} s",
        f"load_api_rss_start: {api_start:.0f} MB",
        f"load_api_rss_end: {api_end:.0f} MB",
        f"load_worker_rss_start: {worker_start:.0f} MB",
        f"load_worker_rss_end: {worker_end:.0f} MB",
    ]
    if figures.errors:
        print(f"errors: {figures.errors}", file=sys.stderr)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=40, help="records/s offered to intake")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load")
    parser.add_argument("--batch", type=int, default=20, help="records per intake request")
    parser.add_argument("--warm", type=int, default=300, help="records evaluated beforehand")
    parser.add_argument("--chiefs", type=int, default=3, help="brigade/detachment/province heads")
    parser.add_argument("--inspectors", type=int, default=2, help="inspectors and supervision")
    parser.add_argument("--think", type=float, default=0.5, help="mean pause between pages, s")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--drain", type=float, default=90, help="seconds the worker may lag")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/load.db"
        print("\n".join(measure(args, url, Path(tmp) / "scenario")), flush=True)


if __name__ == "__main__":
    main()
