"""record() appends a hash-chained entry; verify() proves the chain intact or names the break.

Each entry's hash covers its content and the previous entry's hash, so editing, deleting or
reordering any entry breaks every hash after it. `prev_hash` is unique: of two transactions that
read the same tail, only one can commit (the other fails and is retried by its caller).
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.audit.models import AuditEntry

GENESIS = "0" * 64


def _digest(entry: AuditEntry) -> str:
    content = {
        "id": entry.id,
        "at": clock.to_shanghai(entry.at).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: tuple[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction."""
    tail = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        id=(tail.id + 1) if tail else 1,
        at=clock.now(),
        actor=actor,
        action=action,
        subject_type=subject[0] if subject else None,
        subject_id=str(subject[1]) if subject else None,
        detail=detail or {},
        prev_hash=tail.hash if tail else GENESIS,
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_broken_id: int | None = None
    reason: str = ""


def _entries(session: Session) -> Generator[AuditEntry, None, None]:
    # Streamed (a server-side cursor on PostgreSQL), and closed even when the caller stops early.
    result = session.scalars(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    )
    try:
        yield from result
    finally:
        result.close()


def verify(session: Session) -> Verification:
    """Walk the chain from the first entry; report the first entry that does not fit."""
    entries = _entries(session)
    try:
        return _walk(entries)
    finally:
        entries.close()


def _walk(entries: Iterator[AuditEntry]) -> Verification:
    expected_prev = GENESIS
    expected_id = 1
    count = 0
    for entry in entries:
        count += 1
        if entry.id != expected_id:
            return Verification(False, count, entry.id, f"entry {expected_id} is missing")
        if entry.prev_hash != expected_prev:
            return Verification(False, count, entry.id, "does not follow the entry before it")
        if _digest(entry) != entry.hash:
            return Verification(False, count, entry.id, "content does not match its hash")
        expected_prev = entry.hash
        expected_id += 1
    return Verification(True, count)
