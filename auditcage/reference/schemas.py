"""One schema per reference dataset of catalogue §7.2, and the checks that span rows.

Every schema loads a row read from NDJSON and the same row read from CSV to the same value:

- an empty cell (or an empty string) is null, and text is stripped;
- list- and object-valued columns may arrive as JSON text (CSV cells hold them that way);
- booleans are true/false/1/0, numbers may be text;
- dates come out as ISO strings, datetimes as ISO strings in +08:00, numbers as int when whole.

So a loaded row is JSON-ready: it is stored as-is and read back identically (`service`).
Every known field is present in a loaded row (null when not given); unknown columns are kept.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, ClassVar

import orjson
from marshmallow import (
    INCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from auditcage import clock
from auditcage.reference.datasets import Dataset, key_of
from auditcage.reference.index import as_instant

_FAR_PAST = datetime(1900, 1, 1, tzinfo=clock.SHANGHAI)

# catalogue §1.3 (actions) and §1.6 (evidence kinds): the values R6 lists may name
ACTIONS = (
    "accept", "inspect", "examine", "review", "approve", "decide", "issue", "print", "reprint",
    "notify", "deliver", "reject", "cancel", "collect", "remit", "seize", "release", "eliminate",
    "revoke", "modify", "delete", "query", "transfer", "close", "archive", "reopen",
)  # fmt: skip
EVIDENCE_KINDS = (
    "photo_front_left_45", "photo_rear_right_45", "photo_vin", "vin_rubbing", "photo_nameplate",
    "photo_plate", "photo_scene", "photo_damage", "video", "bodycam", "document_scan",
    "face_capture", "other",
)  # fmt: skip
DOCUMENT_KINDS = (
    "penalty_decision", "measure_voucher", "fine_receipt", "determination",
    "accident_certificate", "driving_permit", "reg_certificate", "license_card", "plate",
    "inspection_mark", "temp_plate", "notice", "other",
)  # fmt: skip
# What a violation code may add to a warning or fine: the penalty kinds of §1.5.4 decision and the
# compulsory measures of §1.5.4 measure, plus criminal referral (追究刑事责任).
PENALTY_EXTRAS = (
    "suspend", "revoke", "detention", "seize_vehicle", "seize_license", "confiscate", "tow",
    "criminal",
)  # fmt: skip
# 2022 记分办法: 12/9/6/3/1; the 2013 table also had 2, kept so that older versions load.
STATUTORY_POINTS = (0, 1, 2, 3, 6, 9, 12)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_LETTERS = re.compile(r"[A-Z]*")
_SNAKE = re.compile(r"[a-z][a-z0-9_]*")


# --- fields -------------------------------------------------------------------------------------


class _Messages:
    """Short, uniform reasons for missing and null values (a mixin placed before the field)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "required": "required",
        "null": "required, may not be empty",
    }


class Text(_Messages, fields.String):
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected text (write codes in quotes so that leading zeros survive)",
    }


class Bool(_Messages, fields.Boolean):
    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "expected true or false"}
    truthy: ClassVar[set[Any]] = {True, "1", "true", "True", "TRUE"}  # 1 == True
    falsy: ClassVar[set[Any]] = {False, "0", "false", "False", "FALSE"}  # 0 == False


class Number(_Messages, fields.Field):
    """A number from JSON or text; an int when whole, else a float."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected a number",
        "whole": "expected a whole number",
    }

    def __init__(self, *, whole: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.whole = whole

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise self.make_error("invalid")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not number.is_finite():
            raise self.make_error("invalid")
        if number == number.to_integral_value():
            return int(number)
        if self.whole:
            raise self.make_error("whole")
        return float(number)


def _iso_date(value: Any) -> str | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def _iso_datetime(value: Any) -> str | None:
    if isinstance(value, datetime):
        return clock.to_shanghai(value).isoformat()
    if isinstance(value, str) and len(value) > 10:
        try:
            return clock.to_shanghai(datetime.fromisoformat(value)).isoformat()
        except ValueError:
            return None
    return None


class IsoDate(_Messages, fields.Field):
    """An ISO date (YYYY-MM-DD), kept as that string."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "expected a date YYYY-MM-DD"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = _iso_date(value)
        if text is None:
            raise self.make_error("invalid")
        return text


