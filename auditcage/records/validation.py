"""validate_record(): the one check a raw record passes before intake stores or quarantines it.

What is quarantined is exactly catalogue §1.7 plus the conditions §1.2's notes state (§0.5
item 2). A "cond" field whose note states no condition (`plate_no`, `vin`, `document_no`,
`basis_doc_no`, `approval_no`, `operator_cert_serial`, `completed_at`, …) is never a reason to
quarantine: rules such as VEH-13, ACC-03, VIO-12 and STF-05 look for exactly its absence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from marshmallow import ValidationError, fields
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric
from stdnum.util import isdigits

from auditcage import clock
from auditcage.records import enums as e
from auditcage.records.fields import PATH, Day, Timestamp, is_present
from auditcage.records.nul import may_hold_nul, nul_fields
from auditcage.records.schemas import RECORD_SCHEMA

FUTURE_LIMIT: Final = timedelta(minutes=5)  # §1.7: more than 5 minutes in the future
BLOCKS: Final = tuple(str(s) for s in e.Service)  # the extension blocks are named after them


@dataclass(frozen=True)
class Problem:
    field: str  # dotted path, list items by index ("vehicle.inspection.photos.2.kind"); "" = record
    reason: str  # English, names the rule that was broken
    code: str  # stable machine code, the key into translations


@dataclass(frozen=True)
class Validation:
    record: dict[str, Any] | None  # the cleaned record when accepted, else None
    rejections: tuple[Problem, ...]  # non-empty ⇒ quarantine
    # Data-quality warnings. Also filled on a quarantined record, for whoever corrects it.
    warnings: tuple[Problem, ...]

    @property
    def accepted(self) -> bool:
        return not self.rejections


REQUIRED_FIELDS: Final = tuple(n for n, f in RECORD_SCHEMA.load_fields.items() if f.required)
_MISSING: Final = {
    n: Problem(n, "missing required field", "missing_field") for n in REQUIRED_FIELDS
}


# Stored records were validated at intake; reading them back must not judge them against today.
_FAR_FUTURE = datetime(9000, 1, 1, tzinfo=clock.SHANGHAI)


def revive(payload: Any) -> dict[str, Any] | None:
    """A stored payload (canonical JSON) back in its validated shape: datetimes parsed.

    A stored payload passed validation at intake and is canonical, so only the timestamps and
    days need parsing back: the schema's field types say where they are (`_REVIVE_PLAN`). That is
    ~20× cheaper than validating again, and the worker and the pre-check read every stored
    record. A test requires the same result as `validate_record` on generated records.
    """
    if not isinstance(payload, Mapping):
        return None
    try:
        return _revived(payload, _REVIVE_PLAN)
    except (TypeError, ValueError, AttributeError):  # not what intake stores: judge it in full
        return validate_record(payload, now=_FAR_FUTURE).record


def revive_by_validation(payload: Any) -> dict[str, Any] | None:
    """The reference for `revive`: the stored payload validated again in full."""
    return validate_record(payload, now=_FAR_FUTURE).record


_Convert = Callable[[Any], Any]


def _timestamp(value: Any) -> datetime:
    return clock.to_shanghai(datetime.fromisoformat(value))


def _day(value: Any) -> date:
    return date.fromisoformat(value) if len(value) == 10 else _timestamp(value).date()


def _revive_plan(schema: Any) -> dict[str, _Convert]:
    """For each field of a schema that loads to something JSON does not carry, how to."""
    plan: dict[str, _Convert] = {}
    for name, schema_field in schema.load_fields.items():
        convert = _converter(schema_field)
        if convert is not None:
            plan[name] = convert
    return plan


def _converter(schema_field: Any) -> _Convert | None:
    if isinstance(schema_field, Timestamp):
        return _timestamp
    if isinstance(schema_field, Day):
        return _day
    if isinstance(schema_field, fields.Nested):
        inner = _revive_plan(schema_field.schema)
        if not inner:
            return None
        return lambda value: _revived(value, inner)
    if isinstance(schema_field, fields.List):
        item = _converter(schema_field.inner)
        if item is None:
            return None
        return lambda values: [item(v) for v in values]
    return None


def _revived(payload: Mapping[str, Any], plan: dict[str, _Convert]) -> dict[str, Any]:
    record = dict(payload)
    for name, convert in plan.items():
        value = record.get(name)
        if value is not None:
            record[name] = convert(value)
    return record


def validate_record(raw: Any, *, now: datetime | None = None) -> Validation:
    """Check one raw record against the contract and report every problem it has, not the first.

    - Rejections are the quarantine reasons of §1.7 and §1.2's conditions.
    - Warnings are §1.7's data-quality notices that one record can show (plate pattern, VIN
      check digit, a resident ID whose birth date or region code is unknown). Unresolved
      references need reference data and are enrich's business.
    """
    if not isinstance(raw, Mapping):
        kind = "null" if raw is None else type(raw).__name__
        return Validation(
            None, (Problem("", f"expected a JSON object, got {kind}", "not_an_object"),), ()
        )
    # partial=True skips absent fields instead of visiting each of the ~90 declared ones; the
    # required ones are then checked here (a present null or "" still fails in the field).
    rejections = [_MISSING[name] for name in REQUIRED_FIELDS if name not in raw]
    try:
        data = RECORD_SCHEMA.load(raw, partial=True)
    except ValidationError as error:
        data = error.valid_data if isinstance(error.valid_data, dict) else {}
        rejections.extend(problems_from(error.messages))
    warnings: list[Problem] = []
    for check in CHECKS:
        check(raw, data, rejections, warnings)
    _check_future(data, clock.now() if now is None else clock.to_shanghai(now), rejections)
    if rejections:
        return Validation(None, tuple(rejections), tuple(warnings))
    if data.get("evidence_count") is None:
        data["evidence_count"] = 0  # §1.2 "Defaults to 0", null included
    return Validation(data, (), tuple(warnings))


_REVIVE_PLAN: Final = _revive_plan(RECORD_SCHEMA)


def problems_from(messages: Any, path: str = "") -> Iterator[Problem]:
    """Flatten marshmallow's nested error messages into dotted-path problems."""
    if isinstance(messages, dict):
        for key, sub in messages.items():
            if key == "_schema":
                yield from problems_from(sub, path)
            else:
                yield from problems_from(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(messages, list):
        for message in messages:
            yield from problems_from(message, path)
    else:
        code = getattr(messages, "code", "invalid")
        yield Problem(path, str(messages).replace(PATH, path or "record"), code)


# --- checks between fields; each sees the raw record and the fields that loaded cleanly ---

RawRecord = Mapping[str, Any]  # as received
Loaded = dict[str, Any]  # the fields that loaded cleanly
Problems = list[Problem]
Check = Callable[[RawRecord, Loaded, Problems, Problems], None]


def _supplied(raw: RawRecord, name: str) -> bool:
    """Given at all: a present value that failed its type check is reported there, not here."""
    return is_present(raw.get(name))


def _require(raw: RawRecord, name: str, why: str, out: Problems) -> None:
    if not _supplied(raw, name):
        out.append(Problem(name, f"missing required field (required {why})", "missing_field"))


def _check_nul(raw: RawRecord, _: Loaded, out: Problems, __: Problems) -> None:
    # PostgreSQL cannot store U+0000 (records/nul.py): the record is held, not its batch failed.
    if not may_hold_nul(raw):
        return
    for path in nul_fields(raw):
        out.append(
            Problem(
                path,
                "text contains the NUL character (U+0000), which cannot be stored; remove it",
                "nul_character",
            )
        )


def _check_channel_fields(raw: RawRecord, data: Loaded, out: Problems, _: Problems) -> None:
    channel = data.get("channel")
    if channel is None:
        return
    needs = (
        ("window_id", e.CHANNELS_NEEDING_WINDOW),
        ("terminal_id", e.CHANNELS_NEEDING_TERMINAL),
        ("client_ip", e.CHANNELS_NEEDING_CLIENT_IP),
        ("account_id", e.CHANNELS_NEEDING_ACCOUNT),
    )
    for name, channels in needs:
        if channel in channels:
            _require(raw, name, f"when channel={channel}", out)


def _check_action_fields(raw: RawRecord, data: Loaded, out: Problems, _: Problems) -> None:
    action = data.get("action")
    if action is None:
        return
    if action != e.Action.QUERY:
        _require(raw, "accepted_at", "unless action=query", out)
    if action in e.ACTIONS_NEEDING_REASON:
        _require(raw, "reason_code", f"when action={action}", out)
    if data.get("reason_code") == e.REASON_OTHER:
        _require(raw, "reason_text", "when reason_code=other", out)
    if action == e.Action.MODIFY:
        # §1.7: a modify needs changed_fields, before and after. An empty list changes nothing.
        for name in ("changed_fields", "before", "after"):
            if not _supplied(raw, name):
                out.append(Problem(name, f"a modify without {name}", "modify_without_change"))
    elif action == e.Action.REVOKE:
        # §0.5 item 2: "a revoke needs before/after like a modify".
        for name in ("before", "after"):
            if not _supplied(raw, name):
                out.append(Problem(name, f"a revoke without {name}", "revoke_without_change"))
    # §1.2 says violation_code is "required for violation records", but §1.7 lists only a
    # violation decide without one; §0.5 item 2 makes §1.7 the list, so only a decide is held.
    # A non-site review or notice without a code is for the rules (and R7) to judge.
    if (
        action == e.Action.DECIDE
        and data.get("service") == e.Service.VIOLATION
        and not _supplied(raw, "violation_code")
    ):
        out.append(
            Problem(
                "violation_code",
                "a decide on a violation has no violation_code",
                "decide_without_code",
            )
        )


def _check_subject(raw: RawRecord, data: Loaded, out: Problems, warn: Problems) -> None:
    if _supplied(raw, "subject_id_no"):
        _require(raw, "subject_id_type", "when subject_id_no is set", out)
    number = data.get("subject_id_no")
    if data.get("subject_id_type") == e.SubjectIdType.RESIDENT_ID and number:
        _check_resident_id("subject_id_no", number, out, warn)


def _check_resident_id(name: str, number: str, out: Problems, warn: Problems) -> None:
    """GB 11643: length, digits and MOD 11-2 quarantine (§1.7); birth date or region warn.

    python-stdnum's region table lags new counties and region-code changes (it does not know
    520102 for births before 1985), so a number with a valid checksum is not quarantined for its
    region or birth date.
    """
    number = number.replace(" ", "").replace("-", "").upper()  # ric.compact, 20 times faster
    if len(number) != 18 or not isdigits(number[:17]):
        out.append(
            Problem(name, "a resident ID number is 17 digits and a check character", "id_format")
        )
    elif number[-1] != ric.calc_check_digit(number):
        out.append(Problem(name, "GB 11643 checksum does not match", "id_checksum"))
    elif not _is_date(number[6:14]):
        warn.append(
            Problem(name, f"resident ID: birth date {number[6:14]} is not a date", "id_component")
        )
    elif not _region_known(number[:6], number[6:10]):
        warn.append(
            Problem(
                name,
                f"resident ID: region code {number[:6]} is not known for births in {number[6:10]}",
                "id_component",
            )
        )


def _is_date(yyyymmdd: str) -> bool:
    try:
        date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=16384)  # a few thousand regions times the birth years seen; the lookup is slow
