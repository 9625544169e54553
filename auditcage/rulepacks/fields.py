"""The field registry: every name a condition may read, with its type (catalogue §1, enrich.py).

Built once, by introspecting `RECORD_SCHEMA` and its nested block schemas, plus the derived
fields of `records/enrich.py` (`DERIVED_TYPES` below, kept in sync with enrich's docstring; a
test compares it with what `Enricher.enrich` returns).

Types: ``string number bool datetime date duration object list``, and two the checker needs
besides: ``any`` (a value the contract leaves untyped: the members of `before`/`after`, of the
R12 master rows, `Raw` fields; compared at run time, a mismatch is simply false) and ``null``
(the literal). A list's `item` describes its elements; an object's `members` its fields.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from marshmallow import fields as mfields

from auditcage.records import fields as rf
from auditcage.records.schemas import RECORD_SCHEMA

STRING, NUMBER, BOOL, DATETIME, DATE = "string", "number", "bool", "datetime", "date"
DURATION, OBJECT, LIST, ANY, NULL = "duration", "object", "list", "any", "null"
SCALARS: Final = frozenset({STRING, NUMBER, BOOL, DATETIME, DATE, DURATION})


@dataclass(frozen=True, eq=False)
class FieldInfo:
    """A field (or, with an empty path, a computed value) and its type."""

    path: str
    type: str
    enum_values: tuple[Any, ...] | None = None
    item: FieldInfo | None = None  # list: its elements
    members: Mapping[str, FieldInfo] | None = field(default=None, repr=False)  # object
    source: str = "record"  # "record" | "derived" | "computed"

    def member(self, name: str) -> FieldInfo | None:
        """The member `name` of an object; an untyped object (`any`) has untyped members."""
        if self.members is not None:
            return self.members.get(name)
        if self.type in (OBJECT, ANY):
            prefix = f"{self.path}." if self.path else ""
            return FieldInfo(prefix + name, ANY, source=self.source)
        return None


def computed(type_: str, item: FieldInfo | None = None) -> FieldInfo:
    return FieldInfo("", type_, item=item, source="computed")


# enrich.py's table, field by field ("list/None" means a list of strings).
DERIVED_TYPES: Final[Mapping[str, str]] = {
    "hour": NUMBER,
    "minute": NUMBER,
    "weekday": NUMBER,
    "date": STRING,
    "month": STRING,
    "workday": BOOL,
    "statutory_holiday": BOOL,
    "adjusted_workday": BOOL,
    "calendar_known": BOOL,
    "within_service_hours": BOOL,
    "on_duty": BOOL,
    "on_leave": BOOL,
    "leave_type": STRING,
    "duty_unit_code": STRING,
    "operator_is_system": BOOL,
    "operator_known": BOOL,
    "operator_staff_kind": STRING,
    "operator_position": STRING,
    "operator_status": STRING,
    "operator_unit_code": STRING,
    "operator_id_no": STRING,
    "operator_certificates": LIST,
    "operator_cert_serials": LIST,
    "operator_cert_serial_known": BOOL,
    "reviewer_staff_kind": STRING,
    "reviewer_id_no": STRING,
    "approver_staff_kind": STRING,
    "approver_position": STRING,
    "approver_id_no": STRING,
    "unit_known": BOOL,
    "unit_level": STRING,
    "unit_parent_code": STRING,
    "unit_province_code": STRING,
    "unit_calendar_id": STRING,
    "unit_ancestors": LIST,
    "unit_detachment": STRING,
    "unit_brigade": STRING,
    "operator_unit_is_ancestor_or_equal": BOOL,
    "vio_code_known": BOOL,
    "vio_statutory_points": NUMBER,
    "vio_fine_min": NUMBER,
    "vio_fine_max": NUMBER,
    "vio_local_standard_fine": NUMBER,
    "vio_warning_allowed": BOOL,
    "vio_categories": LIST,
    "vehicle_master": OBJECT,
    "licence_master": OBJECT,
    "licence_points_before": NUMBER,
    "terminal_known": BOOL,
    "terminal_window_id": STRING,
    "terminal_kind": STRING,
    "terminal_unit_code": STRING,
    "terminal_assigned_staff_ids": LIST,
    "operator_assigned_to_terminal": BOOL,
    "business_four_eyes": BOOL,
    "business_needs_inspection": BOOL,
    "business_sla_days": NUMBER,
    "business_day_basis": STRING,
    "business_police_only_actions": LIST,
}


def _from_marshmallow(path: str, mf: mfields.Field, source: str) -> FieldInfo:
    """The FieldInfo of one marshmallow field of the record contract."""
    if isinstance(mf, rf.Choice):
        return FieldInfo(path, STRING, enum_values=mf.values, source=source)
    if isinstance(mf, rf.IntChoice):
        return FieldInfo(path, NUMBER, enum_values=mf.values, source=source)
    simple = (
        (rf.Text, STRING),  # Letters and Choice are Text too; Choice is handled above
        (rf.Integer, NUMBER),
        (rf.Number, NUMBER),
        (rf.Flag, BOOL),
        (rf.Timestamp, DATETIME),
        (rf.Day, DATE),
        (rf.Object, OBJECT),
    )
    for cls, type_ in simple:
        if isinstance(mf, cls):
            return FieldInfo(path, type_, source=source)
    if isinstance(mf, rf.Block):
        return _object(path, mf.schema.fields, source)
    if isinstance(mf, rf.Items):
        item = _from_marshmallow("item", mf.inner, source)
        return FieldInfo(path, LIST, item=item, source=source)
    return FieldInfo(path, ANY, source=source)  # Raw: whatever came


def _object(path: str, schema_fields: Mapping[str, mfields.Field], source: str) -> FieldInfo:
    prefix = f"{path}." if path else ""
    members = {
        name: _from_marshmallow(prefix + name, mf, source) for name, mf in schema_fields.items()
    }
    return FieldInfo(path, OBJECT, members=members, source=source)


def _walk(info: FieldInfo) -> Iterator[FieldInfo]:
    """The field and every field nested in it (not inside lists)."""
    yield info
    for member in (info.members or {}).values():
        yield from _walk(member)


class FieldRegistry:
    """Every dotted record path (lists' elements excluded) and every derived field."""

    def __init__(self) -> None:
        self.record = _object("", RECORD_SCHEMA.fields, "record")
        derived_members = {
            name: FieldInfo(
                name,
                type_,
                item=FieldInfo("item", STRING, source="derived") if type_ == LIST else None,
                source="derived",
            )
            for name, type_ in DERIVED_TYPES.items()
        }
        self.derived = FieldInfo("", OBJECT, members=derived_members, source="derived")
        self.paths: dict[str, FieldInfo] = {}
        for top in (*self.record.members.values(), *derived_members.values()):  # type: ignore[union-attr]
            for info in _walk(top):
                self.paths.setdefault(info.path, info)

    def top(self, name: str) -> FieldInfo | None:
        """A top-level name: a record field first, else a derived field."""
        return self.record.member(name) or self.derived.member(name)

    def suggest(self, name: str, candidates: list[str] | None = None) -> str | None:
        """The closest known path to a misspelt one ("handle_hour" → "hour"), or None."""
        pool = candidates if candidates is not None else list(self.paths)
        found = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
        if not found:
            # "handle_hour": a known name that is a whole underscore part of the unknown one
            inside = [p for p in pool if len(p) > 2 and p in name.replace(".", "_").split("_")]
            found = sorted(inside, key=len, reverse=True)[:1]
        if not found and "." in name:
            leaf = name.rsplit(".", 1)[1]
            found = difflib.get_close_matches(leaf, pool, n=1, cutoff=0.75)
        return found[0] if found else None


REGISTRY: Final = FieldRegistry()


def suggest(name: str) -> str | None:
    """ "did you mean …?" for an unknown field name."""
    return REGISTRY.suggest(name)


def suggest_value(value: str, allowed: tuple[Any, ...]) -> str | None:
    texts = [str(v) for v in allowed]
    found = difflib.get_close_matches(value, texts, n=1, cutoff=0.5)
    return found[0] if found else None


def reference_fields(dataset: str) -> dict[str, FieldInfo]:
    """The fields of a reference dataset's rows, typed from its marshmallow schema (§7.2): what
    rows() items and ledger rules may name."""
    from auditcage.reference.schemas import SCHEMAS

    return {
        name: FieldInfo(name, _reference_type(declared), source="computed")
        for name, declared in SCHEMAS[dataset]().fields.items()
    }


def _reference_type(declared: Any) -> str:
    kind = type(declared).__name__
    for marker, type_ in (
        ("DateTime", DATETIME),
        ("Date", DATE),
        ("Bool", BOOL),
        ("Number", NUMBER),
        ("Integer", NUMBER),
        ("Float", NUMBER),
        ("List", LIST),
    ):
        if marker in kind:
            return type_
    return STRING if "Text" in kind or "String" in kind else ANY