class IsoDateTime(_Messages, fields.Field):
    """An ISO-8601 datetime, kept as an ISO string in +08:00 (no offset = Shanghai time)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected an ISO-8601 datetime such as 2024-06-11T16:42:07+08:00",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = _iso_datetime(value)
        if text is None:
            raise self.make_error("invalid")
        return text


class Moment(_Messages, fields.Field):
    """A bound of a validity period: an ISO date or an ISO datetime (§7.2 effective_from/to)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected an ISO date (YYYY-MM-DD) or datetime",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = _iso_date(value) or _iso_datetime(value)
        if text is None:
            raise self.make_error("invalid")
        return text


class ClockTime(_Messages, fields.Field):
    """A time of day "HH:MM" (24 h); "24:00" only where `end_of_day` allows it."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "expected a time HH:MM"}

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if _HHMM.fullmatch(value) or (self.end_of_day and value == "24:00"):
            return value
        raise self.make_error("invalid")


def _json_text(value: Any, field: fields.Field, kind: type) -> Any:
    """CSV cells hold lists and objects as JSON text; decode them (and only them) here."""
    if isinstance(value, str | bytes):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise field.make_error("json") from None
    if not isinstance(value, kind):
        raise field.make_error("invalid")
    return value


class JSONList(_Messages, fields.List):
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected a list",
        "json": 'expected a list as JSON text, e.g. ["a", "b"]',
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        return super()._deserialize(_json_text(value, self, list), attr, data, **kwargs)


class JSONDict(_Messages, fields.Dict):
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected an object",
        "json": 'expected an object as JSON text, e.g. {"1": 200}',
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        return super()._deserialize(_json_text(value, self, dict), attr, data, **kwargs)


class ServiceHours(_Messages, fields.Field):
    """mon…sun → list of ["HH:MM", "HH:MM"] (from inclusive, to exclusive); no day = closed."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": 'expected an object such as {"mon": [["08:30", "12:00"], ["13:00", "17:30"]]}',
        "json": "expected the service hours as JSON text",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        hours = _json_text(value, self, dict)
        errors: dict[str, str] = {}
        cleaned: dict[str, list[list[str]]] = {}
        for day, intervals in hours.items():
            if day not in WEEKDAYS:
                errors[str(day)] = f"unknown day; use {', '.join(WEEKDAYS)}"
                continue
            try:
                cleaned[day] = _intervals(intervals)
            except ValueError as exc:
                errors[day] = str(exc)
        if errors:
            raise ValidationError(errors)
        return {day: cleaned[day] for day in WEEKDAYS if day in cleaned}


def _intervals(value: Any) -> list[list[str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError('expected a list of ["HH:MM", "HH:MM"]')
    result = []
    for pair in value:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) for t in pair)
        ):
            raise ValueError(f'{pair!r}: expected ["HH:MM", "HH:MM"]')
        start, end = pair
        if not _HHMM.fullmatch(start) or not (_HHMM.fullmatch(end) or end == "24:00"):
            raise ValueError(f"{pair!r}: expected times HH:MM")
        if end <= start and end != "00:00":
            raise ValueError(f"{pair!r}: ends before it starts; list the part after midnight "
                             "under the next day")  # fmt: skip
        result.append([start, "24:00" if end == "00:00" else end])
    result.sort()
    for (_, end), (start, _) in pairwise(result):
        if start < end:
            raise ValueError(f"intervals overlap at {start}")
    return result


