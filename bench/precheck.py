"""Pre-check latency under a steady load: gunicorn serving the API, a client on loopback sending
POST /api/v1/precheck at a fixed rate (open loop: a late answer does not slow the sender, so
queueing shows in the latency), for a fixed time.

Prints `name: value unit` lines: p50, p99 and max latency (measured from each request's scheduled
send time), the rate achieved, errors.

    python bench/precheck.py [--records 20000] [--rate 200] [--seconds 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import make_scenario, run_ingest  # noqa: E402

HELD_BACK = 3000  # the last records of the scenario are pre-checked, never stored


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keys() -> tuple[str, dict[str, str]]:
    from auditcage.records.enums import KNOWN_SOURCE_SYSTEMS

    keys = {s: f"bench-{s}-intake-key-for-benchmarks-only" for s in sorted(KNOWN_SOURCE_SYSTEMS)}
    return ",".join(f"{s}={k}" for s, k in keys.items()), keys


def start_server(url: str, source_keys: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AUDITCAGE_DATABASE_URL": url,
        "AUDITCAGE_SOURCE_KEYS": source_keys,
        "AUDITCAGE_SECRET_KEY": "bench-secret",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:api.gunicorn_conf",  # preloaded and warmed before the workers fork
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "api.wsgi:app",
        ],
        env=env,
        cwd=ROOT,
    )


class Client:
    """One keep-alive connection per sender thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def post(self, body: bytes, key: str) -> int:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                "POST",
                "/api/v1/precheck",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            reply = conn.getresponse()
            reply.read()
            return reply.status
        except (OSError, http.client.HTTPException):
            self.local.conn = None
            conn.close()
            return 0


def _wait_ready(client: Client, body: bytes, key: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.post(body, key) == 200:
            return
        time.sleep(0.5)
    raise SystemExit("the API did not answer the pre-check in time")


def _warm_every_worker(client: Client, payloads: list[tuple[bytes, str]], rate: float) -> bool:
    """A few bursts at the measured rate, so every worker has opened its database connection and
    served its first requests (the rule state itself is built in the arbiter before the workers
    fork, api.gunicorn_conf); whether a burst then ended without a slow answer."""
    for _ in range(10):
        latencies, _, _ = run_load(client, payloads, rate=rate, seconds=0.5)
        if max(latencies) < 200:
            return True
    return False


def run_load(
    client: Client, payloads: list[tuple[bytes, str]], rate: float, seconds: float
) -> tuple[list[float], int, float]:
    """(latencies in ms, errors, seconds taken) of an open-loop run."""
    jobs: queue.Queue[tuple[float, bytes, str] | None] = queue.Queue()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def sender() -> None:
        nonlocal errors
        while (job := jobs.get()) is not None:
            scheduled, body, key = job
            status = client.post(body, key)
            elapsed = (time.perf_counter() - scheduled) * 1000
            with lock:
                latencies.append(elapsed)
                errors += status not in (200, 422)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(32)]
    for thread in threads:
        thread.start()
    total = int(rate * seconds)
    started = time.perf_counter()
    for i in range(total):
        scheduled = started + i / rate
        pause = scheduled - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        body, key = payloads[i % len(payloads)]
        jobs.put((scheduled, body, key))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reference, records_path = make_scenario(args.records, Path(tmp) / "scenario")
        lines = records_path.read_bytes().splitlines()
        stored, held = lines[:-HELD_BACK], lines[-HELD_BACK:]
        stored_path = Path(tmp) / "stored.ndjson"
        stored_path.write_bytes(b"\n".join(stored) + b"\n")
        url = args.database_url or f"sqlite:///{tmp}/precheck.db"
        run_ingest(url, reference, stored_path)
        source_keys, keys = _keys()
        payloads = []
        for line in held:
            record = orjson.loads(line)
            payloads.append((line, keys.get(str(record.get("source_system")), "none")))
        port = free_port()
        server = start_server(url, source_keys, port, args.workers)
        try:
            client = Client(port)
            _wait_ready(client, *payloads[0])
            settled = _warm_every_worker(client, payloads, args.rate)
            latencies, errors, took = run_load(client, payloads, args.rate, args.seconds)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    # 1: a warm-up burst at the measured rate had no answer over 200 ms before the clock started
    print(f"precheck_warm_settled: {int(settled)}")
    print(f"precheck_state_records: {len(stored)} records")
    print(f"precheck_requests: {len(latencies)} requests")
    print(f"precheck_rate: {len(latencies) / took:.0f} requests/s")
    print(f"precheck_p50: {percentile(latencies, 0.50):.1f} ms")
    print(f"precheck_p99: {percentile(latencies, 0.99):.1f} ms")
    print(f"precheck_max: {max(latencies):.1f} ms")
    print(f"precheck_errors: {errors} errors")


if __name__ == "__main__":
    main()