def _region_known(region: str, year: str) -> bool:
    try:
        ric.get_birth_place(f"{region}{year}01010000")
    except stdnum_errors.InvalidComponent:
        return False
    return True


def _check_vehicle_ids(raw: RawRecord, data: Loaded, out: Problems, warn: Problems) -> None:
    if _supplied(raw, "plate_no") or _supplied(raw, "vin"):
        _require(raw, "vehicle_owner_id_no", "when plate_no or vin is set", out)
    vin = data.get("vin")
    if vin:
        if not VIN_PATTERN.fullmatch(vin):
            out.append(
                Problem("vin", f"{vin!r} is not 17 characters of [A-HJ-NPR-Z0-9]", "vin_format")
            )
        elif vin[8] != vin_check_digit(vin):
            warn.append(
                Problem(
                    "vin",
                    f"VIN check digit is {vin[8]!r}, GB 16735 gives {vin_check_digit(vin)!r} "
                    "(imported vehicles may not use it)",
                    "vin_check_digit",
                )
            )
    plate = data.get("plate_no")
    if plate and not any(p.fullmatch(plate) for p in PLATE_PATTERNS):
        warn.append(
            Problem("plate_no", f"{plate!r} does not match the GA 36 patterns", "plate_pattern")
        )


def _check_amount(raw: RawRecord, data: Loaded, out: Problems, _: Problems) -> None:
    if _supplied(raw, "amount"):
        _require(raw, "amount_kind", "when amount is set", out)
    amount, kind = data.get("amount"), data.get("amount_kind")
    # Only a known kind other than refund: a missing kind is already reported above.
    if amount is not None and amount < 0 and kind is not None and kind != e.AmountKind.REFUND:
        out.append(
            Problem(
                "amount",
                f"amount is {amount} with amount_kind={kind}; only a refund is negative",
                "negative_amount",
            )
        )


