"""Masking of personal data for notifications and lists (catalogue §0.2 item 10, §1.8).

Identity numbers, names and phone numbers are personal data; plates, VINs and unit or staff
codes are not. Rules always evaluate on the raw values; only what is shown is masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

MASK: Final = "*"


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters (§1.8: `5201**********1234`).

    Short numbers keep less, so that at least half of the characters are hidden.
    """
    n = len(value)
    keep = 4 if n > 8 else 1 if n > 2 else 0
    return _keep_ends(value, keep, keep)


def mask_name(value: str) -> str:
    """Keep the first character (the family name of a Chinese name): 张三丰 → 张**."""
    if len(value) <= 1:
        return MASK * len(value)
    return value[0] + MASK * (len(value) - 1)


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 characters: 13812345678 → 138****5678."""
    if len(value) >= 8:
        return _keep_ends(value, 3, 4)
    return _keep_ends(value, 0, 2) if len(value) > 2 else MASK * len(value)


def mask_plate(value: str) -> str:
    """Plates identify vehicles, not people (§0.2 item 10 masks IDs, names and phones only)."""
    return value


def _keep_ends(value: str, head: int, tail: int) -> str:
    hidden = len(value) - head - tail
    return value[:head] + MASK * hidden + value[len(value) - tail :]


# Dotted paths of the personal fields of §1; "[]" stands for any list item. Domestic licence
# numbers equal resident ID numbers (§1.2), so licences are masked as ID numbers.
PERSONAL_FIELDS: Final[dict[str, Callable[[str], str]]] = {
    "subject_id_no": mask_id_number,
    "subject_name": mask_name,
    "subject_phone": mask_phone,
    "agent_id_no": mask_id_number,
    "agent_name": mask_name,
    "agent_phone": mask_phone,
    "vehicle_owner_id_no": mask_id_number,
    "license_no": mask_id_number,
    "license_holder_id_no": mask_id_number,
    "violation.license_used": mask_id_number,
    "accident.parties[].id_no": mask_id_number,
    "accident.parties[].license_no": mask_id_number,
    "accident.parties[].phone": mask_phone,
    "vehicle.transfer.from_owner_id_no": mask_id_number,
    "vehicle.transfer.to_owner_id_no": mask_id_number,
}
# A correction carries the changed values under their dotted paths (`before`/`after`, §1.2).
_CHANGE_SETS: Final = ("before", "after")


def mask_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of `record` with every personal field of §1 masked, wherever it sits.

    `before` and `after` are masked too, whether they hold dotted keys
    (`{"violation.license_used": …}`) or nested objects.
    """
    masked = _walk(record, "")
    for name in _CHANGE_SETS:
        if isinstance(record.get(name), dict):
            masked[name] = _walk(record[name], "")
    return masked


def _walk(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            masker = PERSONAL_FIELDS.get(child)
            if masker is not None and isinstance(item, str):
                out[key] = masker(item)
            else:
                out[key] = _walk(item, child)
        return out
    if isinstance(value, list):
        return [_walk(item, f"{path}[]") for item in value]
    return value


_ID_IN_TEXT: Final = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{9}[\dXx](?![0-9A-Za-z])")
_PHONE_IN_TEXT: Final = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_text(text: str) -> str:
    """Free text (a rendered message) with ID numbers and mobile numbers in it masked: the
    last safety net for what leaves the system in notifications and logs."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
