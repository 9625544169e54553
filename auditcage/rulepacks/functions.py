"""The whitelisted functions of the condition language, and the context they run in.

Every function receives an `EvalContext` (reference data, calendar, relatedness, and the record's
`action_time` and `unit_code`): no globals. Every function follows the null rule of §0.2 item 5:
a null argument (None, "" or []) gives null, or False for a test, unless its docstring says
otherwise. `any`, `all` and `count` are quantifiers: the compilers evaluate their condition once
per element (see `check.py`); their entry here carries arity, types and documentation only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from auditcage import clock
from auditcage.calendar import WorkCalendar
from auditcage.records.enrich import Relatedness
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.fields import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    LIST,
    NULL,
    NUMBER,
    OBJECT,
    STRING,
)

DEADLINE_UNITS: Final = ("working_days", "calendar_days", "hours", "working_hours")
# working_days_between counts day by day; beyond this span the answer is null, not a long loop.
MAX_WORKING_DAY_SPAN: Final = 366 * 20
ORDERED: Final = frozenset({NUMBER, STRING, DATETIME, DATE, DURATION})
# quantifiers over a value, not a condition
AGGREGATES: Final = frozenset({"max_of", "min_of", "sum_of"})


class EvalContext:
    """Reference data, calendar and relatedness, plus one record's `action_time` and unit."""

    __slots__ = ("_units", "action_time", "calendar", "ref", "relatedness", "unit_code")

    def __init__(
        self,
        ref: ReferenceIndex,
        calendar: WorkCalendar | None = None,
        relatedness: Relatedness | None = None,
        *,
        action_time: datetime | None = None,
        unit_code: str | None = None,
        _units: dict[str, tuple[Any, Any]] | None = None,
    ) -> None:
        self.ref = ref
        self.calendar = calendar if calendar is not None else WorkCalendar(ref)
        self.relatedness = relatedness if relatedness is not None else Relatedness(ref)
        self.action_time = action_time
        self.unit_code = unit_code
        self._units = _units if _units is not None else {}

    def for_record(self, action_time: datetime | None, unit_code: str | None) -> EvalContext:
        """The same services (and caches) as of one record."""
        return EvalContext(
            self.ref,
            self.calendar,
            self.relatedness,
            action_time=action_time,
            unit_code=unit_code,
            _units=self._units,
        )

    def unit_calendar(self) -> tuple[Any, Any]:
        """(calendar_id, service_hours) of the record's unit (R1), (None, None) if unknown."""
        code = self.unit_code or ""
        cached = self._units.get(code)
        if cached is None:
            row = self.ref.get("units", code) if code else None
            cached = (row.get("calendar_id"), row.get("service_hours")) if row else (None, None)
            self._units[code] = cached
        return cached


def is_null(value: Any) -> bool:
    """§0.2 item 5: None, "" and [] are null."""
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def contains_value(container: Any, value: Any) -> bool:
    """`value in container`: list membership or substring; False when either side is null."""
    if is_null(value) or is_null(container):
        return False
    if isinstance(container, str):
        return isinstance(value, str) and value in container
    if isinstance(container, list | tuple | set | frozenset):
        return any(value == item for item in container if not is_null(item))
    return False


# --- implementations -------------------------------------------------------------------------


def _related(ctx: EvalContext, a: Any, b: Any) -> bool:
    return ctx.relatedness(a, b, at=ctx.action_time)


def dig(value: Any, parts: tuple[str, ...] | list[str]) -> Any:
    """Follow a dotted path into nested objects; null where it stops.

    A correction's `before`/`after` may carry the changed fields under their dotted paths as
    single keys (`{"accident.deaths": 1}`, §1.2 "only the changed fields"): when a step is not
    a key, the rest of the path joined by dots is tried as one key, so both spellings read alike.
    """
    for n, part in enumerate(parts):
        if not isinstance(value, Mapping):
            return None
        if part in value:
            value = value[part]
            continue
        joined = ".".join(parts[n:])
        return value.get(joined) if n + 1 < len(parts) else None
    return value


def _matches_any(ctx: EvalContext, text: Any, dataset: str, field_name: str) -> bool:
    if is_null(text) or not isinstance(text, str):
        return False
    return any(p.search(text) for p in _patterns(ctx.ref, dataset, field_name))


_PATTERN_CACHE: dict[tuple[int, str, str], tuple[re.Pattern[str], ...]] = {}


