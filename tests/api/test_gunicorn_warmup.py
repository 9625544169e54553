"""The API under gunicorn with its settings (api.gunicorn_conf): the app is built and warmed in
the arbiter before the workers fork, so no worker rebuilds the pre-check's rule state on its
first request, and every forked worker still answers from the database on its own connections."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from auditcage.demo import generate, write_scenario
from auditcage.records.intake import accept_batch
from auditcage.records.readers import read_records
from auditcage.reference import service
from auditcage.storage.session import make_session_factory
from tests.conftest import SOURCE_KEY_OF, SOURCE_KEYS

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]
HELD_BACK = 6  # records the test pre-checks, never stored
BUILT = "pre-check state built"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _store(engine: Engine, tmp_path: Path) -> list[bytes]:
    """A small province stored, minus the records held back for the pre-check (returned)."""
    province = generate(seed=5, start=date(2026, 8, 1), months=3, records_target=600)
    reference, records = write_scenario(province, tmp_path / "scenario")
    lines = records.read_bytes().splitlines()
    stored = tmp_path / "stored.ndjson"
    stored.write_bytes(b"\n".join(lines[:-HELD_BACK]) + b"\n")
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        service.load_directory(session, reference, actor="test")
        accept_batch(session, read_records(stored), source="test")
    return lines[-HELD_BACK:]


def _wait_for(log: Path, pattern: str, server: subprocess.Popen, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text("utf-8", "replace")
        if re.search(pattern, text):
            return text
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}:\n{text}")
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in the server log:\n{log.read_text()}")


def _precheck(port: int, line: bytes) -> int:
    source = str(orjson.loads(line).get("source_system"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:  # a fresh connection each: gunicorn spreads them over its workers
        conn.request(
            "POST",
            "/api/v1/precheck",
            body=line,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {SOURCE_KEY_OF[source]}",
            },
        )
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def test_workers_fork_warm_and_answer_the_pre_check_without_rebuilding_its_state(
    committing_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    held = _store(committing_engine, tmp_path)
    port, log = _free_port(), tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AUDITCAGE_DATABASE_URL": database_url,
        "AUDITCAGE_SOURCE_KEYS": SOURCE_KEYS,
        "AUDITCAGE_SECRET_KEY": "warm-up-test-secret-key-0123456789",
        "AUDITCAGE_LOG_LEVEL": "INFO",
    }
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_conf"),
                *("--workers", "2", "--threads", "2", "--bind", f"127.0.0.1:{port}"),
                *("--log-level", "info", "api.wsgi:app"),
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        before = _wait_for(log, r"Booting worker with pid(.|\n)*Booting worker with pid", server)
        # Warmed in the arbiter, before either worker was booted.
        assert BUILT in before.split("Booting worker")[0]
        assert re.search(r"api warmed up to record seq \d+", before)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda line: _precheck(port, line), held * 4))
        assert statuses == [200] * len(statuses)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    text = log.read_text("utf-8", "replace")
    assert text.count(BUILT) == 1, text  # no worker built the state again
    assert "Traceback" not in text, text
