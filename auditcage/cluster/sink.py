"""The stream's effects: each micro-batch's hits into the hits and alerts tables, once.

`foreachBatch` may run a micro-batch again after a failure; hit ids are a pure function of the
input, and `store_hits` inserts only the ids not stored yet, so a retried batch adds nothing.
A hit that comes again with other detail (a missed deadline met later, `cluster.step`; a window
a late record entered) revises the stored one, to what the frame form reports from the start.
"""

from __future__ import annotations

import pickle
from datetime import timedelta
from typing import Any

from auditcage.engine import rates
from auditcage.engine.hits import HitDraft
from auditcage.engine.session import Engine
from auditcage.engine.store import store_hits
from auditcage.rulepacks.model import Kind
from auditcage.storage.session import make_engine, make_session_factory


class HitSink:
    def __init__(self, database_url: str, engine: Engine, *, version: str = "") -> None:
        self.sessions = make_session_factory(make_engine(database_url))
        self.version = version or f"stream-{engine.ruleset.digest[:12]}"
        self.cooldowns: dict[str, timedelta | None] = {
            r.uid: r.rule.window
            or r.rule.within
            or (rates.cooldown(r.rule) if r.rule.kind is Kind.RATE else None)
            for r in engine.rules
        }
        self.batches = 0
        self.stored = 0

    def write_batch(self, batch: Any, batch_id: int) -> None:
        """foreachBatch: the batch's hits (a Spark DataFrame with a `draft` column)."""
        drafts = [pickle.loads(row.draft) for row in batch.select("draft").collect()]
        self.write(drafts)
        self.batches += 1

    def write(self, drafts: list[HitDraft]) -> int:
        with self.sessions.begin() as session:  # the last emission of an id wins
            new = store_hits(session, drafts, version=self.version, cooldowns=self.cooldowns)
        self.stored += len(new)
        return len(new)
