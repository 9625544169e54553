"""The record worker against replay: same hits, across restarts and rule publications."""

from __future__ import annotations

import io
from datetime import date, datetime
from itertools import islice
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, Hit
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.demo import generate, write_scenario
from auditcage.engine.replay import replay
from auditcage.engine.runner import RecordWorker, pending_records
from auditcage.records.intake import accept_batch
from auditcage.records.models import Record
from auditcage.records.readers import read_records
from auditcage.reference import service
from auditcage.rulepacks import publish
from auditcage.storage.session import make_session_factory

pytestmark = pytest.mark.db
AS_OF = datetime(2026, 11, 1, tzinfo=clock.SHANGHAI)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    province = generate(seed=3, start=date(2026, 8, 1), months=3, records_target=2500)
    return write_scenario(province, tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def replayed(scenario: tuple[Path, Path]) -> set[str]:
    """Replay's hit ids for the whole scenario with the shipped rules: the same files give the
    same hits, so the three tests that compare the worker with replay share one replay."""
    return _replay_ids(*scenario)


def _load(
    engine: Engine, reference: Path, records: Path, *, start: int = 0, stop: int | None = None
):
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        if start == 0:
            service.load_directory(session, reference, actor="test")
        accept_batch(session, islice(read_records(records), start, stop), source="test")
    return sessions


def test_replay_of_a_file_and_the_worker_streaming_it_produce_the_same_hits(
    committing_engine: Engine, scenario: tuple[Path, Path], replayed: set[str]
) -> None:
    reference, records = scenario
    sessions = _load(committing_engine, reference, records)
    worker = RecordWorker(sessions, rules_dir=DEFAULT_RULES_DIR, batch_size=300)
    result = worker.run_once(as_of=AS_OF)
    assert result.records > 2000 and result.hits > 0
    with Session(committing_engine) as session:
        assert pending_records(session) == 0
    assert _worker_ids(committing_engine) == replayed


def _replay_ids(reference: Path, records: Path, rules_dir: Path = DEFAULT_RULES_DIR) -> set[str]:
    out = io.BytesIO()
    replay([records], reference_dir=reference, hits_out=out, rules_dir=rules_dir, as_of=AS_OF)
    return {orjson.loads(line)["id"] for line in out.getvalue().splitlines()}


def _worker_ids(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(Hit.id).where(Hit.superseded.is_(False))))


def test_a_worker_restarted_in_the_middle_of_a_stream_skips_nothing_and_repeats_nothing(
    committing_engine: Engine, scenario: tuple[Path, Path], replayed: set[str]
) -> None:
    reference, records = scenario
    total = sum(1 for _ in read_records(records))
    sessions = _load(committing_engine, reference, records, stop=total // 2)
    # The first run sweeps deadlines at the time its data had reached: its records' "now".
    with Session(committing_engine) as session:
        reached = session.scalar(select(func.max(Record.action_time)))
    RecordWorker(sessions, rules_dir=DEFAULT_RULES_DIR, batch_size=250).run_once(as_of=reached)
    _load(committing_engine, reference, records, start=total // 2)
    # A new worker object: nothing survives from the first but what is in the database.
    again = RecordWorker(sessions, rules_dir=DEFAULT_RULES_DIR, batch_size=250)
    result = again.run_once(as_of=AS_OF)
    assert result.rebuilt_from > 0
    with Session(committing_engine) as session:
        assert pending_records(session) == 0
        alerts = session.scalar(select(func.count()).select_from(Alert))
    assert _worker_ids(committing_engine) == replayed
    assert alerts and alerts > 0


def test_publishing_a_changed_rule_while_records_flow_takes_effect_without_a_restart(
    committing_engine: Engine, scenario: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    reference, records = scenario
    total = sum(1 for _ in read_records(records))
    rules_dir = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules_dir)
    sessions = _load(committing_engine, reference, records, stop=total // 2)
    with sessions.begin() as session:
        publish.publish(session, rules_dir, actor="author", reason="first version")
    worker = RecordWorker(sessions, rules_dir=rules_dir, batch_size=200)
    first = worker.run_once(as_of=AS_OF)
    assert first.version == "v1"
    # A rule author makes STF-04 fire on every decide by any staff kind (for the test's sake).
    rule_file = rules_dir / "staff" / "stf_04_auxiliary_police_only_action.yaml"
    text = rule_file.read_text(encoding="utf-8")
    rule_file.write_text(text.replace("status: active", "status: testing"), encoding="utf-8")
    with sessions.begin() as session:
        publish.publish(session, rules_dir, actor="author", reason="STF-04 to shadow mode")
    _load(committing_engine, reference, records, start=total // 2)
    second = worker.run_once(as_of=AS_OF)
    assert second.version == "v2"
    with Session(committing_engine) as session:
        assert pending_records(session) == 0
        shadow = session.scalars(
            select(Hit).where(Hit.rule_id == "STF-04", Hit.rule_version == "v2")
        ).all()
    assert all(h.shadow for h in shadow)


def test_a_reference_load_while_records_flow_rebuilds_the_worker_without_a_restart(
    committing_engine: Engine, scenario: tuple[Path, Path], tmp_path: Path, replayed: set[str]
) -> None:
    import shutil

    reference, records = scenario
    total = sum(1 for _ in read_records(records))
    sessions = _load(committing_engine, reference, records, stop=total // 2)
    with Session(committing_engine) as session:  # sweep as of the time the data has reached
        reached = session.scalar(select(func.max(Record.action_time)))
    worker = RecordWorker(sessions, rules_dir=DEFAULT_RULES_DIR, batch_size=500)
    worker.run_once(as_of=reached)
    built = worker.engine
    assert worker.ensure_current() == 0 and worker.engine is built  # nothing new: kept
    # A new unit arrives with the next reference load (as the pre-check follower sees it).
    changed = tmp_path / "reference"
    shutil.copytree(reference, changed)
    units = (changed / "units.jsonl").read_text(encoding="utf-8").splitlines()
    new_unit = {**orjson.loads(units[-1]), "unit_code": "529999999999", "name": "新设大队"}
    units.append(orjson.dumps(new_unit).decode())
    (changed / "units.jsonl").write_text("\n".join(units) + "\n", encoding="utf-8")
    with sessions.begin() as session:
        service.load_directory(session, changed, actor="test")
    assert worker.ensure_current() > 0  # rebuilt: its state re-read from the stored records
    assert worker.engine is not built
    assert worker.engine is not None and worker.engine.ref.get("units", "529999999999")
    _load(committing_engine, reference, records, start=total // 2)
    worker.run_once(as_of=AS_OF)
    # The rebuild re-derived state only: the stream still gives exactly replay's hits.
    assert _worker_ids(committing_engine) == replayed