class Cidr(Text):
    default_error_messages: ClassVar[dict[str, str]] = {
        "cidr": "expected an IP network such as 10.52.1.0/24",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise self.make_error("cidr") from None


class Pattern(Text):
    default_error_messages: ClassVar[dict[str, str]] = {
        "regex": "not a valid regular expression: {error}"
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            re.compile(text)
        except re.error as exc:
            raise self.make_error("regex", error=exc) from None
        return text


def _one_of(*choices: Any) -> validate.OneOf:
    return validate.OneOf(choices, error="must be one of: {choices}")


def _matches(regex: str, what: str) -> validate.Regexp:
    return validate.Regexp(rf"(?:{regex})\Z", error=f"expected {what}")


def _opt(field_class: type[fields.Field], *args: Any, **kwargs: Any) -> fields.Field:
    """An optional field: null when missing, so NDJSON and CSV rows load to the same keys."""
    return field_class(*args, load_default=None, **kwargs)


def _texts(**kwargs: Any) -> fields.Field:
    return _opt(JSONList, Text(allow_none=False), **kwargs)


# --- row schemas --------------------------------------------------------------------------------


class RowSchema(Schema):
    """A row of a reference dataset; unknown columns are accepted and kept."""

    class Meta:
        unknown = INCLUDE

    @pre_load
    def _normalise_cells(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {key: _cell(value) for key, value in data.items()}

    @validates_schema
    def _extra_period_bounds(self, data: dict[str, Any], **kwargs: Any) -> None:
        # ReferenceIndex honours effective_from/to on any dataset, so an extra column of that name
        # must be a valid bound too (in versioned datasets these are declared fields).
        if isinstance(self, Versioned):
            return
        for name in ("effective_from", "effective_to"):
            value = data.get(name)
            if value is not None and (_iso_date(value) or _iso_datetime(value)) is None:
                raise ValidationError("expected an ISO date (YYYY-MM-DD) or datetime", name)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class Versioned(RowSchema):
    """Rows valid from effective_from (inclusive) to effective_to (exclusive); null = open."""

    effective_from = _opt(Moment)
    effective_to = _opt(Moment)

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("effective_from"), data.get("effective_to")
        if (
            start
            and end
            and as_instant(end, default=_FAR_PAST) <= as_instant(start, default=_FAR_PAST)
        ):
            raise ValidationError("must be after effective_from", "effective_to")


class UnitSchema(RowSchema):
    unit_code = Text(required=True)
    parent_code = _opt(Text)
    level = Text(
        required=True, validate=_one_of("province", "detachment", "brigade", "station", "window")
    )
    name = Text(required=True)
    province_code = _opt(Text, validate=_matches(r"\d{2}", "2 digits"))
    calendar_id = _opt(Text)
    service_hours = _opt(ServiceHours)
    head_staff_ids = _texts()
    discipline_contact_ids = _texts()
    jurisdiction_area_codes = _texts()  # §0.5 item 10, optional (STF-12)
    lat = _opt(Number, validate=validate.Range(-90, 90, error="must be between -90 and 90"))
    lon = _opt(Number, validate=validate.Range(-180, 180, error="must be between -180 and 180"))

    @validates_schema
    def _not_own_parent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("parent_code") and data["parent_code"] == data.get("unit_code"):
            raise ValidationError("a unit cannot be its own parent", "parent_code")


class CertificateSchema(RowSchema):
    kind = Text(
        required=True,
        validate=_one_of("law_enforcement", "examiner", "inspector", "police_inspector"),
    )
    valid_to = _opt(IsoDate)


class StaffSchema(Versioned):
    staff_id = Text(required=True)
    id_no = _opt(Text)
    name = _opt(Text)
    staff_kind = Text(required=True, validate=_one_of("police", "auxiliary", "contractor"))
    unit_code = Text(required=True)
    position = _opt(Text, validate=_one_of(
        "brigade_head", "deputy_brigade_head", "detachment_head", "deputy_detachment_head",
        "province_head", "deputy_province_head", "inspector_discipline", "legal_reviewer",
        "supervision_post", "window_officer", "examiner", "vehicle_inspector", "other",
    ))  # fmt: skip
    status = Text(required=True, validate=_one_of(
        "active", "leave", "suspended", "transferred_out", "resigned", "retired",
    ))  # fmt: skip
    certificates = _opt(JSONList, fields.Nested(CertificateSchema))
    cert_serials = _texts()
    notify = _texts()


class DutyRosterSchema(RowSchema):
    staff_id = Text(required=True)
    date = IsoDate(required=True)
    shift_start = _opt(ClockTime)
    shift_end = _opt(ClockTime, end_of_day=True)
    unit_code = _opt(Text)
    leave_type = _opt(Text, validate=_one_of("annual", "sick", "personal", "training", "other"))

    @validates_schema
    def _shift_or_leave(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("shift_start"), data.get("shift_end")
        if (start is None) != (end is None):
            raise ValidationError(
                "give both shift_start and shift_end", "shift_end" if start else "shift_start"
            )
        if start is None and data.get("leave_type") is None:
            raise ValidationError(
                "a row is a shift (shift_start/shift_end) or a leave", "leave_type"
            )


class RelationSchema(RowSchema):
    staff_id = Text(required=True)
    related_id_no = Text(required=True)
    relation = Text(required=True, validate=_one_of(
        "spouse", "parent", "child", "sibling", "parent_in_law", "child_in_law", "household",
        "declared_other",
    ))  # fmt: skip


class StaffAssetSchema(RowSchema):
    staff_id = Text(required=True)
    kind = Text(required=True, validate=_one_of("plate", "vin", "license"))
    value = Text(required=True)


class TerminalSchema(RowSchema):
    terminal_id = Text(required=True)
    window_id = _opt(Text)
    unit_code = Text(required=True)
    site_id = _opt(Text)
    kind = Text(required=True, validate=_one_of(
        "window", "kiosk", "pda", "exam_seat", "exam_vehicle", "backend",
    ))  # fmt: skip
    ip_ranges = _opt(JSONList, Cidr(allow_none=False))
    assigned_staff_ids = _texts()


class BusinessTypeSchema(RowSchema):
    business_type = Text(
        required=True, validate=_matches(r"[A-Z][A-Z0-9_]*", "a code such as VEH_REG_NEW")
    )
    police_only_actions = _opt(JSONList, Text(allow_none=False, validate=_one_of(*ACTIONS)))
    required_evidence = _opt(JSONList, Text(allow_none=False, validate=_one_of(*EVIDENCE_KINDS)))
    needs_inspection = _opt(Bool)
    police_inspection_vehicle_types = _opt(
        JSONList,
        Text(
            allow_none=False, validate=_matches(r"[A-Z][0-9A-Z]{2}", "a GA/T 16.4 code such as K11")
        ),
    )
    four_eyes = _opt(Bool)
    sla_days = _opt(Number, validate=validate.Range(min=0, error="may not be negative"))
    day_basis = _opt(Text, validate=_one_of("working", "calendar"))
    blocking_statuses = _opt(
        JSONList, Text(allow_none=False, validate=_matches(r"[A-Z]", "one status letter"))
    )
    commercial_use_natures = _texts()
    archive_items = _texts()


class ViolationCodeSchema(Versioned):
    violation_code = Text(
        required=True, validate=_matches(r"[0-9A-Z]{4,8}", "a violation code such as 16250")
    )
    description = Text(required=True)
    points = Number(required=True, whole=True, validate=validate.OneOf(
        STATUTORY_POINTS, error="statutory points are 12, 9, 6, 3, 1 or 0 (2 before 2022-04-01)"
    ))  # fmt: skip
    # required but nullable: a fine fixed by formula (e.g. twice the insurance premium) has no range
    fine_min = Number(
        required=True, allow_none=True, validate=validate.Range(min=0, error="may not be negative")
    )
    fine_max = Number(
        required=True, allow_none=True, validate=validate.Range(min=0, error="may not be negative")
    )
    local_standard_fine = _opt(Number, validate=validate.Range(min=0, error="may not be negative"))
    fixed_amounts = _opt(JSONList, Number(allow_none=False))
    warning_allowed = _opt(Bool)
    penalty_extra = _opt(JSONList, Text(allow_none=False, validate=_one_of(*PENALTY_EXTRAS)))
    online_processable = _opt(Bool)
    vehicle_classes = _texts()
    categories = _opt(  # §0.5 item 10, optional; an open list (drink_driving, fake_plate, …)
        JSONList, Text(allow_none=False, validate=_matches(_SNAKE.pattern, "a snake_case category"))
    )

    @validates_schema
    def _amounts(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("fine_min"), data.get("fine_max")
        if low is not None and high is not None and low > high:
            raise ValidationError(f"must not be below fine_min ({low})", "fine_max")
        amounts = [("local_standard_fine", data.get("local_standard_fine"))]
        amounts += [("fixed_amounts", a) for a in data.get("fixed_amounts") or ()]
        for name, amount in amounts:
            if amount is None:
                continue
            if (low is not None and amount < low) or (high is not None and amount > high):
                raise ValidationError(f"{amount} is outside fine_min..fine_max", name)


class CalendarSchema(RowSchema):
    # null or missing = the default calendar (auditcage.calendar); stored as "default" so it keys
    calendar_id = _opt(Text)
    date = IsoDate(required=True)
    kind = Text(required=True, validate=_one_of("holiday", "workday"))

    @post_load
    def _default_calendar(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["calendar_id"] = data.get("calendar_id") or "default"
        return data


class AgentSchema(RowSchema):
    org_code = Text(required=True)
    kind = Text(required=True, validate=_one_of(
        "dealer", "used_car_market", "registration_station", "fleet", "driving_school", "agency",
    ))  # fmt: skip
    name = _opt(Text)
    authorised_agent_id_nos = _texts()
    registered_drivers = _texts()
    registered_plates = _texts()
    blacklisted = _opt(Bool)


class SessionSchema(RowSchema):
    weekday = Number(
        required=True, whole=True, validate=validate.Range(1, 7, error="must be 1 (Monday) to 7")
    )
    start = ClockTime(required=True)
    end = ClockTime(required=True, end_of_day=True)


class RouteSchema(RowSchema):
    route_id = Text(required=True)
    distance_km = Number(required=True, validate=validate.Range(min=0, error="may not be negative"))


class ExamVenueSchema(RowSchema):
    venue_id = Text(required=True)
    unit_code = _opt(Text)
    judging = _opt(Text, validate=_one_of("electronic", "manual", "mixed"))
    capacity_per_day = _opt(
        JSONDict,
        keys=Text(validate=_one_of("1", "2", "3", "4")),
        values=Number(
            whole=True,
            allow_none=False,
            validate=validate.Range(min=0, error="may not be negative"),
        ),
    )
    sessions = _opt(JSONList, fields.Nested(SessionSchema))
    routes = _opt(JSONList, fields.Nested(RouteSchema))
    examiner_ids = _texts()


class SchoolAffiliationSchema(RowSchema):
    id_no = Text(required=True)
    driving_school_code = Text(required=True)
    role = Text(required=True, validate=_one_of("instructor", "owner", "staff"))


class InspectionSiteSchema(RowSchema):
    site_id = Text(required=True)
    unit_code = _opt(Text)
    kind = _opt(Text)
    lat = _opt(Number, validate=validate.Range(-90, 90, error="must be between -90 and 90"))
    lon = _opt(Number, validate=validate.Range(-180, 180, error="must be between -180 and 180"))
    radius_m = _opt(Number, validate=validate.Range(min=0, error="may not be negative"))
    pda_ids = _texts()


class VehicleSchema(Versioned):
    vin = Text(required=True)
    plate_no = _opt(Text)
    plate_type = _opt(Text)
    owner_id_no = _opt(Text)
    vehicle_type = _opt(Text)
    use_nature = _opt(Text)
    status = _opt(
        Text, validate=_matches(_LETTERS.pattern, "GA/T 16.17 status letters such as A or GK")
    )
    mortgage_active = _opt(Bool)
    seizure_active = _opt(Bool)
    stolen_flag = _opt(Bool)
    first_reg_date = _opt(IsoDate)
    registering_unit = _opt(Text)


class LicenceSchema(Versioned):
    license_no = Text(required=True)
    holder_id_no = _opt(Text)
    holder_birth_date = _opt(IsoDate)
    license_class = _opt(
        Text, validate=_matches(r"(?:[A-Z][0-9]?)+", "licence classes such as C1 or A2D")
    )
    status = _opt(Text, validate=_matches(_LETTERS.pattern, "status letters such as A or HD"))
    first_issue_date = _opt(IsoDate)
    cycle_start = _opt(IsoDate)
    cycle_end = _opt(IsoDate)
    points = _opt(Number, whole=True, validate=validate.Range(min=0, error="may not be negative"))
    issuing_province = _opt(Text, validate=_matches(r"\d{2}", "2 digits"))
    detained = _opt(Bool)


class LicenceClassSchema(RowSchema):
    license_class = Text(
        required=True, validate=_matches(r"[A-Z][0-9]?", "a licence class such as C1")
    )
    vehicle_types = _opt(JSONList, Text(allow_none=False))


class BankLedgerSchema(RowSchema):
    bank_txn_id = Text(required=True)
    decision_no = Text(required=True)
    amount = Number(required=True)
    paid_on = _opt(IsoDate)


class DocumentStockSchema(RowSchema):
    document_kind = Text(required=True, validate=_one_of(*DOCUMENT_KINDS))
    number_from = Text(required=True, validate=_matches(r"\d+", "digits"))
    number_to = Text(required=True, validate=_matches(r"\d+", "digits"))
    staff_id = Text(required=True)
    issued_on = _opt(IsoDate)

    @validates_schema
    def _range(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data["number_from"], data["number_to"]
        if len(low) != len(high):
            raise ValidationError("must have as many digits as number_from", "number_to")
        if high < low:
            raise ValidationError("must not be below number_from", "number_to")


class ParkingLedgerSchema(RowSchema):
    plate_no = Text(required=True)
    lot_id = Text(required=True)
    in_at = IsoDateTime(required=True)
    out_at = _opt(IsoDateTime)
    released_by = _opt(Text)

    @validates_schema
    def _order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("out_at") and _before(data["out_at"], data["in_at"]):
            raise ValidationError("must not be before in_at", "out_at")


class InspectionReportSchema(RowSchema):
    report_no = Text(required=True)
    vin = Text(required=True)
    plate_no = _opt(Text)
    owner_id_no = _opt(Text)
    insurance_valid_to = _opt(IsoDate)
    result = Text(required=True, validate=_one_of("pass", "fail"))
    inspected_at = IsoDateTime(required=True)


class BodycamClipSchema(RowSchema):
    clip_id = Text(required=True)
    device_id = _opt(Text)
    staff_id = Text(required=True)
    started_at = IsoDateTime(required=True)
    ended_at = IsoDateTime(required=True)
    uploaded_at = _opt(IsoDateTime)
    retention_class = _opt(Text, validate=_one_of("normal", "evidence", "major"))
    deleted_at = _opt(IsoDateTime)

    @validates_schema
    def _order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if _before(data["ended_at"], data["started_at"]):
            raise ValidationError("must not be before started_at", "ended_at")


class WatchlistSchema(RowSchema):
    kind = Text(required=True, validate=_one_of(
        "protected_person", "broker_phone", "broker_ip", "broker_account", "broker_id_no",
    ))  # fmt: skip
    value = Text(required=True)
    note = _opt(Text)


class AppraisalAgencySchema(RowSchema):
    agency_id = Text(required=True)
    name = _opt(Text)
    region_unit_code = _opt(Text)
    qualified = _opt(Bool)


class PremiumPlatePatternSchema(RowSchema):
    pattern = Pattern(required=True)  # searched (re.search) in the plate's serial part
    note = _opt(Text)


def _before(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) < datetime.fromisoformat(b)


SCHEMAS: dict[str, type[RowSchema]] = {
    "units": UnitSchema,
    "staff": StaffSchema,
    "duty_roster": DutyRosterSchema,
    "relations": RelationSchema,
    "staff_assets": StaffAssetSchema,
    "terminals": TerminalSchema,
    "business_types": BusinessTypeSchema,
    "violation_codes": ViolationCodeSchema,
    "calendar": CalendarSchema,
    "agents": AgentSchema,
    "exam_venues": ExamVenueSchema,
    "school_affiliations": SchoolAffiliationSchema,
    "inspection_sites": InspectionSiteSchema,
    "vehicles": VehicleSchema,
    "licences": LicenceSchema,
    "licence_classes": LicenceClassSchema,
    "bank_ledger": BankLedgerSchema,
    "document_stock": DocumentStockSchema,
    "parking_ledger": ParkingLedgerSchema,
    "inspection_reports": InspectionReportSchema,
    "bodycam_index": BodycamClipSchema,
    "watchlist": WatchlistSchema,
    "appraisal_agencies": AppraisalAgencySchema,
    "premium_plate_patterns": PremiumPlatePatternSchema,
}

# Datasets whose key names one thing: a second row with the same key is a mistake. (In the
# others several rows may share a key: shifts of a day, relations of a person, versions.)
UNIQUE_KEY_DATASETS = frozenset({
    "units", "terminals", "business_types", "calendar", "agents", "exam_venues",
    "inspection_sites", "licence_classes", "appraisal_agencies", "premium_plate_patterns",
})  # fmt: skip


# --- problems and the checks that span rows -----------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why one row (line `line` of its file; header = line 1 in CSV) cannot be loaded."""

    dataset: str
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.dataset} line {self.line}"
        return f"{where}, {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


def problems_of(dataset: str, line: int, error: ValidationError) -> list[Problem]:
    return [Problem(dataset, line, name, reason) for name, reason in _flatten(error.messages)]


def _flatten(messages: Any, prefix: str | None = None) -> Iterator[tuple[str | None, str]]:
    """marshmallow's nested messages as (dotted field path, reason) pairs."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = None if key == "_schema" else str(key)
            path = ".".join(p for p in (prefix, name) if p) or None
            yield from _flatten(value, path)
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from _flatten(message, prefix)
    else:
        yield prefix, str(messages)


def check_rows(spec: Dataset, rows: Sequence[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """Problems that only the whole dataset shows: duplicate keys, a broken unit tree."""
    problems: list[Problem] = []
    if spec.name in UNIQUE_KEY_DATASETS:
        first: dict[str, int] = {}
        for line, row in rows:
            key = key_of(spec, row)
            if key in first:
                problems.append(
                    Problem(
                        spec.name,
                        line,
                        "+".join(spec.key),
                        f"{key!r} is already on line {first[key]}",
                    )
                )
            elif key is not None:
                first[key] = line
    if spec.name == "units":
        problems += _unit_tree_problems(rows)
    return problems


def _unit_tree_problems(rows: Sequence[tuple[int, dict[str, Any]]]) -> list[Problem]:
    parent = {row["unit_code"]: row.get("parent_code") for _, row in rows}
    problems = []
    for line, row in rows:
        code, up = row["unit_code"], row.get("parent_code")
        if up is not None and up not in parent:
            problems.append(Problem("units", line, "parent_code", f"unknown unit {up!r}"))
            continue
        seen = {code}
        while up is not None and up in parent:
            if up in seen:
                problems.append(Problem("units", line, "parent_code", "the unit tree has a cycle"))
                break
            seen.add(up)
            up = parent[up]
    return problems
