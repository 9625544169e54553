"""The NUL character (U+0000): a reason to quarantine one record, and kept out of the database.

PostgreSQL refuses U+0000 in text and jsonb, so a record carrying one would fail its whole batch
when stored. Intake rejects the record (validation's `nul_character`), and its quarantined copy
is stored escaped: every NUL written as the six characters `\\u0000`, which shows where it was.
The exact original is kept beside it as JSON text (`raw_text`, where orjson writes NUL as that
escape), so a replay without a correction judges what was received, not the escaped copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import orjson

NUL: Final = "\x00"
ESCAPED: Final = "\\u0000"


def may_hold_nul(value: Any) -> bool:
    """A fast test, without false negatives: orjson writes a NUL as `\\u0000` (5× faster than
    walking every field, and validation runs on every record)."""
    try:
        return b"\\u0000" in orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # not JSON-shaped: walk it
        return True


def nul_fields(value: Any, path: str = "") -> Iterator[str]:
    """The dotted path of every string (value or key) holding a NUL; list items by index."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            where = f"{path}.{name}" if path else name
            if NUL in name:
                yield escape(where)
            else:
                yield from nul_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nul_fields(item, f"{path}.{index}" if path else str(index))


def escape(value: Any) -> Any:
    """`value` with every NUL in its strings and keys written as `\\u0000`."""
    if isinstance(value, str):
        return value.replace(NUL, ESCAPED) if NUL in value else value
    if isinstance(value, dict):
        return {escape(str(k)) if isinstance(k, str) else k: escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape(v) for v in value]
    return value


def storable(payload: Any) -> tuple[Any, str | None]:
    """The payload to store and, when it held a NUL, its exact original as JSON text."""
    if not may_hold_nul(payload) or next(nul_fields(payload), None) is None:
        return payload, None
    original = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS).decode()
    return escape(payload), original