def _check_block(raw: RawRecord, data: Loaded, out: Problems, _: Problems) -> None:
    service = data.get("service")
    if service is None:
        return
    # An empty matching block is accepted: it says nothing, but it is the right block.
    if raw.get(service) is None:
        out.append(
            Problem(
                service,
                "service and extension block do not match: "
                f"service={service} needs a {service!r} block",
                "block_mismatch",
            )
        )
    for other in BLOCKS:
        if other != service and raw.get(other) is not None:
            out.append(
                Problem(
                    other,
                    "service and extension block do not match: "
                    f"a {other!r} block on a {service} record",
                    "block_mismatch",
                )
            )
    business_type = data.get("business_type")
    if business_type is not None and e.BUSINESS_TYPES[business_type] != service:
        owner = e.BUSINESS_TYPES[business_type]
        out.append(
            Problem(
                "business_type",
                f"business type {business_type} belongs to service {owner}, not {service}",
                "business_type_mismatch",
            )
        )


def _check_future(data: Loaded, now: datetime, out: Problems) -> None:
    action_time = data.get("action_time")
    if action_time is not None and action_time > now + FUTURE_LIMIT:
        minutes = math.ceil((action_time - now).total_seconds() / 60)
        limit = int(FUTURE_LIMIT.total_seconds() // 60)
        out.append(
            Problem(
                "action_time",
                f"action_time is {minutes} minutes in the future (limit {limit})",
                "future_time",
            )
        )


CHECKS: Final[tuple[Check, ...]] = (
    _check_nul,
    _check_block,
    _check_channel_fields,
    _check_action_fields,
    _check_subject,
    _check_vehicle_ids,
    _check_amount,
)


# --- identifiers ---

VIN_PATTERN: Final = re.compile(r"[A-HJ-NPR-Z0-9]{17}")  # GB 16735 / ISO 3779: no I, O, Q
_VIN_WEIGHTS: Final = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_VALUES: Final = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}


