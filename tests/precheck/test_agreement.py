"""The pre-check agrees with the worker: for every record of a generated province's last weeks,
the hits the pre-check announces before the record is stored are exactly the record-level hits
the worker stores once it is; and pre-checking changes no state."""

from __future__ import annotations

import functools
from datetime import date, datetime

import orjson
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from auditcage import clock
from auditcage.alerts.models import Hit
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.demo import generate, write_scenario
from auditcage.engine.models import WorkerCursor
from auditcage.engine.runner import RecordWorker
from auditcage.engine.session import load_rules
from auditcage.precheck.follower import Follower
from auditcage.precheck.models import PrecheckLog
from auditcage.precheck.policy import RECORD_KINDS, Decision
from auditcage.precheck.service import precheck
from auditcage.records.intake import accept_batch
from auditcage.records.models import Record
from auditcage.reference import service

pytestmark = pytest.mark.db

TAIL = 260  # records pre-checked one by one, then stored and evaluated
AS_OF = datetime(
    2026, 8, 1, tzinfo=clock.SHANGHAI
)  # before the records  # sweeps find nothing due: record hits only


def _store(sessions: sessionmaker[Session], records: list[dict]) -> None:
    with sessions.begin() as session:
        accept_batch(session, list(enumerate(records)), source="test")


@functools.cache
def _record_level() -> frozenset[str]:
    _, rules = load_rules(DEFAULT_RULES_DIR)
    return frozenset(r.uid for r in rules if r.rule.kind in RECORD_KINDS)


def _record_hits(session: Session) -> dict[str, tuple[str, str | None, str]]:
    """The stored hits of the rule kinds one record's arrival fires (not absences, rates…)."""
    rows = session.execute(
        select(Hit.id, Hit.rule_id, Hit.sub, Hit.severity).where(Hit.shadow.is_(False))
    )
    return {
        r.id: (r.rule_id, r.sub, r.severity)
        for r in rows
        if (f"{r.rule_id}#{r.sub}" if r.sub else r.rule_id) in _record_level()
    }


def test_every_precheck_announces_exactly_what_the_worker_then_stores(
    committing_engine: Engine, tmp_path
) -> None:
    province = generate(seed=5, start=date(2026, 8, 1), months=3, records_target=1400)
    reference_dir, records_path = write_scenario(province, tmp_path)
    records = [orjson.loads(line) for line in records_path.read_bytes().splitlines() if line]
    sessions = sessionmaker(committing_engine, expire_on_commit=False)
    with sessions.begin() as session:
        service.load_directory(session, reference_dir, actor="test")
    head, tail = records[:-TAIL], records[-TAIL:]
    _store(sessions, head)
    worker = RecordWorker(sessions, rules_dir=DEFAULT_RULES_DIR)
    worker.run_once(as_of=AS_OF)
    follower = Follower(DEFAULT_RULES_DIR)

    decisions: dict[Decision, int] = dict.fromkeys(Decision, 0)
    fired_rules: set[str] = set()
    disagreements = []
    for raw in tail:
        with sessions.begin() as session:
            before = _record_hits(session)
            records_before = session.scalar(select(func.count()).select_from(Record))
            cursor_before = session.get(WorkerCursor, "records").seq
            answer = precheck(session, follower, raw, source_system=raw["source_system"])
            # Nothing but the log changed.
            assert session.scalar(select(func.count()).select_from(Record)) == records_before
            assert session.get(WorkerCursor, "records").seq == cursor_before
            assert _record_hits(session) == before
        if answer.decision is None:  # an invalid record: the worker never sees it either
            continue
        decisions[answer.decision] += 1
        _store(sessions, [raw])
        worker.run_once(as_of=AS_OF)
        with sessions.begin() as session:
            stored = {hid: hit for hid, hit in _record_hits(session).items() if hid not in before}
        announced = {r.hit_id: (r.rule_id, r.sub, r.severity) for r in answer.rules}
        if announced != stored:
            again = {h: before.get(h) for h in announced if h in before}
            disagreements.append((raw["record_id"], announced, stored, again))
        fired_rules |= {r.rule_id for r in answer.rules}

    assert not disagreements, disagreements[:5]
    # The comparison proved something: many records fired, with several rules and decisions.
    assert len(fired_rules) >= 5, fired_rules
    assert decisions[Decision.ALLOW] > 0 and decisions[Decision.REVIEW] > 0
    with sessions.begin() as session:
        logged = session.scalar(select(func.count()).select_from(PrecheckLog))
    assert logged == TAIL
