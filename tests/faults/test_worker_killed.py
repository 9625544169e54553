"""`auditcage worker` killed with SIGKILL in the middle of a backlog, then restarted: every
stored record is evaluated exactly once, so the hits and alerts equal an uninterrupted run's.

One shipped pack (vehicle: event, sequence and window rules) keeps the test within CI's time;
the cursor and the state rebuild do not depend on which rules run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from auditcage.engine.runner import pending_records
from tests.faults.conftest import (
    cursor_seq,
    kill9,
    make_scenario,
    outcome,
    rules_with_packs,
    run,
    start,
    store_scenario,
    uninterrupted,
    wait_for,
)

pytestmark = pytest.mark.db
AS_OF = "2026-11-01T00:00:00+08:00"
BATCH = 40  # small batches: the kill lands inside one, with several committed before it
ARGS = ("--batch-size", str(BATCH), "--as-of", AS_OF)


PACKS = ("vehicle",)


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rules_with_packs(tmp_path_factory.mktemp("rules"), PACKS)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_scenario(tmp_path_factory.mktemp("scenario"), records_target=300)


def test_a_worker_killed_mid_backlog_and_restarted_evaluates_every_record_exactly_once(
    committing_engine: Engine,
    database_url: str,
    scenario: tuple[Path, Path],
    rules_dir: Path,
    tmp_path: Path,
) -> None:
    env = {"AUDITCAGE_RULES_DIR": str(rules_dir)}
    last = store_scenario(committing_engine, scenario)
    with ThreadPoolExecutor(1) as pool:
        # The same records, evaluated by one uninterrupted worker on a database of its own.
        expected = pool.submit(
            uninterrupted, scenario, rules_dir, tmp_path / "baseline.db", batch=BATCH, as_of=AS_OF
        )
        worker = start(database_url, "worker", *ARGS, "--no-deliver", env=env)
        try:
            wait_for(lambda: cursor_seq(committing_engine) >= last // 3, timeout=90, what="a third")
        finally:
            kill9(worker)
        killed_at = cursor_seq(committing_engine)
        assert 0 < killed_at < last, "the kill must land inside the backlog"
        hits_before, _ = outcome(committing_engine)

        restarted = run(database_url, "worker", "--once", *ARGS, env=env)
        expected_hits, expected_alerts = expected.result(timeout=120)
    assert "state rebuilt from" in restarted.stdout
    with Session(committing_engine) as session:
        assert pending_records(session) == 0
    hits, alerts = outcome(committing_engine)
    assert expected_hits, "the scenario must produce hits for the comparison to mean anything"
    assert {h[0] for h in hits_before} <= {h[0] for h in expected_hits}
    assert hits - expected_hits == set(), "hits the uninterrupted run does not have"
    assert expected_hits - hits == set(), "hits lost across the kill"
    assert alerts == expected_alerts
