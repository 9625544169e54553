"""A hit as the engine produces it (catalogue §7.3), with an id that is a pure function of input."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditcage import clock


def rule_uid(rule_id: str, sub: str | None) -> str:
    """The rule's uid ("VIO-04#a"), as CompiledRule.uid spells it."""
    return f"{rule_id}#{sub}" if sub else rule_id


def hit_id(rule_id: str, sub: str | None, key: str, anchor: str, severity: str) -> str:
    """Same rule, sub, key, anchor and severity → same id, whichever path computed it."""
    text = "\x1f".join([rule_id, sub or "", key, anchor, severity])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class HitDraft:
    rule_id: str
    sub: str | None
    severity: str
    kind: str
    aspect: str | None
    key: str
    serials: tuple[str, ...]
    record_ids: tuple[str, ...]
    unit_code: str
    at: datetime
    message: str
    anchor: str  # the record_id that fired, or "due:<record_id>" for a missed deadline
    upgrade: bool = False
    late_data: bool = False
    shadow: bool = False
    detail: dict[str, Any] = field(default_factory=dict, compare=False)
    # The same hit (same id) emitted again with a new value or evidence: a record arrived inside
    # its window after it fired. Stores update the stored hit; it raises nothing new.
    revision: bool = field(default=False, compare=False)

    @property
    def id(self) -> str:
        return hit_id(self.rule_id, self.sub, self.key, self.anchor, self.severity)

    @property
    def uid(self) -> str:
        return rule_uid(self.rule_id, self.sub)

    def as_json(self) -> dict[str, Any]:
        """The §7.3 shape of a hits file line."""
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "sub": self.sub,
            "severity": self.severity,
            "kind": self.kind,
            "aspect": self.aspect,
            "key": masked_key(self.key),
            "serials": list(self.serials),
            "record_ids": list(self.record_ids),
            "unit_code": self.unit_code,
            "at": clock.to_shanghai(self.at).isoformat(),
            "message": self.message,
            "anchor": self.anchor,
            "upgrade": self.upgrade,
            "late_data": self.late_data,
            "shadow": self.shadow,
            **({"detail": self.detail} if self.detail else {}),
        }


class SettledHits:
    """The hits of records taken in event-time order, as a hits file carries them: each id
    once, with its last emission, and none that a later record of the same instant superseded.

    In event-time order a hit can only be revised or superseded by a record tied with its
    anchor's time (the window of t holds every record at t, whatever came first), so the hits
    of one instant are held until a record of a later instant arrives.
    """

    def __init__(self, superseded: set[str]) -> None:
        self._superseded = superseded  # the evaluator's, read at each release
        self._held: dict[str, HitDraft] = {}  # keeps each id at its first emission's place
        self._at: datetime | None = None

    def add(self, at: datetime, hits: list[HitDraft]) -> list[HitDraft]:
        """Hold the hits of a record at `at`; the hits of earlier instants, now final."""
        released = self.release() if self._at is not None and at != self._at else []
        self._at = at
        for hit in hits:
            self._held[hit.id] = hit
        return released

    def release(self) -> list[HitDraft]:
        """Every held hit still valid (at the end of the records, before the sweep)."""
        out = [h for i, h in self._held.items() if i not in self._superseded]
        self._held.clear()
        return out


def masked_key(key: str) -> str:
    """A hit key with the personal values in it masked (§7.3: `violation.license_used=5201…`)."""
    from auditcage.records.masking import PERSONAL_FIELDS

    parts = []
    for part in key.split(";"):
        path, sep, value = part.partition("=")
        masker = PERSONAL_FIELDS.get(path) or PERSONAL_FIELDS.get(_list_path(path))
        parts.append(f"{path}={masker(value)}" if sep and masker else part)
    return ";".join(parts)


def _list_path(path: str) -> str:
    """accident.parties.id_no → accident.parties[].id_no, the masking table's spelling."""
    head, _, leaf = path.rpartition(".")
    return f"{head}[].{leaf}" if head else path
