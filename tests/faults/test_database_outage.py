"""PostgreSQL stopped under a running `auditcage worker` and `auditcage notifier`, then started
again: both processes stay up, wait, and resume; every record is evaluated exactly once and every
message delivered exactly once (a message sent while the database was away is recorded when it
returns, not sent again). That holds for the messages the test queues and for those the worker
queues as it routes the alerts it raises: every staff channel points at the test's webhook.

Self-contained: a throwaway cluster from bench/pg.py, stopped and started with pg_ctl.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from auditcage.alerts.models import Alert, AlertStatus
from auditcage.storage.schema import upgrade
from auditcage.storage.session import make_engine, make_session_factory
from bench.pg import temporary_cluster
from notifications import delivery
from notifications.models import OutboxMessage, OutboxStatus
from notifications.routing_models import AlertRouting
from tests.faults.conftest import (
    cursor_seq,
    make_scenario,
    outcome,
    rules_with_packs,
    start,
    stop,
    store_scenario,
    uninterrupted,
    wait_for,
)
from tests.faults.receivers import KeyedReceiver

# No `db` marker: the test starts and stops its own PostgreSQL cluster whatever the test
# database is, so running it again in CI's PostgreSQL pass would only repeat it.
AS_OF = "2026-11-01T00:00:00+08:00"
BATCH = 25
MESSAGES = 20
DOWN_FOR = 4.0  # seconds: several idle periods of both processes


@dataclass(frozen=True)
class Cluster:
    url: str
    data: str  # the data directory, as the server reports it
    bindir: str

    def _pg_ctl(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*as_postgres, f"{self.bindir}/pg_ctl", "-D", self.data, "-w", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")  # ends every session: the clients see the server go

    def start(self) -> None:
        port = make_url(self.url).port
        options = f"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", f"{self.data}/log", "-o", options, "start")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if os.environ.get("AUDITCAGE_BENCH_PG_URL"):
        pytest.skip("AUDITCAGE_BENCH_PG_URL names a server this test must not stop")
    with temporary_cluster() as url:
        if url is None:
            pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin); CI installs it")
        engine = make_engine(url)
        with engine.connect() as conn:
            data = conn.scalar(text("SHOW data_directory"))
            bindir = conn.scalar(text("SELECT setting FROM pg_config WHERE name = 'BINDIR'"))
        engine.dispose()
        yield Cluster(url, str(data), str(bindir))


def _statuses(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxMessage.status)))


def _unrouted(engine: Engine) -> int:
    with Session(engine) as session:
        routed = select(AlertRouting.alert_id)
        unrouted = select(func.count(Alert.id)).where(
            Alert.status == AlertStatus.NEW, Alert.id.not_in(routed)
        )
        return session.scalar(unrouted) or 0


def _notify_at(reference: Path, url: str) -> None:
    """Every staff member's channel: `url`. The demo's example.test mailboxes cannot receive, so
    the alerts the worker routes would retry and fail whatever the database does."""
    staff = reference / "staff.jsonl"
    rows = [orjson.loads(line) for line in staff.read_text(encoding="utf-8").splitlines() if line]
    lines = (orjson.dumps({**row, "notify": [url]}).decode() for row in rows)
    staff.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_worker_and_notifier_outlive_a_database_outage_and_lose_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    rules_dir = rules_with_packs(tmp_path, ["vehicle"])
    scenario = make_scenario(tmp_path / "scenario", records_target=300)
    engine = make_engine(cluster.url)
    upgrade(engine)
    env = {"AUDITCAGE_RULES_DIR": str(rules_dir)}
    args = ("--batch-size", str(BATCH), "--as-of", AS_OF, "--idle", "0.2", "--no-deliver")
    with ThreadPoolExecutor(1) as pool, KeyedReceiver(answer_after=0.3) as webhook:
        _notify_at(scenario[0], webhook.url())
        last = store_scenario(engine, scenario)
        expected = pool.submit(
            uninterrupted, scenario, rules_dir, tmp_path / "baseline.db", batch=BATCH, as_of=AS_OF
        )
        with make_session_factory(engine).begin() as session:
            ids = [
                delivery.enqueue(
                    session,
                    recipient_id=f"P32010{n:02d}",
                    channels=[webhook.url()],
                    subject="【红色预警】",
                    body=f"message {n}",
                    kind="alert",
                    dedupe_key=f"alert:{n}:push",
                ).id
                for n in range(MESSAGES)
            ]
        engine.dispose()  # the test's own connections must not outlive the outage either
        worker = start(cluster.url, "worker", *args, env=env)
        notifier = start(cluster.url, "notifier", "--idle", "0.2")
        try:
            wait_for(lambda: cursor_seq(engine) >= last // 4, timeout=90, what="a quarter")
            wait_for(lambda: len(webhook.messages) >= 3, timeout=90, what="3 deliveries")
            engine.dispose()
            cluster.stop()
            delivered_before = len(webhook.messages)
            try:
                time.sleep(DOWN_FOR)
                assert worker.poll() is None, "the worker died with the database"
                assert notifier.poll() is None, "the notifier died with the database"
            finally:
                cluster.start()
            wait_for(lambda: cursor_seq(engine) == last, timeout=120, what="every record")
            # A send cut off by the outage is retried after the policy's back-off (a minute):
            # the wait is for liveness only, and allows for a busy machine.
            wait_for(lambda: _unrouted(engine) == 0, timeout=60, what="every alert routed")
            wait_for(
                lambda: set(_statuses(engine)) == {OutboxStatus.SENT},
                timeout=180,
                what="every message sent",
            )
            time.sleep(2)  # ten idle passes of the worker: what it queues after routing is in
            wait_for(
                lambda: set(_statuses(engine)) == {OutboxStatus.SENT},
                timeout=60,
                what="every message queued after routing sent",
            )
            assert worker.poll() is None and notifier.poll() is None
            with Session(engine) as session:
                outbox_ids = set(session.scalars(select(OutboxMessage.id)))
        finally:
            worker_log, notifier_log = stop(worker), stop(notifier)
            engine.dispose()  # a failed wait must not leave connections for the next test
        expected_hits, expected_alerts = expected.result(timeout=120)
    hits, alerts = outcome(engine)
    engine.dispose()
    assert "database is unavailable" in worker_log, worker_log[-2000:]
    assert "unavailable" in notifier_log, notifier_log[-2000:]
    assert delivered_before < MESSAGES
    assert hits == expected_hits and alerts == expected_alerts
    routed = outbox_ids - set(ids)
    assert routed, "the worker queued no message of its own: the test covers only half"
    assert webhook.keys() == {delivery.idempotency_key(i): 1 for i in outbox_ids}