def _patterns(ref: ReferenceIndex, dataset: str, field_name: str) -> tuple[re.Pattern[str], ...]:
    """The compiled expressions of a dataset's rows, once per ReferenceIndex (bad ones skipped:
    the reference schema refuses them on load)."""
    key = (id(ref), dataset, field_name)
    found = _PATTERN_CACHE.get(key)
    if found is None:
        compiled = []
        for row in ref.rows(dataset):
            try:
                compiled.append(re.compile(str(row.get(field_name))))
            except re.error:
                continue
        if len(_PATTERN_CACHE) > 64:
            _PATTERN_CACHE.clear()
        found = _PATTERN_CACHE[key] = tuple(compiled)
    return found


EARTH_RADIUS_KM: Final = 6371.0088  # mean radius (IUGG)


def _distance_km(ctx: EvalContext, lat_a: Any, lon_a: Any, lat_b: Any, lon_b: Any) -> Any:
    """Great-circle (haversine) distance in km between two WGS84/GCJ02 points; the datum shift
    (a few hundred metres) does not matter at the distances rules compare."""
    points = (lat_a, lon_a, lat_b, lon_b)
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in points):
        return None
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    d_phi, d_lambda = phi_b - phi_a, math.radians(lon_b - lon_a)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


_LEVEL_DEPTH: Final = {"province": 0, "detachment": 1, "brigade": 2, "station": 3, "window": 4}
_AREA_CACHE: dict[int, dict[str, str]] = {}


def _area_unit(ctx: EvalContext, code: Any) -> str | None:
    """The R1 unit whose optional jurisdiction_area_codes (§0.5 item 10) lists the area code; of
    several (a detachment and its brigade), the lowest level, then the smallest unit_code."""
    if is_null(code):
        return None
    index = _AREA_CACHE.get(id(ctx.ref))
    if index is None:
        best: dict[str, tuple[int, str]] = {}
        for row in ctx.ref.rows("units"):
            depth = -_LEVEL_DEPTH.get(str(row.get("level")), -1)
            for area in row.get("jurisdiction_area_codes") or ():
                candidate = (depth, str(row["unit_code"]))
                if str(area) not in best or candidate < best[str(area)]:
                    best[str(area)] = candidate
        if len(_AREA_CACHE) > 64:
            _AREA_CACHE.clear()
        index = _AREA_CACHE[id(ctx.ref)] = {area: unit for area, (_, unit) in best.items()}
    return index.get(str(code))


def _plate_serial(ctx: EvalContext, plate: Any) -> str | None:
    if is_null(plate) or not isinstance(plate, str) or len(plate) < 3:
        return None
    return plate[2:]


def _loaded(ctx: EvalContext, dataset: str) -> bool:
    return ctx.ref.loaded(dataset)


_RECORD_TIME: Final = object()  # lookup() without a time: as of the record's action_time


def _lookup(ctx: EvalContext, dataset: str, key: Any, name: str, at: Any = _RECORD_TIME) -> Any:
    keys = tuple(key) if isinstance(key, list | tuple) else (key,)
    if any(is_null(k) for k in keys):
        return None
    if at is _RECORD_TIME:
        at = ctx.action_time
    elif is_null(at):
        return None  # "as of" a time the record does not carry: no row, the rule stays silent
    row = ctx.ref.get(dataset, *keys, at=at)
    return row.get(name) if row else None


def _count_rows(ctx: EvalContext, dataset: str, name: str, value: Any, *more: Any) -> int:
    """Rows of `dataset` valid at action_time with `name` == value (and each further pair)."""
    if is_null(value):
        return 0
    rows = ctx.ref.where(dataset, name, value, at=ctx.action_time)
    pairs = list(zip(more[::2], more[1::2], strict=True))
    return sum(1 for row in rows if all(row.get(f) == v for f, v in pairs))


def _rows(ctx: EvalContext, dataset: str, name: str, value: Any) -> list[dict[str, Any]]:
    if is_null(value):
        return []
    return ctx.ref.where(dataset, name, value, at=ctx.action_time)


def _member(ctx: EvalContext, container: Any, key: Any) -> Any:
    """container[key] of an object (a mapping such as R10 capacity_per_day); a number key also
    finds its text spelling, since JSON object keys are text."""
    if not isinstance(container, Mapping) or is_null(key) or isinstance(key, bool):
        return None
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    if key in container:
        return container[key]
    return container.get(str(key))


def _len(ctx: EvalContext, value: Any) -> int:
    return 0 if value is None else len(value)


def _contains(ctx: EvalContext, container: Any, value: Any) -> bool:
    return contains_value(container, value)


def _startswith(ctx: EvalContext, text: Any, prefix: Any) -> bool:
    if is_null(text) or is_null(prefix) or not isinstance(text, str):
        return False
    return text.startswith(prefix)


