"""A record that arrives inside the window of a hit already emitted — late, or tied with the
hit's anchor time — changes what that hit reports (its value, message and evidence) but not
its id: the hit is emitted again as a revision, the worker updates the stored hit, and a replay
writes each id once with what it finally reports."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert, Hit
from auditcage.engine.replay import replay
from auditcage.engine.runner import RecordWorker
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.intake import accept_batch
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.storage.session import make_session_factory
from tests.builders import make_record
from tests.engine.ruledir import make_rules_dir
from tests.properties.test_window_properties import DISTINCT_RULE, LICENCES, PLATES

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=clock.SHANGHAI)
PLATE = PLATES[0]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return make_rules_dir(tmp_path / "rules", {"violation/vio_95_test.yaml": DISTINCT_RULE})


def _raw(n: int, minute: int, licence: int) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=minute)).isoformat()
    return make_record(
        "violation",
        record_id=f"violation:r-{n:03d}",
        serial_no=f"S{n:03d}",
        plate_no=PLATE,
        license_no=LICENCES[licence],
        action_time=at,
        accepted_at=at,
        completed_at=at,
        **{"violation.decision.decided_at": at},
    )


def _valid(raw: dict[str, Any]) -> dict[str, Any]:
    validation = validate_record(raw)
    assert validation.record is not None, validation.rejections
    return validation.record


# Fires at minute 70 (silent until 130), then at 140 with three licences; r-006 (minute 110, a
# fourth licence) arrives last, inside the cooldown: the hit of 140 keeps its anchor, counts four.
FIRST = [_raw(n, m, lic) for n, (m, lic) in enumerate([(40, 1), (50, 4), (70, 0), (90, 4)])]
FIRST += [_raw(4, 120, 2), _raw(5, 140, 0)]
LATE = _raw(6, 110, 1)
IN_THE_LAST_WINDOW = {"violation:r-003", "violation:r-004", "violation:r-005", "violation:r-006"}


def test_a_late_record_inside_the_window_re_emits_the_hit_as_a_revision(rules_dir: Path) -> None:
    engine = build_engine(*load_rules(rules_dir), ReferenceIndex({}))
    evaluator = engine.evaluator()
    hits = []
    for raw in FIRST:
        record = _valid(raw)
        hits += evaluator.process(record, engine.enricher.enrich(record).derived)
    _, fired = hits
    assert fired.detail == {"value": 3} and not fired.revision
    late = _valid(LATE)
    (revised,) = evaluator.process(late, engine.enricher.enrich(late).derived)
    assert revised.id == fired.id and revised.revision
    assert revised.detail == {"value": 4} and "4" in revised.message
    assert set(revised.record_ids) == IN_THE_LAST_WINDOW
    assert evaluator.superseded == set()


def test_a_record_tied_with_the_anchor_time_counts_in_the_replayed_hit(
    rules_dir: Path, tmp_path: Path
) -> None:
    records = tmp_path / "records.ndjson"
    tied = _raw(6, 140, 3)  # the anchor's minute, after it in the file
    records.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [*FIRST, tied]))
    out, reference = io.BytesIO(), tmp_path / "reference"
    reference.mkdir()
    replay([records], reference_dir=reference, hits_out=out, rules_dir=rules_dir)
    _, line = [orjson.loads(raw) for raw in out.getvalue().splitlines()]
    assert line["anchor"] == "violation:r-005" and line["detail"] == {"value": 4}
    assert len(line["record_ids"]) == 4


@pytest.mark.db
def test_the_worker_updates_the_stored_hit_and_raises_no_second_alert(
    committing_engine: Engine, rules_dir: Path
) -> None:
    sessions = make_session_factory(committing_engine)
    worker = RecordWorker(sessions, rules_dir=rules_dir, batch_size=10)
    with sessions.begin() as session:
        accept_batch(session, enumerate(FIRST, 1), source="test")
    assert worker.run_once(as_of=T0 + timedelta(hours=3)).hits == 2
    with sessions.begin() as session:
        accept_batch(session, [(7, LATE)], source="test")
    assert worker.run_once(as_of=T0 + timedelta(hours=3)).hits == 0
    with Session(committing_engine) as session:
        _, hit = session.scalars(select(Hit).order_by(Hit.at)).all()
        assert hit.detail == {"value": 4} and "4" in hit.message and not hit.superseded
        assert len(hit.record_ids) == 4 and len(hit.serials) == 4
        assert session.scalar(select(func.count()).select_from(Alert)) == 2
