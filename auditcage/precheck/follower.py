"""The pre-check's view of rule state: an evaluator that follows the stored records by `seq`.

It is built like the worker's (the active rule version, the current reference data, the
records inside the rules' horizon re-read in event-time order), then kept current by reading
the records stored since, before each answer. It never writes: no hit, no cursor. Each answer
evaluates the candidate record on a fork (precheck.fork), so the candidate leaves no trace.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auditcage.engine.evaluator import Evaluator
from auditcage.engine.hits import HitDraft
from auditcage.engine.runner import active_rules_dir, replay_state
from auditcage.engine.session import Engine, build_engine, load_rules
from auditcage.precheck.fork import Candidates, _Inert, fork
from auditcage.precheck.policy import RECORD_KINDS, PrecheckPolicy, load_precheck_policy
from auditcage.records.models import Record
from auditcage.records.validation import revive
from auditcage.reference.models import ReferenceLoad
from auditcage.reference.service import build_index
from auditcage.rulepacks import publish
from auditcage.rulepacks.model import Status

VERSION_CHECK = 1.0  # seconds
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    hits: list[HitDraft]
    policy: PrecheckPolicy
    version: str
    seq: int


class Follower:
    def __init__(self, rules_dir: Path) -> None:
        self.rules_dir = rules_dir
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._evaluator: Evaluator | None = None
        self._policy: PrecheckPolicy | None = None
        self._stamp: tuple[str, int] | None = None  # (rule version, reference load)
        self._seq = 0
        self._record_kinds: frozenset[str] = frozenset()
        self._candidates: Candidates | None = None
        self._checked_at = float("-inf")  # monotonic time of the last version check

    def evaluate(self, session: Session, record: dict[str, Any]) -> Evaluation:
        """The hits `record` would raise if it were stored now; state stays as it was."""
        with self._lock:
            self._ensure_current(session)
            self._catch_up(session)
            assert self._engine is not None and self._evaluator is not None
            assert self._policy is not None
            derived = self._engine.enricher.enrich(record).derived
            drafts = fork(self._evaluator, self._candidates).process(record, derived)
            hits = [h for h in drafts if self._counts(h)]
            return Evaluation(hits, self._policy, self._stamp[0] if self._stamp else "", self._seq)

    def warm(self, session: Session) -> int:
        """Build the state now rather than on the first answer; the seq it has read up to."""
        with self._lock:
            self._ensure_current(session)
            self._catch_up(session)
            return self._seq

    def _counts(self, hit: HitDraft) -> bool:
        # A revision restates a hit an earlier record raised; this record raises nothing by it.
        return hit.uid in self._record_kinds and not hit.shadow and not hit.revision

    def _ensure_current(self, session: Session) -> None:
        # A published version or a reference load is picked up within VERSION_CHECK seconds;
        # checking on every answer would cost two queries each.
        now = time.monotonic()
        if self._stamp is not None and now - self._checked_at < VERSION_CHECK:
            return
        self._checked_at = now
        version = publish.active_version(session)
        label = f"v{version.id}" if version else "local"
        stamp = (label, session.scalar(select(func.max(ReferenceLoad.id))) or 0)
        if stamp == self._stamp:
            return
        with active_rules_dir(session, self.rules_dir) as (directory, label):
            ruleset, rules = load_rules(directory)
            policy = load_precheck_policy(directory)
        self._engine = build_engine(ruleset, rules, build_index(session))
        self._evaluator = self._engine.evaluator()
        # Rate periods and ledgers fire later, never from one record: not followed.
        self._evaluator.rates = _Inert()  # type: ignore[assignment]
        self._evaluator.ledgers = _Inert()  # type: ignore[assignment]
        self._policy = policy
        self._record_kinds = frozenset(
            r.uid for r in rules if r.rule.kind in RECORD_KINDS and r.rule.status is Status.ACTIVE
        )
        self._candidates = Candidates.of(self._evaluator, RECORD_KINDS)
        self._stamp = stamp
        self._rebuild(session)

    def _rebuild(self, session: Session) -> None:
        assert self._engine is not None and self._evaluator is not None
        started = time.perf_counter()
        last = session.execute(select(func.max(Record.seq), func.max(Record.action_time))).one()
        self._seq = last[0] or 0
        count = 0
        if last[1] is not None:
            since = last[1] - self._engine.horizon()
            count = replay_state(
                session, self._engine, self._evaluator, since=since, up_to=self._seq
            )
        log.info(
            "pre-check state built: rules %s, %d records re-read up to seq %d in %.1f s",
            self._stamp[0] if self._stamp else "?",
            count,
            self._seq,
            time.perf_counter() - started,
        )

    def _catch_up(self, session: Session) -> None:
        rows = session.execute(
            select(Record.seq, Record.payload).where(Record.seq > self._seq).order_by(Record.seq)
        ).all()
        for seq, payload in rows:
            self._process(payload)
            self._seq = seq

    def _process(self, payload: Any) -> None:
        assert self._engine is not None and self._evaluator is not None
        record = revive(payload)
        if record is not None:
            self._evaluator.process(record, self._engine.enricher.enrich(record).derived)
        self._evaluator.superseded.clear()
