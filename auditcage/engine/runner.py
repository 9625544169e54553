"""The record worker: the one ordered consumer of stored records, with a persisted cursor.

- Records are consumed by `seq` (intake order) in batches; inside a batch they are evaluated in
  `action_time` order. The cursor advances in the same transaction as the batch's hits, so after
  a crash no record is skipped and none is evaluated twice (and hits are idempotent anyway).
- State (windows, sequences, armed deadlines) lives in the evaluator. On start, and when a new
  rule version becomes active, it is rebuilt by re-reading the records before the cursor that are
  still inside the rules' horizon — from the database, so nothing depends on a process surviving.
- A record more than 24 h behind the latest `action_time` already seen is evaluated in back-fill
  mode: it still fires, and its hits carry `late_data` (catalogue §0.2 item 2).
- Deadlines are swept at the wall clock (`clock.now()`), or at `as_of` when given.
- A batch or sweep whose transaction fails has already moved the evaluator's state past the
  cursor, so the state is dropped and rebuilt from the database on the next pass. A database
  that is away ends the pass with `unavailable` set; the caller's loop tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from auditcage import clock
from auditcage.engine import rates
from auditcage.engine.evaluator import Evaluator
from auditcage.engine.models import WorkerCursor
from auditcage.engine.session import Engine, build_engine, load_rules
from auditcage.engine.store import mark_superseded, store_hits
from auditcage.records.models import Record
from auditcage.records.validation import revive
from auditcage.reference.models import ReferenceLoad
from auditcage.reference.service import build_index
from auditcage.rulepacks import publish
from auditcage.rulepacks.model import Kind

LATE_AFTER = timedelta(hours=24)  # catalogue §0.2 item 2
CURSOR = "records"
LEDGER_SWEEP = "ledger-sweep"  # its watermark: the as_of of the last sweep (ledger rules)

log = logging.getLogger(__name__)


@dataclass
class WorkerPass:
    records: int = 0
    hits: int = 0
    late: int = 0
    rebuilt_from: int = 0  # records re-read to rebuild state
    version: str = ""
    by_rule: dict[str, int] = field(default_factory=dict)
    unavailable: str = ""  # why the pass stopped early: the database could not be reached
    stopped: bool = False  # a stop was requested: the pass ended after a committed batch


@contextmanager
def active_rules_dir(session: Session, fallback: Path) -> Iterator[tuple[Path, str]]:
    """The active published version if there is one, else the rules directory on disk."""
    version = publish.active_version(session)
    if version is None:
        yield fallback, "local"
        return
    with publish.materialised(version) as root:
        yield root, f"v{version.id}"


class RecordWorker:
    def __init__(self, sessions: sessionmaker[Session], *, rules_dir: Path, batch_size: int = 1000):
        self.sessions = sessions
        self.rules_dir = rules_dir
        self.batch_size = batch_size
        self.engine: Engine | None = None
        self.evaluator: Evaluator | None = None
        self.version_label = ""
        self.reference_load = 0  # the newest reference load the engine was built with

    # --- state --------------------------------------------------------------------------------

    def _active_label(self, session: Session) -> str:
        version = publish.active_version(session)
        return f"v{version.id}" if version else "local"

    def ensure_current(self) -> int:
        """Build the engine and its state, or rebuild them after a publish or a reference load
        (as the pre-check follower does, so both judge a record alike); returns records re-read."""
        with self.sessions.begin() as session:
            label = self._active_label(session)
            load = session.scalar(select(func.max(ReferenceLoad.id))) or 0
            current = label == self.version_label and load == self.reference_load
            if self.engine is not None and current:
                return 0
            with active_rules_dir(session, self.rules_dir) as (directory, label):
                ruleset, rules = load_rules(directory)
            self.engine = build_engine(ruleset, rules, build_index(session))
            self.version_label = label
            self.reference_load = load
            self.evaluator = self.engine.evaluator()
            return self._rebuild(session)

    def _rebuild(self, session: Session) -> int:
        assert self.engine is not None and self.evaluator is not None
        cursor = _cursor(session)
        if cursor.seq == 0 or cursor.watermark is None:
            return 0
        since = cursor.watermark - self.engine.horizon()
        self.evaluator.rates.complete_from = since  # earlier rate periods: history only
        swept = session.get(WorkerCursor, LEDGER_SWEEP)
        self.evaluator.ledgers.judged_until = swept.watermark if swept is not None else None
        # Hits of these records are stored already; re-deriving them only rebuilds state.
        return replay_state(session, self.engine, self.evaluator, since=since, up_to=cursor.seq)

    # --- one pass -----------------------------------------------------------------------------

    def run_once(
        self, *, as_of: datetime | None = None, should_stop: Callable[[], bool] = lambda: False
    ) -> WorkerPass:
        """Evaluate every record not yet evaluated, then sweep the deadlines once.

        `should_stop` is asked after each committed batch: when it says so, the pass ends there
        (sweep left for the next process, whose cursor resumes after that batch)."""
        result = WorkerPass()
        try:
            result.rebuilt_from = self.ensure_current()
            while not should_stop() and self._batch(result):
                if self.ensure_current():  # a version published mid-run: rebuilt, carry on
                    result.rebuilt_from += 1
            if should_stop():
                result.stopped = True
            else:
                self.sweep(result, as_of=as_of or clock.now())
        except OperationalError as exc:
            self._forget_state()
            result.unavailable = str(exc.orig)
            log.warning("worker pass stopped, the database is unavailable: %s", exc.orig)
        except BaseException:
            self._forget_state()
            raise
        result.version = self.version_label
        return result

    def _forget_state(self) -> None:
        # The evaluator has seen records (or disarmed deadlines) whose transaction never
        # committed. Windows key records by id, but other state (the pairing lists, the swept
        # deadlines) would hold them twice or lose them; the next pass rebuilds from the database.
        self.engine = self.evaluator = None
        self.version_label = ""

    def _batch(self, result: WorkerPass) -> bool:
        assert self.engine is not None and self.evaluator is not None
        with self.sessions.begin() as session:
            cursor = _cursor(session)
            rows = session.execute(
                select(Record.seq, Record.payload)
                .where(Record.seq > cursor.seq)
                .order_by(Record.seq)
                .limit(self.batch_size)
            ).all()
            if not rows:
                return False
            records = [(seq, revive(payload)) for seq, payload in rows]
            ordered = sorted(
                ((seq, r) for seq, r in records if r is not None),
                key=lambda item: (item[1]["action_time"], item[0]),
            )
            watermark = cursor.watermark
            drafts = []
            for _, record in ordered:
                late = watermark is not None and record["action_time"] < watermark - LATE_AFTER
                result.late += late
                derived = self.engine.enricher.enrich(record).derived
                drafts.extend(self.evaluator.process(record, derived, late=late))
                if watermark is None or record["action_time"] > watermark:
                    watermark = record["action_time"]
            new = store_hits(
                session, drafts, version=self.version_label, cooldowns=self._cooldowns()
            )
            mark_superseded(session, self.evaluator.superseded)
            self.evaluator.superseded.clear()
            for hit in new:
                result.by_rule[hit.rule_id] = result.by_rule.get(hit.rule_id, 0) + 1
            result.hits += len(new)
            result.records += len(rows)
            cursor.seq = rows[-1][0]
            cursor.watermark = watermark
            cursor.ruleset_digest = self.engine.ruleset.digest
            cursor.updated_at = clock.now()
            return True

    def sweep(self, result: WorkerPass, *, as_of: datetime) -> None:
        assert self.evaluator is not None
        with self.sessions.begin() as session:
            drafts = self.evaluator.sweep(as_of)
            swept = session.get(WorkerCursor, LEDGER_SWEEP)
            if swept is None:
                swept = WorkerCursor(name=LEDGER_SWEEP, seq=0, ruleset_digest="")
                session.add(swept)
            if swept.watermark is None or as_of > swept.watermark:
                swept.watermark, swept.updated_at = as_of, clock.now()
            new = store_hits(
                session, drafts, version=self.version_label, cooldowns=self._cooldowns()
            )
            result.hits += len(new)
            for hit in new:
                result.by_rule[hit.rule_id] = result.by_rule.get(hit.rule_id, 0) + 1

    def _cooldowns(self) -> dict[str, timedelta | None]:
        assert self.engine is not None
        return {
            r.uid: r.rule.window
            or r.rule.within
            or (rates.cooldown(r.rule) if r.rule.kind is Kind.RATE else None)
            for r in self.engine.rules
        }


def replay_state(
    session: Session, engine: Engine, evaluator: Evaluator, *, since: datetime, up_to: int
) -> int:
    """Re-read the stored records (seq ≤ up_to) after `since` in event-time order into
    `evaluator`, to rebuild its state; the hits this re-derives are dropped. Returns the count."""
    rows = session.execute(
        select(Record.payload)
        .where(Record.seq <= up_to, Record.action_time > since)
        .order_by(Record.action_time, Record.seq)
        .execution_options(yield_per=2000)
    ).scalars()
    count = 0
    for payload in rows:
        record = revive(payload)
        if record is not None:
            evaluator.process(record, engine.enricher.enrich(record).derived)
            count += 1
    evaluator.superseded.clear()  # judged when those records were first evaluated
    return count


def _cursor(session: Session) -> WorkerCursor:
    cursor = session.get(WorkerCursor, CURSOR)
    if cursor is None:
        cursor = WorkerCursor(name=CURSOR, seq=0, ruleset_digest="")
        session.add(cursor)
        session.flush()
    return cursor


def pending_records(session: Session) -> int:
    cursor = session.get(WorkerCursor, CURSOR)
    seq = cursor.seq if cursor else 0
    return session.scalar(select(func.count()).select_from(Record).where(Record.seq > seq)) or 0
