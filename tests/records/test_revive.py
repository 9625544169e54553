"""`revive` (parsing the timestamps of a stored payload back) gives exactly what validating the
payload again gives, on every record of a generated province."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from auditcage.demo import generate
from auditcage.records.intake import canonical
from auditcage.records.validation import revive, revive_by_validation, validate_record


def _same(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences in value *and* type (a datetime's zone included), by dotted path."""
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, dict):
        out = [f"{path}.{k}: only on one side" for k in set(a) ^ set(b)]
        for k in set(a) & set(b):
            out += _same(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [
            d for n, (x, y) in enumerate(zip(a, b, strict=True)) for d in _same(x, y, f"{path}.{n}")
        ]
    if isinstance(a, datetime) and (
        a != b or a.tzinfo != b.tzinfo or a.utcoffset() != b.utcoffset()
    ):
        return [f"{path}: {a!r} != {b!r}"]
    if a != b:
        return [f"{path}: {a!r} != {b!r}"]
    return []


def test_revive_equals_full_validation_on_every_generated_record() -> None:
    province = generate(seed=5, start=date(2026, 8, 1), months=3, records_target=1500)
    stored = []
    for raw in province.iter_records():
        result = validate_record(raw)
        if result.record is not None:
            stored.append(canonical(result.record))
    assert len(stored) > 1000
    kinds = {p["service"] for p in stored}
    assert kinds == {"vehicle", "license", "accident", "violation"}
    assert any("before" in p for p in stored)  # corrections carry their before/after objects
    for payload in stored:
        differences = _same(revive(payload), revive_by_validation(payload))
        assert not differences, (payload["record_id"], differences)


def test_revive_judges_a_payload_it_cannot_parse_in_full() -> None:
    assert revive({"record_id": "x", "action_time": "not a time"}) is None
    assert revive(["not", "an", "object"]) is None