def vin_check_digit(vin: str) -> str:
    """The check character of position 9 (GB 16735 / ISO 3779); `vin` is 17 valid characters."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


# GA 36 plates, normalised without separators. Accepted without a warning:
# - ordinary plates: province, issuing-office letter, 5 characters, where the last may be one
#   of 挂 trailer, 学 coach, 警 police, 港/澳 cross-border (粤Z…), 领 consulate, 试 testing and
#   超 over-limit;
# - new-energy plates (GA 36-2018, 8 characters). Small cars: a letter then a letter or digit
#   then 4 digits; the energy letter was D/F and the 2021 capacity extension added A B C E
#   (battery-electric) and G H J K (other new energy). Large vehicles: 5 digits then D/F.
# - embassy plates: 使 and 6 digits (3 for the mission, 3 for the vehicle), and the older form
#   with 使 last.
# Military and armed-police plates (军, WJ) are not GA 36 and are issued outside the traffic
# police, so they warn like any other unrecognised plate; so do 应急 and 民航 plates.
# GA 36 writes Guizhou as 贵; the catalogue's own examples (§1.2, §1.8) write 黔A12345, so both.
_PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵黔粤青藏川宁琼"
_LETTER: Final = "A-HJ-NP-Z"  # GA 36 uses no I or O
PLATE_PATTERNS: Final = (
    re.compile(f"[{_PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳领试超]"),
    re.compile(f"[{_PROVINCES}][{_LETTER}]([A-HJK][{_LETTER}0-9][0-9]{{4}}|[0-9]{{5}}[DF])"),
    re.compile("使[0-9]{6}|[0-9]{6}使"),
)
