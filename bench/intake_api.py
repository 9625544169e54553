"""Intake throughput of the HTTP API: gunicorn serving the API, concurrent clients on loopback
posting batches of records to POST /api/v1/records as fast as the server answers (closed loop:
each client sends its next batch when the previous one is answered), on a SQLite file and on
PostgreSQL when it is installed (a throwaway cluster from bench/pg.py).

The records are a demo scenario's (the first `--records` lines); its reference data is loaded
first with `auditcage reference load`, which also creates the schema. Each batch holds the
records of one source system and is sent with that system's own API key, as a source system would.
Timed: from the first batch request to the last answer, with the server up and every worker
warmed (empty batches, so each builds its reference cache before the clock starts); scenario
generation, reference loading and the start of gunicorn are not timed. Afterwards every record
the API reported accepted is looked up in the `record` table: `lost` counts those not stored.

Prints `name: value unit` lines per database: records/s (records in answered batches per
second), records sent, accepted, rejected (quarantined), duplicates, HTTP errors (requests
not answered 200), p50/p99 latency of one batch request, records stored and lost; and the
batch size and number of clients used.

    python bench/intake_api.py [--records 30000] [--batch 200] [--clients 4] [--workers 2]
                               [--reconnect] [--no-postgresql]

Each client keeps its connection open (as a source system posting batch after batch would);
gunicorn leaves a kept-alive connection with the worker that accepted it, so the workers may not
share the load evenly. `--reconnect` opens a new connection for every batch instead.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import make_scenario  # noqa: E402
from bench.pg import temporary_cluster  # noqa: E402
from bench.precheck import free_port, percentile, start_server  # noqa: E402

PATH = "/api/v1/records"


@dataclass(frozen=True)
class Batch:
    body: bytes  # a JSON array of records
    key: str  # the API key of the records' source system
    size: int


@dataclass
class Result:
    sent: int = 0
    answered: int = 0  # records in batches answered 200
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    errors: int = 0  # requests not answered 200 (or not answered at all)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # ms per batch request
    accepted_ids: list[str] = field(default_factory=list)
    rejection_codes: dict[str, int] = field(default_factory=dict)


def source_keys(sources: set[str]) -> tuple[str, dict[str, str]]:
    """AUDITCAGE_SOURCE_KEYS for the known source systems and any others the records name."""
    from auditcage.records.enums import KNOWN_SOURCE_SYSTEMS

    keys = {
        s: f"bench-{s}-intake-key-for-benchmarks-only"
        for s in sorted(KNOWN_SOURCE_SYSTEMS | sources)
    }
    return ",".join(f"{s}={k}" for s, k in keys.items()), keys


def make_batches(lines: Sequence[bytes], size: int) -> tuple[list[Batch], str]:
    """Batches of at most `size` records of one source system each (in file order within a
    system), the systems taking turns; and the AUDITCAGE_SOURCE_KEYS the server needs."""
    by_source: dict[str, list[bytes]] = {}
    for line in lines:
        source = str(orjson.loads(line).get("source_system"))
        by_source.setdefault(source, []).append(line)
    setting, keys = source_keys(set(by_source))
    queues = []
    for source, records in by_source.items():
        chunks = [records[i : i + size] for i in range(0, len(records), size)]
        queues.append([Batch(b"[" + b",".join(c) + b"]", keys[source], len(c)) for c in chunks])
    batches = [b for turn in itertools.zip_longest(*queues) for b in turn if b is not None]
    return batches, setting


class Connection:
    """One keep-alive connection (one per client thread); a failed request reconnects, and so
    does every request when `reconnect` is set."""

    def __init__(self, port: int, timeout: float = 300, reconnect: bool = False) -> None:
        self.port = port
        self.timeout = timeout
        self.reconnect = reconnect
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, key: str = ""
    ) -> tuple[int, bytes]:
        """(status, body); status 0 when the connection failed."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            reply = self.conn.getresponse()
            answer = reply.status, reply.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b""
        if self.reconnect:
            self.close()
        return answer

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 120) -> None:
    conn = Connection(port, timeout=5)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited with status {server.returncode}")
            if conn.request("GET", "/healthz")[0] == 200:
                return
            time.sleep(0.2)
    finally:
        conn.close()
    raise SystemExit("the API did not answer /healthz in time")


def warm_every_worker(port: int, key: str, clients: int) -> None:
    """Bursts of parallel empty batches until one burst finds no cold worker (each gunicorn
    worker builds its reference cache on its first intake request). Empty: nothing is stored."""
    burst = max(8, 2 * clients)
    for _ in range(60):
        result = run_clients(port, [Batch(b"[]", key, 0)] * burst, clients=burst)
        if result.errors:
            raise SystemExit(f"warm-up: {result.errors} requests failed")
        if max(result.latencies) < 200:
            return
    raise SystemExit("the workers did not warm up")