def _matches(ctx: EvalContext, text: Any, pattern: str) -> bool:
    if is_null(text) or not isinstance(text, str):
        return False
    return re.fullmatch(pattern, text) is not None


def _coalesce(ctx: EvalContext, *values: Any) -> Any:
    return next((v for v in values if not is_null(v)), None)


def as_day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.to_shanghai(value).date()
    return value if isinstance(value, date) else None


def _date(ctx: EvalContext, value: Any) -> date | None:
    return as_day(value)


def _weekday(ctx: EvalContext, value: Any) -> int | None:
    day = as_day(value)
    return day.isoweekday() if day is not None else None


def _hhmm(ctx: EvalContext, value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    return clock.to_shanghai(value).strftime("%H:%M")


def _as_start(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return clock.to_shanghai(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=clock.SHANGHAI)
    return None


def _deadline(ctx: EvalContext, start: Any, amount: Any, unit: str) -> datetime | None:
    begin = _as_start(start)
    if begin is None or amount is None:
        return None
    calendar_id, service_hours = ctx.unit_calendar()
    try:
        return ctx.calendar.deadline(
            begin, amount, unit, calendar_id=calendar_id, service_hours=service_hours
        )  # type: ignore[arg-type]
    except ValueError:  # a negative or fractional day count
        return None


def _add_working_days(ctx: EvalContext, start: Any, n: Any) -> Any:
    day = as_day(start)
    if day is None or n is None or n < 0 or n != int(n):
        return None
    result = ctx.calendar.add_working_days(day, int(n), ctx.unit_calendar()[0])
    if isinstance(start, datetime):
        local = clock.to_shanghai(start)
        return local + timedelta(days=(result - day).days)
    return result


def _working_days_between(ctx: EvalContext, a: Any, b: Any) -> int | None:
    first, last = as_day(a), as_day(b)
    if first is None or last is None:
        return None
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    if (last - first).days > MAX_WORKING_DAY_SPAN:
        return None
    calendar_id = ctx.unit_calendar()[0]
    count = sum(
        1
        for offset in range(1, (last - first).days + 1)
        if ctx.calendar.is_workday(first + timedelta(days=offset), calendar_id)
    )
    return sign * count


def _days_between(ctx: EvalContext, a: Any, b: Any) -> int | None:
    first, last = as_day(a), as_day(b)
    return None if first is None or last is None else (last - first).days


def _hamming(ctx: EvalContext, a: Any, b: Any) -> int | None:
    if is_null(a) or is_null(b):
        return None
    try:
        return (int(str(a), 16) ^ int(str(b), 16)).bit_count()
    except ValueError:
        return None


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def extreme(ctx: EvalContext, *values: Any) -> Any:
        if len(values) == 1 and isinstance(values[0], list | tuple):
            values = tuple(values[0])
        present = [v for v in values if not is_null(v)]
        if not present:
            return None
        try:
            return pick(present)
        except TypeError:  # untyped values of different kinds
            return None

    return extreme


def _abs(ctx: EvalContext, value: Any) -> Any:
    return None if value is None else abs(value)


def _lower(ctx: EvalContext, value: Any) -> Any:
    return value.lower() if isinstance(value, str) else None


def _upper(ctx: EvalContext, value: Any) -> Any:
    return value.upper() if isinstance(value, str) else None


# --- the whitelist -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """One whitelisted function: arity, accepted argument types and its implementation.

    `params[i]` is the set of types position i accepts (the last entry repeats for variadic
    functions); `literal` lists positions that must be a string literal. `result` is a type, or
    "arg0" / "unify" / "item0" (the type of the first argument, of all arguments, of the first
    argument's elements).
    """

    name: str
    min_args: int
    max_args: int | None
    params: tuple[frozenset[str], ...]
    result: str
    impl: Callable[..., Any] | None
    doc: str
    literal: frozenset[int] = field(default_factory=frozenset)
    quantifier: bool = False


def _types(*names: str) -> frozenset[str]:
    return frozenset(names) | {ANY, NULL}


_TEXT = _types(STRING)
_TIME = _types(DATETIME, DATE)
_SCALAR = _types(STRING, NUMBER, BOOL, DATETIME, DATE, DURATION)
_ORDER = _types(*ORDERED)

FUNCTIONS: Final[Mapping[str, Function]] = {
    f.name: f
    for f in (
        Function(
            "related",
            2,
            2,
            (_TEXT, _TEXT),
            BOOL,
            _related,
            "related(a, b): same identity, an R4 relation or an R9 organisation and its "
            "registered driver (§0.2 item 8), as of action_time; null never relates",
        ),
        Function(
            "lookup",
            3,
            4,
            (_TEXT, _types(STRING, NUMBER, BOOL, DATE, LIST), _TEXT, _TIME),
            ANY,
            _lookup,
            'lookup("dataset", key, "field"[, at]): a field of the reference row valid at '
            "action_time, or at `at` (e.g. violation.violation_time); a compound key is a list "
            "[a, b]; null when there is no row",
            literal=frozenset({0, 2}),
        ),
        Function(
            "any",
            2,
            2,
            (_types(LIST), _types(BOOL)),
            BOOL,
            None,
            "any(list, cond): some element satisfies cond (item = the element); "
            "False on a null or empty list",
            quantifier=True,
        ),
        Function(
            "all",
            2,
            2,
            (_types(LIST), _types(BOOL)),
            BOOL,
            None,
            "all(list, cond): every element satisfies cond; False on a null or empty list "
            "(write `not any(list, not cond)` for the vacuously true reading)",
            quantifier=True,
        ),
        Function(
            "count",
            2,
            2,
            (_types(LIST), _types(BOOL)),
            NUMBER,
            None,
            "count(list, cond): how many elements satisfy cond; 0 on a null list",
            quantifier=True,
        ),
        Function(
            "max_of",
            2,
            2,
            (_types(LIST), _ORDER),
            "inner",
            None,
            "max_of(list, expr): the largest non-null value of expr over the elements (item = "
            "the element), e.g. max_of(accident.appraisals, item.confirmed_at); null if none",
            quantifier=True,
        ),
        Function(
            "min_of",
            2,
            2,
            (_types(LIST), _ORDER),
            "inner",
            None,
            "min_of(list, expr): the smallest non-null value of expr over the elements; null "
            "if none",
            quantifier=True,
        ),
        Function(
            "sum_of",
            2,
            2,
            (_types(LIST), _types(NUMBER)),
            NUMBER,
            None,
            "sum_of(list, expr): the sum of the non-null numbers expr gives over the elements "
            '(item = the element), e.g. sum_of(rows("bank_ledger", "decision_no", '
            "violation.decision.decision_no), item.amount); null if none",
            quantifier=True,
        ),
        Function(
            "len", 1, 1, (_types(LIST, STRING),), NUMBER, _len, "len(x): 0 for null", frozenset()
        ),
        Function(
            "contains",
            2,
            2,
            (_types(LIST, STRING), _SCALAR),
            BOOL,
            _contains,
            "contains(list_or_text, value): the same as `value in list_or_text`",
        ),
        Function("startswith", 2, 2, (_TEXT, _TEXT), BOOL, _startswith, "startswith(text, prefix)"),
        Function(
            "matches_any",
            3,
            3,
            (_TEXT, _TEXT, _TEXT),
            BOOL,
            _matches_any,
            'matches_any(text, "dataset", "field"): some reference row\'s regular expression '
            "(its `field`) is found in the text (re.search), e.g. a plate's serial against R16 "
            '`matches_any(plate_serial(plate_no), "premium_plate_patterns", "pattern")`',
            literal=frozenset({1, 2}),
        ),
        Function(
            "plate_serial",
            1,
            1,
            (_TEXT,),
            STRING,
            _plate_serial,
            "plate_serial(plate): the serial part of a plate, after the province character and "
            "the issuing letter (黔A12345 → 12345); null for a text shorter than 3",
        ),
        Function(
            "count_rows",
            3,
            5,
            (_TEXT, _SCALAR, _TEXT, _SCALAR),
            NUMBER,
            _count_rows,
            'count_rows("dataset", "field", value[, "field2", value2]): how many reference rows '
            "valid at action_time have field == value (and field2 == value2), e.g. the qualified "
            "R15 agencies of a region",
            literal=frozenset({0, 1, 3}),
        ),
        Function(
            "rows",
            3,
            3,
            (_TEXT, _TEXT, _SCALAR),
            LIST,
            _rows,
            'rows("dataset", "field", value): every reference row valid at action_time whose '
            "field equals value, as a list for any()/all()/count() (item.<field>), e.g. all "
            "R13 inspection reports of a VIN",
            literal=frozenset({0, 1}),
        ),
        Function(
            "member",
            2,
            2,
            (_types(OBJECT), _SCALAR),
            ANY,
            _member,
            "member(object, key): the member `key` of an object such as a reference field "
            'holding a mapping, e.g. member(lookup("exam_venues", license.exam.venue_id, '
            '"capacity_per_day"), license.exam.subject); null when absent',
        ),
        Function(
            "loaded",
            1,
            1,
            (_TEXT,),
            BOOL,
            _loaded,
            'loaded("dataset"): the reference dataset was loaded at all (§7.2: a missing file '
            'means no data of that kind), so a rule can tell "no row" from "no data"',
            literal=frozenset({0}),
        ),
        Function(
            "matches",
            2,
            2,
            (_TEXT, _TEXT),
            BOOL,
            _matches,
            'matches(text, "regex"): the whole text matches (Python re.fullmatch)',
            literal=frozenset({1}),
        ),
        Function(
            "coalesce",
            2,
            None,
            (_SCALAR | {LIST},),
            "unify",
            _coalesce,
            "coalesce(a, b, ...): the first argument that is not null",
        ),
        Function("date", 1, 1, (_TIME,), DATE, _date, "date(t): the Shanghai calendar day of t"),
        Function(
            "weekday",
            1,
            1,
            (_TIME,),
            NUMBER,
            _weekday,
            "weekday(t): 1 = Monday … 7 = Sunday, in Shanghai (the derived `weekday` is that of "
            "action_time; this is for any other time, e.g. exam.started_at)",
        ),
        Function(
            "hhmm",
            1,
            1,
            (_types(DATETIME),),
            STRING,
            _hhmm,
            'hhmm(t): the Shanghai wall-clock time of t as "HH:MM" text, comparable with '
            'reference times such as a session\'s "08:30"',
        ),
        Function(
            "deadline",
            3,
            3,
            (_TIME, _types(NUMBER), _TEXT),
            DATETIME,
            _deadline,
            'deadline(start, amount, "working_days"|"calendar_days"|"hours"|"working_hours"): '
            "when the period ends (§0.2 item 7) in the calendar and hours of the record's unit",
            literal=frozenset({2}),
        ),
        Function(
            "add_working_days",
            2,
            2,
            (_TIME, _types(NUMBER)),
            "arg0",
            _add_working_days,
            "add_working_days(d, n): the n-th working day after d (a datetime keeps its time)",
        ),
        Function(
            "working_days_between",
            2,
            2,
            (_TIME, _TIME),
            NUMBER,
            _working_days_between,
            "working_days_between(a, b): working days d with date(a) < d <= date(b) "
            "(negative when b is earlier); null beyond 20 years",
        ),
        Function(
            "days_between",
            2,
            2,
            (_TIME, _TIME),
            NUMBER,
            _days_between,
            "days_between(a, b): date(b) - date(a) in calendar days",
        ),
        Function(
            "hamming",
            2,
            2,
            (_TEXT, _TEXT),
            NUMBER,
            _hamming,
            "hamming(hex_a, hex_b): differing bits of two 64-bit perceptual hashes",
        ),
        Function(
            "min",
            1,
            None,
            (_ORDER | {LIST},),
            "unify",
            _extreme(min),
            "min(a, b, ...) or min(list): the least non-null value",
        ),
        Function(
            "max",
            1,
            None,
            (_ORDER | {LIST},),
            "unify",
            _extreme(max),
            "max(a, b, ...) or max(list): the greatest non-null value",
        ),
        Function(
            "distance_km",
            4,
            4,
            (_types(NUMBER), _types(NUMBER), _types(NUMBER), _types(NUMBER)),
            NUMBER,
            _distance_km,
            "distance_km(lat_a, lon_a, lat_b, lon_b): the great-circle distance in km between "
            'two points, e.g. of two units (lookup("units", unit_code, "lat") …); null if any '
            "coordinate is missing",
        ),
        Function(
            "area_unit",
            1,
            1,
            (_TEXT,),
            STRING,
            _area_unit,
            "area_unit(area_code): the unit_code of the R1 unit whose jurisdiction_area_codes "
            "lists the code (the lowest level of several), e.g. the unit of "
            "violation.location_code; null when none does",
        ),
        Function("abs", 1, 1, (_types(NUMBER, DURATION),), "arg0", _abs, "abs(x)"),
        Function("lower", 1, 1, (_TEXT,), STRING, _lower, "lower(text)"),
        Function("upper", 1, 1, (_TEXT,), STRING, _upper, "upper(text)"),
    )
}

# Functions whose result depends on the record's action_time or unit (through EvalContext).
CONTEXT_FUNCTIONS: Final = frozenset(
    {
        "related",
        "lookup",
        "count_rows",
        "rows",
        "deadline",
        "add_working_days",
        "working_days_between",
    }
)
