"""The record contract (catalogue §1.2, §1.7) under generated records: a record varied within the
contract is accepted; one field broken is a rejection naming that field; nothing raises."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from auditcage import clock
from auditcage.records import enums as e
from auditcage.records.schemas import RECORD_ID_MAX, SERIAL_NO_MAX, CommonRecordSchema
from auditcage.records.validation import REQUIRED_FIELDS, validate_record
from tests.builders import DELETE, make_record

SERVICES = ("vehicle", "license", "accident", "violation")
NOW = datetime(2024, 6, 20, 12, 0, tzinfo=clock.SHANGHAI)  # after every builder's action_time
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d:\d\d")
DECLARED = frozenset(CommonRecordSchema().fields)

# Text the contract takes anywhere it asks for a string: printable, not blank.
TEXT = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=1)
NOT_BLANK = TEXT.filter(lambda s: s.strip() != "")
# Any JSON but NUL (U+0000), in keys and values alike: a record carrying it is quarantined
# (records.nul), as tests/records/test_intake.py pins down.
ANY_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(ANY_TEXT, max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(ANY_TEXT, max_size=5), inner)
    ),
    max_leaves=8,
)


def _shift_times(value: Any, by: timedelta) -> Any:
    """Every timestamp of the record moved by `by`: the order between them is kept."""
    if isinstance(value, dict):
        return {k: _shift_times(v, by) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_times(v, by) for v in value]
    if isinstance(value, str) and ISO_TIME.fullmatch(value):
        return (datetime.fromisoformat(value) + by).isoformat()
    return value


# --- valid records ------------------------------------------------------------------------------

VARIATIONS: dict[str, st.SearchStrategy[Any]] = {
    "record_id": NOT_BLANK.filter(lambda s: len(s) <= RECORD_ID_MAX),
    "serial_no": NOT_BLANK.filter(lambda s: len(s) <= SERIAL_NO_MAX),
    "schema_version": st.integers(0, 99).map(lambda n: f"1.{n}"),
    "source_system": st.from_regex(e.SOURCE_SYSTEM_PATTERN, fullmatch=True),
    "operator_id": NOT_BLANK,
    "unit_code": NOT_BLANK,
    "evidence_count": st.integers(0, 10**6),
    "subject_name": TEXT | st.none(),
    "reason_text": TEXT | st.none(),
    "window_id": TEXT,
    "operator_cert_serial": TEXT | st.none(),
    "bodycam_refs": st.lists(TEXT, max_size=3),
    # an extra field the contract does not declare is kept as it came
    "x_extra": JSON,
}


@st.composite
def valid_records(draw: st.DrawFn) -> dict[str, Any]:
    service = draw(st.sampled_from(SERVICES))
    changes = draw(st.dictionaries(st.sampled_from(sorted(VARIATIONS)), st.none(), max_size=6))
    overrides = {name: draw(VARIATIONS[name]) for name in changes}
    record = make_record(service, **overrides)
    # anything from ten years back to now, every timestamp moved together
    back = draw(st.integers(0, 3650 * 24 * 60))
    return _shift_times(record, -timedelta(minutes=back))


@given(valid_records())
def test_a_record_varied_within_the_contract_is_accepted(raw: dict[str, Any]) -> None:
    result = validate_record(raw, now=NOW)
    assert result.rejections == ()
    assert result.record is not None and result.record["record_id"] == raw["record_id"]


# --- one field broken ---------------------------------------------------------------------------

ENUMS = {
    "service": e.Service,
    "action": e.Action,
    "channel": e.Channel,
    "operator_role": e.OperatorRole,
    "business_type": e.BUSINESS_TYPES,
}


def _unknown(values: Any) -> st.SearchStrategy[str]:
    known = {str(v) for v in values}
    return NOT_BLANK.filter(lambda s: s not in known)


BREAKS: dict[str, st.SearchStrategy[Any]] = {
    **{name: st.sampled_from([DELETE, None, "", "  "]) for name in REQUIRED_FIELDS},
    **{name: _unknown(values) for name, values in ENUMS.items()},
    "record_id": st.text(min_size=RECORD_ID_MAX + 1).filter(lambda s: s.strip() != ""),
    "serial_no": st.text(min_size=SERIAL_NO_MAX + 1).filter(lambda s: s.strip() != ""),
    "schema_version": st.sampled_from(["2.0", "1", "1.x", "v1.0", "10.1"]),
    "points": st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=13),
        st.floats(0.01, 11.99).filter(lambda f: not f.is_integer()),
        st.sampled_from(["three", [], {}]),
    ),
    "action_time": NOT_BLANK.filter(lambda s: not ISO_TIME.match(s)),
    "evidence_count": st.integers(max_value=-1),
    "violation": st.one_of(st.text(), st.integers(), st.lists(st.integers(), max_size=2)),
}


@given(
    service=st.sampled_from(SERVICES),
    broken=st.sampled_from(sorted(BREAKS)).flatmap(
        lambda name: st.tuples(st.just(name), BREAKS[name])
    ),
)
def test_a_record_with_one_field_broken_is_rejected_naming_that_field(
    service: str, broken: tuple[str, Any]
) -> None:
    name, value = broken
    if name == "violation" and service != "violation":
        service = "violation"  # the block of its own service
    result = validate_record(make_record(service, **{name: value}), now=NOW)
    assert result.record is None
    named = {p.field.split(".", 1)[0] for p in result.rejections}
    assert name in named, result.rejections


# --- anything at all ----------------------------------------------------------------------------


@given(
    service=st.sampled_from(SERVICES),
    changes=st.dictionaries(
        # undotted: the builder reads a dot as a path into the record
        st.sampled_from(sorted(DECLARED))
        | st.text(min_size=1, max_size=8).filter(lambda k: "." not in k),
        JSON | st.just(DELETE),
        max_size=5,
    ),
)
def test_any_value_in_any_field_is_judged_never_raised(
    service: str, changes: dict[str, Any]
) -> None:
    result = validate_record(make_record(service, **changes), now=NOW)
    assert (result.record is None) == bool(result.rejections)
    for problem in result.rejections + result.warnings:
        assert problem.reason and problem.code
        # a problem names the field it is about; only "not an object" is about the record
        assert problem.field or problem.code == "not_an_object"


@given(JSON)
def test_anything_but_an_object_is_one_rejection_of_the_whole(raw: Any) -> None:
    result = validate_record(raw, now=NOW)
    if isinstance(raw, dict):
        return
    assert [(p.field, p.code) for p in result.rejections] == [("", "not_an_object")]
