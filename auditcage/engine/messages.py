"""Rule messages: `{field}` placeholders filled from the record, personal data masked.

A deliberately tiny template language (no attribute access, no format specs): a placeholder is a
dotted field of the record, a derived field, `first.<field>` in sequences, or one of the values the
engine supplies (`key`, `value`, `count`, `window`, `due`, `delay`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from auditcage import clock
from auditcage.records.masking import PERSONAL_FIELDS, mask_id_number

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)\}")
# Derived fields that carry an identity number too.
_PERSONAL_DERIVED = {"operator_id_no", "reviewer_id_no", "approver_id_no"}


def render(
    template: str,
    record: Mapping[str, Any],
    derived: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    first: Mapping[str, Any] | None = None,
) -> str:
    def fill(match: re.Match[str]) -> str:
        path = match.group(1)
        return _shown(path, _lookup(path, record, derived, extra or {}, first))

    return PLACEHOLDER.sub(fill, template)


def _lookup(
    path: str,
    record: Mapping[str, Any],
    derived: Mapping[str, Any],
    extra: Mapping[str, Any],
    first: Mapping[str, Any] | None,
) -> Any:
    if path in extra:
        return extra[path]
    if path.startswith("first.") and first is not None:
        return _dig(first, path[6:].split("."))
    value = _dig(record, path.split("."))
    if value is None:
        value = derived.get(path)
    return value


def _dig(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _shown(path: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    bare = path.removeprefix("first.")
    masker = PERSONAL_FIELDS.get(bare)
    if masker is not None and isinstance(value, str):
        return masker(value)
    if bare in _PERSONAL_DERIVED and isinstance(value, str):
        return mask_id_number(value)
    if isinstance(value, datetime):
        return clock.to_shanghai(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}天"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}小时"
    if seconds % 60 == 0:
        return f"{seconds // 60}分钟"
    return f"{seconds}秒"
