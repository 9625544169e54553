"""The audit trail is hash-chained: an edited, deleted or reordered entry is found."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from auditcage.audit import trail
from auditcage.audit.models import AuditEntry

pytestmark = pytest.mark.db


def _three_entries(session: Session) -> list[AuditEntry]:
    return [
        trail.record(session, actor="inspector", action="alert.reviewed", subject=("alert", n))
        for n in (1, 2, 3)
    ]


def test_an_untouched_chain_verifies(session: Session) -> None:
    _three_entries(session)
    result = trail.verify(session)
    assert result.ok and result.entries == 3


def test_each_entry_holds_the_hash_of_the_one_before(session: Session) -> None:
    first, second, third = _three_entries(session)
    assert first.prev_hash == trail.GENESIS
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)


def test_an_edited_entry_is_named(session: Session) -> None:
    entries = _three_entries(session)
    session.execute(update(AuditEntry).where(AuditEntry.id == entries[1].id).values(actor="forger"))
    session.expire_all()
    result = trail.verify(session)
    assert not result.ok and result.first_broken_id == entries[1].id


def test_a_deleted_entry_is_named(session: Session) -> None:
    entries = _three_entries(session)
    session.execute(delete(AuditEntry).where(AuditEntry.id == entries[1].id))
    session.expire_all()
    result = trail.verify(session)
    assert not result.ok and result.first_broken_id == entries[2].id
    assert "missing" in result.reason


def test_reordered_entries_are_found(session: Session) -> None:
    first_id, second_id = (entry.id for entry in _three_entries(session)[:2])
    # Swap the positions of the first two entries.
    for old, new in ((second_id, 1000), (first_id, second_id), (1000, first_id)):
        session.execute(update(AuditEntry).where(AuditEntry.id == old).values(id=new))
    session.expire_all()
    result = trail.verify(session)
    assert not result.ok and result.first_broken_id == first_id
