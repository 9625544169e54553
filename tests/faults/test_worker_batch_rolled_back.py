"""A batch whose transaction fails after the evaluator has seen its records (the database went
away at commit): the next pass evaluates those records once, not on top of their first sight.

In-process, so the failure lands exactly there; the other fault tests cover whole processes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from auditcage import clock
from auditcage.engine import runner
from auditcage.engine.runner import RecordWorker
from auditcage.storage.session import make_session_factory
from tests.faults.conftest import (
    make_scenario,
    outcome,
    rules_with_packs,
    store_scenario,
    uninterrupted,
)

pytestmark = pytest.mark.db
AS_OF = "2026-11-01T00:00:00+08:00"
BATCH = 50


@pytest.fixture
def commit_fails_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The fourth batch's hits fail to store, as a commit does when the server goes."""
    calls: list[int] = []
    real = runner.store_hits

    def store_hits(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 4:
            lost = Exception("server closed the connection")
            raise OperationalError("INSERT INTO hit …", {}, lost)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "store_hits", store_hits)
    yield calls


def test_a_batch_rolled_back_mid_run_is_evaluated_once_on_the_next_pass(
    committing_engine: Engine, tmp_path: Path, commit_fails_once: list[int]
) -> None:
    rules_dir = rules_with_packs(tmp_path, ["vehicle"])
    scenario = make_scenario(tmp_path / "scenario", records_target=300)
    store_scenario(committing_engine, scenario)
    as_of = clock.to_shanghai(datetime.fromisoformat(AS_OF))
    worker = RecordWorker(
        make_session_factory(committing_engine), rules_dir=rules_dir, batch_size=BATCH
    )

    failed = worker.run_once(as_of=as_of)
    assert failed.unavailable == "server closed the connection"
    assert worker.evaluator is None, "the state that saw the lost batch is dropped"
    again = worker.run_once(as_of=as_of)
    assert again.rebuilt_from > 0 and not again.unavailable

    # Its store_hits is the patched one too, past its one failure.
    expected = uninterrupted(
        scenario, rules_dir, tmp_path / "baseline.db", batch=BATCH, as_of=AS_OF
    )
    assert outcome(committing_engine) == expected