def run_clients(
    port: int, batches: Sequence[Batch], clients: int, reconnect: bool = False
) -> Result:
    """Send every batch once, `clients` threads each on its own keep-alive connection."""
    result = Result()
    lock = threading.Lock()
    next_index = itertools.count()

    def client() -> None:
        conn = Connection(port, reconnect=reconnect)
        try:
            while (i := next(next_index)) < len(batches):
                batch = batches[i]
                started = time.perf_counter()
                status, body = conn.request("POST", PATH, batch.body, batch.key)
                elapsed = (time.perf_counter() - started) * 1000
                report = orjson.loads(body) if status == 200 else None
                with lock:
                    result.sent += batch.size
                    result.latencies.append(elapsed)
                    if report is None:
                        result.errors += 1
                        continue
                    result.answered += batch.size
                    result.accepted += report["accepted"]
                    result.rejected += report["quarantined"]
                    result.duplicates += report["duplicates"]
                    for code, n in report["quarantined_by_reason"].items():
                        result.rejection_codes[code] = result.rejection_codes.get(code, 0) + n
                    result.accepted_ids.extend(
                        o["record_id"]
                        for o in report["outcomes"]
                        if o["outcome"] in ("accepted", "accepted_with_warnings")
                    )
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def load_reference(url: str, reference_dir: Path) -> None:
    """`auditcage reference load DIR` in a fresh process (it migrates the schema first)."""
    env = {
        **os.environ,
        "AUDITCAGE_DATABASE_URL": url,
        "AUDITCAGE_SECRET_KEY": "bench-secret",  # the API refuses to start without one
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, "-m", "auditcage", "reference", "load", str(reference_dir)],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def stored_ids(url: str) -> set[str]:
    from sqlalchemy import select

    from auditcage.records.models import Record
    from auditcage.storage.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(select(Record.record_id)))
    finally:
        engine.dispose()


def measure(
    url: str,
    reference_dir: Path,
    lines: Sequence[bytes],
    batch: int,
    clients: int,
    workers: int,
    reconnect: bool = False,
) -> tuple[Result, int, int]:
    """(the run, records stored by it, accepted records missing from the database)."""
    batches, setting = make_batches(lines, batch)
    port = free_port()
    # The workers touch the database only when a request comes: they boot while the reference
    # loads (and the schema is created), and are asked for /healthz only after.
    server = start_server(url, setting, port, workers)
    try:
        load_reference(url, reference_dir)
        before = stored_ids(url)
        wait_ready(port, server)
        warm_every_worker(port, batches[0].key, clients)
        result = run_clients(port, batches, clients, reconnect)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    after = stored_ids(url)
    lost = sum(1 for record_id in set(result.accepted_ids) if record_id not in after)
    return result, len(after) - len(before), lost


def report_lines(name: str, result: Result, stored: int, lost: int) -> list[str]:
    p50 = percentile(result.latencies, 0.50) if result.latencies else 0.0
    p99 = percentile(result.latencies, 0.99) if result.latencies else 0.0
    return [
        f"{name}: {result.answered / result.seconds:.0f} records/s",
        f"{name}_sent: {result.sent} records",
        f"{name}_accepted: {result.accepted} records",
        f"{name}_rejected: {result.rejected} records",
        f"{name}_duplicates: {result.duplicates} records",
        f"{name}_http_errors: {result.errors} requests",
        f"{name}_requests: {len(result.latencies)} requests",
        f"{name}_batch_p50: {p50:.1f} ms",
        f"{name}_batch_p99: {p99:.1f} ms",
        f"{name}_stored: {stored} records",
        f"{name}_lost: {lost} records",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=30_000, help="records to send")
    parser.add_argument("--batch", type=int, default=200, help="records per request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--reconnect",
        action="store_true",
        help="a new connection for every batch (keep-alive connections stay with the worker "
        "that accepted them, which may leave the other worker idle)",
    )
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    print(f"intake_api_batch: {args.batch} records")
    print(f"intake_api_clients: {args.clients} clients", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        reference, records_path = make_scenario(args.records, Path(tmp) / "scenario")
        lines = records_path.read_bytes().splitlines()[: args.records]
        targets = [("sqlite", f"sqlite:///{tmp}/intake.db")]
        with nullcontext() if args.no_postgresql else temporary_cluster() as pg_url:
            if pg_url:
                targets.append(("postgresql", pg_url))
            elif not args.no_postgresql:
                print("PostgreSQL is not installed: SQLite only", file=sys.stderr)
            for name, url in targets:
                result, stored, lost = measure(
                    url, reference, lines, args.batch, args.clients, args.workers, args.reconnect
                )
                if result.rejection_codes:
                    print(f"{name} rejections by reason: {result.rejection_codes}", file=sys.stderr)
                print("\n".join(report_lines(f"intake_api_{name}", result, stored, lost)))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
