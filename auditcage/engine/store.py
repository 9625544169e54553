"""Writing hits: each once (ids are a pure function of the input), then into its alert."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auditcage.alerts import grouping
from auditcage.alerts.models import Hit
from auditcage.engine.hits import HitDraft


def store_hits(
    session: Session,
    drafts: Iterable[HitDraft],
    *,
    version: str,
    cooldowns: dict[str, timedelta | None],
) -> list[Hit]:
    """Insert the hits not stored yet and file each into its alert; returns the new ones.
    A hit stored already takes what its last emission reports (`revise`)."""
    unique = {draft.id: draft for draft in drafts}  # the last emission of an id wins
    if not unique:
        return []
    stored = set()
    for hit in session.scalars(select(Hit).where(Hit.id.in_(list(unique)))):
        stored.add(hit.id)
        revise(hit, unique[hit.id])
    new = []
    for hit_id, draft in sorted(unique.items(), key=lambda item: (item[1].at, item[0])):
        if hit_id in stored:
            continue
        hit = Hit(
            id=hit_id,
            rule_id=draft.rule_id,
            sub=draft.sub,
            severity=draft.severity,
            kind=draft.kind,
            aspect=draft.aspect,
            key=draft.key[:400],
            serials=list(draft.serials),
            record_ids=list(draft.record_ids),
            unit_code=draft.unit_code,
            at=draft.at,
            message=draft.message,
            upgrade=draft.upgrade,
            late_data=draft.late_data,
            shadow=draft.shadow,
            rule_version=version,
            anchor_record_id=draft.anchor[:64],
            detail=draft.detail,
        )
        session.add(hit)
        session.flush()
        grouping.attach(session, hit, cooldown=cooldowns.get(draft.uid))
        new.append(hit)
    return new


def revise(hit: Hit, draft: HitDraft) -> None:
    """A stored hit emitted again: valid again, should an out-of-order record have superseded
    it, and reporting what the new emission does — a window's value and evidence after a record
    arrived inside it, a missed deadline's delay once its step came. Its id, rule, severity and
    alert stay."""
    hit.superseded = False
    if draft.detail and hit.detail != draft.detail:
        hit.detail = draft.detail
    if hit.message != draft.message:
        hit.message = draft.message
    if tuple(hit.record_ids) != draft.record_ids:
        hit.record_ids = list(draft.record_ids)
    if tuple(hit.serials) != draft.serials:
        hit.serials = list(draft.serials)


def mark_superseded(session: Session, hit_ids: set[str]) -> int:
    """Flag hits that an out-of-order record showed a sorted replay would not produce."""
    if not hit_ids:
        return 0
    result = session.execute(update(Hit).where(Hit.id.in_(list(hit_ids))).values(superseded=True))
    return result.rowcount or 0
