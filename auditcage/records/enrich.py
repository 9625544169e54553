"""Derived fields: what rules compare, computed once per record from the record and reference data.

Rules compare fields; Python computes them (STYLE §6). Everything "as of `action_time`" reads the
version of a versioned dataset (R2, R7, R12) valid at that instant. A value that cannot be known
(the dataset is not loaded, the key is empty or unknown) is None, and None never matches (§0.2 5):
a rule such as "operator_known == false" stays silent when there is no staff registry at all.

Derived fields (R1..R12 as in catalogue §1.9; "None" = unknown):

  field                               type        meaning
  hour, minute                        int         of action_time in Asia/Shanghai
  weekday                             int         1 = Monday ... 7 = Sunday
  date, month                         str         "2024-06-03", "2024-06"
  workday                             bool        a working day in the unit's calendar (R1
                                                  calendar_id, R8 rows, chinesecalendar)
  statutory_holiday                   bool        a statutory holiday, incl. the weekend days
                                                  inside one; an ordinary weekend is not
  adjusted_workday                    bool        调休: a Saturday or Sunday that is worked
  calendar_known                      bool        False: the year had no calendar, Monday to
                                                  Friday was assumed (§0.5 item 7)
  within_service_hours                bool        inside the unit's working hours, start
                                                  inclusive, end exclusive (§0.5 item 8)
  on_duty                             bool/None   an R3 shift of the operator covers
                                                  action_time (yesterday's overnight shift
                                                  too); None when R3 is not loaded
  on_leave                            bool/None   an R3 row with a leave_type that date
  leave_type                          str/None    the leave_type of that row
  duty_unit_code                      str/None    unit_code of the covering shift
  operator_is_system                  bool        operator_id is "SYS:<job>" (automatic)
  operator_known                      bool/None   R2 has a version of operator_id valid at
                                                  action_time; None without R2 or for SYS:
  operator_staff_kind                 str/None    R2 as of action_time (also below)
  operator_position, operator_status  str/None
  operator_unit_code, operator_id_no  str/None
  operator_certificates               list/None   kinds valid on the action date
                                                  (valid_to is the last valid day)
  operator_cert_serials               list/None   R2 cert_serials
  operator_cert_serial_known          bool/None   operator_cert_serial is one of them
  reviewer_staff_kind, reviewer_id_no str/None    R2 of reviewer_id as of action_time
  approver_staff_kind                 str/None    R2 of approver_id as of action_time
  approver_position, approver_id_no   str/None
  unit_known                          bool/None   unit_code is in R1; None without R1
  unit_level, unit_parent_code        str/None    R1
  unit_province_code, unit_calendar_id str/None   R1
  unit_ancestors                      list        unit_code, its parent, ... up to the root
                                                  (stops at an unknown unit or a cycle)
  operator_unit_is_ancestor_or_equal  bool/None   operator_unit_code is in unit_ancestors
  unit_detachment, unit_brigade       str/None    the unit_ancestors member at that R1 level
                                                  (the unit itself if it is one)
  vio_code_known                      bool/None   violation_code has an R7 version valid at
                                                  action_time; None without a code or R7
  vio_statutory_points                number      R7 points as of action_time (also below)
  vio_fine_min, vio_fine_max          number
  vio_local_standard_fine             number
  vio_warning_allowed                 bool
  vio_categories                      list/None   optional R7 field (§0.5 item 10)
  vehicle_master                      dict/None   R12 vehicles row valid at action_time, by
                                                  vin, else by plate_no (and plate_type)
  licence_master                      dict/None   R12 licences row valid at action_time
  licence_points_before               number      cumulative points in licence_master
  terminal_known                      bool/None   terminal_id is in R5; None without one/R5
  terminal_window_id, terminal_kind   str/None    R5 of terminal_id
  terminal_unit_code                  str/None
  terminal_assigned_staff_ids         list/None
  operator_assigned_to_terminal       bool/None   operator_id is in terminal_assigned_staff_ids
  business_four_eyes                  bool        R6 of business_type (also below)
  business_needs_inspection           bool
  business_sla_days                   number
  business_day_basis                  str         "working" / "calendar"
  business_police_only_actions        list

Data-quality notices (§1.7, §0.4 blue; STF-13 reads `unknown_operator`): see `NoticeCode`. An
unresolved reference is reported only when its dataset is loaded; when it is not, the record gets
one `dataset_missing` notice per dataset it would have needed (§7.2: a missing file means "no data
of that kind", which is worth saying but is not an unknown operator).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from weakref import WeakKeyDictionary

from auditcage import clock
from auditcage.calendar import WorkCalendar, as_date, minute_inside, seconds_of_day
from auditcage.reference.index import ReferenceIndex, as_instant

_OPEN_START = datetime(1900, 1, 1, tzinfo=clock.SHANGHAI)
_OPEN_END = datetime(9999, 1, 1, tzinfo=clock.SHANGHAI)
SYSTEM_OPERATOR_PREFIX = "SYS:"  # catalogue §1.2 operator_id: automatic actions
# Working hours cached per (unit, date); a long-running worker would otherwise keep every day.
MAX_CACHED_UNIT_DAYS = 200_000


class NoticeCode(StrEnum):
    UNKNOWN_OPERATOR = "unknown_operator"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_WINDOW = "unknown_window"
    UNKNOWN_TERMINAL = "unknown_terminal"
    UNKNOWN_VIOLATION_CODE = "unknown_violation_code"
    CALENDAR_MISSING = "calendar_missing"
    DATASET_MISSING = "dataset_missing"


@dataclass(frozen=True, slots=True)
class Notice:
    """A data-quality notice on one record: `field` is the record's field path."""

    code: str
    field: str
    value: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Enrichment:
    derived: dict[str, Any]
    notices: tuple[Notice, ...]


_TIMELESS = dict.fromkeys(
    [
        "hour",
        "minute",
        "weekday",
        "date",
        "month",
        "workday",
        "statutory_holiday",
        "adjusted_workday",
        "calendar_known",
        "within_service_hours",
        "on_duty",
        "on_leave",
        "leave_type",
        "duty_unit_code",
    ]
)

# (record field, dataset, code, what the dataset is) for the references of §1.7
_REFERENCES = (
    ("operator_id", "staff", NoticeCode.UNKNOWN_OPERATOR, "staff registry R2"),
    ("unit_code", "units", NoticeCode.UNKNOWN_UNIT, "unit tree R1"),
    ("window_id", "terminals", NoticeCode.UNKNOWN_WINDOW, "windows and terminals R5"),
    ("terminal_id", "terminals", NoticeCode.UNKNOWN_TERMINAL, "windows and terminals R5"),
    ("violation_code", "violation_codes", NoticeCode.UNKNOWN_VIOLATION_CODE, "violation codes R7"),
)


class Enricher:
    """Enrichment against one ReferenceIndex and calendar, with the lookups it repeats cached."""

    def __init__(self, ref: ReferenceIndex, calendar: WorkCalendar | None = None) -> None:
        self.ref = ref
        self.calendar = calendar if calendar is not None else WorkCalendar(ref)
        self._units: dict[str, tuple[dict[str, Any] | None, tuple[str, ...]]] = {}
        self._hours: dict[tuple[str | None, date], tuple[tuple[int, int], ...]] = {}
        self._windows = _known_windows(ref)
        self._plates = _versions_by(ref.rows("vehicles"), "plate_no")
        self._versions: dict[tuple[str, Any], list[tuple[datetime, datetime, dict[str, Any]]]] = {}
        self._roster_loaded = ref.loaded("duty_roster")
        self._staff_loaded = ref.loaded("staff")

    def enrich(self, record: Mapping[str, Any]) -> Enrichment:
        derived: dict[str, Any] = {}
        at = _as_datetime(record.get("action_time"))
        unit_row, ancestors = self._unit(record.get("unit_code"))
        notices: list[Notice] = []
        if at is not None:
            self._add_time(derived, at, record.get("unit_code"), unit_row, notices)
            self._add_roster(derived, record.get("operator_id"), at)
        else:  # validated records always have one; keep every field present regardless
            derived.update(_TIMELESS)
        self._add_staff(derived, record, at)
        self._add_unit(derived, unit_row, ancestors)
        self._add_violation(derived, record.get("violation_code"), at)
        self._add_masters(derived, record, at)
        self._add_terminal(derived, record)
        self._add_business(derived, record.get("business_type"))
        notices.extend(self._reference_notices(record, derived))
        return Enrichment(derived, tuple(notices))

    def notices(self, record: Mapping[str, Any]) -> tuple[Notice, ...]:
        """The data-quality notices of a record (a NoticeSource for intake)."""
        return self.enrich(record).notices

    def _get(self, dataset: str, key: Any, at: datetime | None) -> dict[str, Any] | None:
        """ReferenceIndex.get(dataset, key, at=at) with each key's versions prepared once."""
        versions = self._versions.get((dataset, key))
        if versions is None:
            rows = self.ref.all(dataset, key)
            if not rows:
                return None  # not cached: unknown keys from records are unbounded
            versions = self._versions[(dataset, key)] = _versions_by(rows, None)[None]
        if at is None:
            return versions[-1][2] if versions else None
        for start, end, row in reversed(versions):
            if start <= at < end:
                return row
        return None

    # --- calendar and roster -----------------------------------------------------------------

    def _add_time(
        self,
        derived: dict[str, Any],
        at: datetime,
        unit_code: str | None,
        unit_row: dict[str, Any] | None,
        notices: list[Notice],
    ) -> None:
        d = at.date()
        calendar_id = unit_row.get("calendar_id") if unit_row else None
        kind = self.calendar.day(d, calendar_id)
        derived["hour"] = at.hour
        derived["minute"] = at.minute
        derived["weekday"] = d.isoweekday()
        derived["date"] = d.isoformat()
        derived["month"] = derived["date"][:7]
        derived["workday"] = kind.workday
        derived["statutory_holiday"] = kind.statutory_holiday
        derived["adjusted_workday"] = kind.adjusted_workday
        derived["calendar_known"] = kind.calendar_known
        derived["within_service_hours"] = minute_inside(
            self._service_minutes(unit_code, unit_row, d), seconds_of_day(at)
        )
        if not kind.calendar_known:
            notices.append(
                Notice(
                    NoticeCode.CALENDAR_MISSING,
                    "action_time",
                    at.isoformat(),
                    f"no calendar for {d.year} (calendar {calendar_id or 'default'}): "
                    "Monday to Friday taken as working days; load the year's R8 calendar",
                )
            )

    def _service_minutes(
        self, unit_code: str | None, unit_row: dict[str, Any] | None, d: date
    ) -> tuple[tuple[int, int], ...]:
        key = (unit_code if unit_row else None, d)
        hours = self._hours.get(key)
        if hours is None:
            if len(self._hours) >= MAX_CACHED_UNIT_DAYS:
                self._hours.clear()
            service_hours = unit_row.get("service_hours") if unit_row else None
            calendar_id = unit_row.get("calendar_id") if unit_row else None
            hours = self._hours[key] = self.calendar.service_minutes(service_hours, d, calendar_id)
        return hours

    def _add_roster(self, derived: dict[str, Any], staff_id: str | None, at: datetime) -> None:
        if not self._roster_loaded:
            derived.update(on_duty=None, on_leave=None, leave_type=None, duty_unit_code=None)
            return
        d = at.date()
        today = self.ref.all("duty_roster", staff_id, d.isoformat()) if staff_id else []
        yesterday = (
            self.ref.all("duty_roster", staff_id, (d - timedelta(days=1)).isoformat())
            if staff_id
            else []
        )
        shift = covering_shift(today, yesterday, seconds_of_day(at))
        leave = next((row for row in today if row.get("leave_type")), None)
        derived["on_duty"] = shift is not None
        derived["duty_unit_code"] = shift.get("unit_code") if shift else None
        derived["on_leave"] = leave is not None
        derived["leave_type"] = leave.get("leave_type") if leave else None

    # --- staff, units ------------------------------------------------------------------------

    def _staff(self, staff_id: Any, at: datetime | None) -> dict[str, Any] | None:
        if not staff_id or str(staff_id).startswith(SYSTEM_OPERATOR_PREFIX):
            return None
        return self._get("staff", staff_id, at)

    def _add_staff(
        self, derived: dict[str, Any], record: Mapping[str, Any], at: datetime | None
    ) -> None:
        operator_id = record.get("operator_id")
        op = self._staff(operator_id, at)
        derived["operator_is_system"] = str(operator_id or "").startswith(SYSTEM_OPERATOR_PREFIX)
        derived["operator_known"] = (
            op is not None if self._staff_loaded and not derived["operator_is_system"] else None
        )
        for name in ("staff_kind", "position", "status", "unit_code", "id_no"):
            derived[f"operator_{name}"] = op.get(name) if op else None
        derived["operator_certificates"] = (
            valid_certificates(op.get("certificates"), at) if op else None
        )
        serials = _as_list(op.get("cert_serials")) if op else None
        derived["operator_cert_serials"] = serials
        serial = record.get("operator_cert_serial")
        derived["operator_cert_serial_known"] = (
            serial in serials if serial and serials is not None else None
        )
        reviewer = self._staff(record.get("reviewer_id"), at)
        approver = self._staff(record.get("approver_id"), at)
        derived["reviewer_staff_kind"] = reviewer.get("staff_kind") if reviewer else None
        derived["reviewer_id_no"] = reviewer.get("id_no") if reviewer else None
        derived["approver_staff_kind"] = approver.get("staff_kind") if approver else None
        derived["approver_position"] = approver.get("position") if approver else None
        derived["approver_id_no"] = approver.get("id_no") if approver else None

    def _unit(self, unit_code: Any) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
        if not unit_code:
            return None, ()
        cached = self._units.get(unit_code)
        if cached is None:
            cached = self._units[unit_code] = (
                self.ref.get("units", unit_code),
                unit_ancestors(self.ref, unit_code),
            )
        return cached

    def _at_level(self, ancestors: tuple[str, ...], level: str) -> str | None:
        for code in ancestors:
            row = self._unit(code)[0]
            if row is not None and row.get("level") == level:
                return code
        return None

    def _add_unit(
        self, derived: dict[str, Any], unit_row: dict[str, Any] | None, ancestors: tuple[str, ...]
    ) -> None:
        derived["unit_known"] = unit_row is not None if self.ref.loaded("units") else None
        for name in ("level", "parent_code", "province_code", "calendar_id"):
            derived[f"unit_{name}"] = unit_row.get(name) if unit_row else None
        derived["unit_ancestors"] = list(ancestors)
        for level in ("detachment", "brigade"):
            derived[f"unit_{level}"] = self._at_level(ancestors, level)
        operator_unit = derived["operator_unit_code"]
        derived["operator_unit_is_ancestor_or_equal"] = (
            operator_unit in ancestors if operator_unit and ancestors else None
        )

    # --- violation codes, masters, terminals, business types ---------------------------------

    def _add_violation(self, derived: dict[str, Any], code: Any, at: datetime | None) -> None:
        row = self._get("violation_codes", code, at) if code else None
        known = code and self.ref.loaded("violation_codes")
        derived["vio_code_known"] = (row is not None) if known else None
        derived["vio_statutory_points"] = row.get("points") if row else None
        for name in ("fine_min", "fine_max", "local_standard_fine", "warning_allowed"):
            derived[f"vio_{name}"] = row.get(name) if row else None
        derived["vio_categories"] = _as_list(row.get("categories")) if row else None

    def _add_masters(
        self, derived: dict[str, Any], record: Mapping[str, Any], at: datetime | None
    ) -> None:
        vin, license_no = record.get("vin"), record.get("license_no")
        vehicle = self._get("vehicles", vin, at) if vin else None
        if vehicle is None and record.get("plate_no"):
            vehicle = self._vehicle_by_plate(record["plate_no"], record.get("plate_type"), at)
        licence = self._get("licences", license_no, at) if license_no else None
        derived["vehicle_master"] = vehicle
        derived["licence_master"] = licence
        derived["licence_points_before"] = licence.get("points") if licence else None

    def _vehicle_by_plate(
        self, plate_no: str, plate_type: str | None, at: datetime | None
    ) -> dict[str, Any] | None:
        instant = as_instant(at, default=_OPEN_END) if at is not None else None
        candidates = [
            row
            for start, end, row in self._plates.get(plate_no, ())
            if instant is None or start <= instant < end
        ]
        if plate_type and len(candidates) > 1:
            candidates = [r for r in candidates if r.get("plate_type") in (None, plate_type)]
        return candidates[-1] if candidates else None

    def _add_terminal(self, derived: dict[str, Any], record: Mapping[str, Any]) -> None:
        terminal_id = record.get("terminal_id")
        row = self._get("terminals", terminal_id, None) if terminal_id else None
        known = terminal_id and self.ref.loaded("terminals")
        derived["terminal_known"] = (row is not None) if known else None
        for name in ("window_id", "unit_code", "kind"):
            derived[f"terminal_{name}"] = row.get(name) if row else None
        assigned = _as_list(row.get("assigned_staff_ids")) if row else None
        derived["terminal_assigned_staff_ids"] = assigned
        operator_id = record.get("operator_id")
        derived["operator_assigned_to_terminal"] = (
            operator_id in assigned if operator_id and assigned is not None else None
        )

    def _add_business(self, derived: dict[str, Any], business_type: Any) -> None:
        row = self._get("business_types", business_type, None) if business_type else None
        for name in ("four_eyes", "needs_inspection", "sla_days", "day_basis"):
            derived[f"business_{name}"] = row.get(name) if row else None
        derived["business_police_only_actions"] = (
            _as_list(row.get("police_only_actions")) if row else None
        )

    # --- notices -----------------------------------------------------------------------------

    def _reference_notices(
        self, record: Mapping[str, Any], derived: Mapping[str, Any]
    ) -> list[Notice]:
        resolved = {
            "operator_id": derived["operator_known"] or derived["operator_is_system"],
            "unit_code": derived["unit_known"],
            "window_id": record.get("window_id") in self._windows,
            "terminal_id": bool(derived["terminal_known"]),
            "violation_code": bool(derived["vio_code_known"]),
        }
        notices = []
        missing_reported: set[str] = set()
        for field_name, dataset, code, what in _REFERENCES:
            value = record.get(field_name)
            if value is None or value == "" or resolved[field_name]:
                continue
            if self.ref.loaded(dataset):
                message = f"{field_name} {value!r} is not in the {what}"
                if field_name in ("operator_id", "violation_code"):
                    message += " as of action_time"
                notices.append(Notice(code, field_name, str(value), message))
            elif dataset not in missing_reported:
                missing_reported.add(dataset)
                notices.append(
                    Notice(
                        NoticeCode.DATASET_MISSING,
                        field_name,
                        str(value),
                        f"{field_name} cannot be checked: no {what} ({dataset}) is loaded",
                    )
                )
        return notices


# --- module-level API ----------------------------------------------------------------------------

_ENRICHERS: WeakKeyDictionary[ReferenceIndex, Enricher] = WeakKeyDictionary()


def enrich(record: Mapping[str, Any], ref: ReferenceIndex, calendar: WorkCalendar) -> Enrichment:
    """Derived fields and data-quality notices of one validated record (see the module table)."""
    enricher = _ENRICHERS.get(ref)
    if enricher is None or enricher.calendar is not calendar:
        enricher = _ENRICHERS[ref] = Enricher(ref, calendar)
    return enricher.enrich(record)


def covering_shift(
    today: list[dict[str, Any]], yesterday: list[dict[str, Any]], seconds: int
) -> dict[str, Any] | None:
    """The R3 shift covering a second of the day: today's, or yesterday's that runs past midnight.

    An end before the start runs past midnight; an end equal to the start is a 24-hour duty. A row
    with a `leave_type` is an absence, never a shift.
    """
    for row in today:
        span = _shift_minutes(row)
        if span and span[0] * 60 <= seconds < (span[1] if span[1] > span[0] else 1440) * 60:
            return row
    for row in yesterday:
        span = _shift_minutes(row)
        if span and span[1] <= span[0] and seconds < span[1] * 60:
            return row
    return None


def valid_certificates(certificates: Any, at: datetime | None) -> list[str]:
    """Kinds of the certificates valid on the date of `at` (`valid_to` is the last valid day)."""
    on = at.date() if at is not None else None
    kinds = []
    for cert in _as_list(certificates) or ():
        if not isinstance(cert, Mapping) or not cert.get("kind"):
            continue
        valid_to, valid_from = as_date(cert.get("valid_to")), as_date(cert.get("valid_from"))
        if on is not None and (
            (valid_to is not None and on > valid_to) or (valid_from is not None and on < valid_from)
        ):
            continue
        kinds.append(cert["kind"])
    return kinds


def unit_ancestors(ref: ReferenceIndex, unit_code: str) -> tuple[str, ...]:
    """`unit_code` and its parents up to the root of R1 (stops at an unknown parent or a cycle)."""
    chain = [unit_code]
    row = ref.get("units", unit_code)
    while row and row.get("parent_code") and row["parent_code"] not in chain:
        chain.append(row["parent_code"])
        row = ref.get("units", row["parent_code"])
    return tuple(chain)


# --- relatedness (§0.2 item 8, §0.5 item 9) -------------------------------------------------


class Relatedness:
    """`related(a, b)` over one ReferenceIndex: same identity, R4 relations, R9 registered drivers.

    Identities are ID numbers, licence numbers or organisation codes, compared trimmed and
    upper-cased (a trailing check character may be written "x"). R4 links a staff member's R2
    `id_no` (any version) with `related_id_no`, in both directions. R9 links an organisation's
    `org_code` with each of its `registered_drivers` and, through R12 `licences`, the holder's
    `holder_id_no` (a domestic licence number is the resident ID number already).
    """

    def __init__(self, ref: ReferenceIndex) -> None:
        self._links: dict[str, list[tuple[str, datetime, datetime]]] = {}
        for row in ref.rows("relations"):
            other = _identity(row.get("related_id_no"))
            staff_id = row.get("staff_id")
            if not other or not staff_id:
                continue
            start = as_instant(row.get("effective_from"), default=_OPEN_START)
            end = as_instant(row.get("effective_to"), default=_OPEN_END)
            for version in ref.all("staff", staff_id):
                own = _identity(version.get("id_no"))
                if own and own != other:
                    self._link(own, other, start, end)
        for org in ref.rows("agents"):
            org_code = _identity(org.get("org_code"))
            for licence_no in _as_list(org.get("registered_drivers")) or ():
                for driver in _driver_identities(ref, licence_no):
                    if org_code and driver != org_code:
                        self._link(org_code, driver, _OPEN_START, _OPEN_END)

    def _link(self, a: str, b: str, start: datetime, end: datetime) -> None:
        self._links.setdefault(a, []).append((b, start, end))
        self._links.setdefault(b, []).append((a, start, end))

    def __call__(self, a: Any, b: Any, *, at: datetime | date | None = None) -> bool:
        a, b = _identity(a), _identity(b)
        if not a or not b:
            return False
        if a == b:
            return True
        instant = as_instant(at, default=_OPEN_START) if at is not None else None
        return any(
            other == b and (instant is None or start <= instant < end)
            for other, start, end in self._links.get(a, ())
        )


_RELATEDNESS: WeakKeyDictionary[ReferenceIndex, Relatedness] = WeakKeyDictionary()


def related(
    a: str | None, b: str | None, ref: ReferenceIndex, *, at: datetime | date | None = None
) -> bool:
    """§0.2 item 8: the same identity, an R4 relation, or an organisation and its registered driver.

    Nulls and empties never relate. Two citizens relate only as the same person or through R9
    (§0.5 item 9). The index is built once per ReferenceIndex.
    """
    relatedness = _RELATEDNESS.get(ref)
    if relatedness is None:
        relatedness = _RELATEDNESS[ref] = Relatedness(ref)
    return relatedness(a, b, at=at)


# --- helpers --------------------------------------------------------------------------------


def _identity(value: Any) -> str:
    return str(value).strip().upper() if value is not None else ""


def _driver_identities(ref: ReferenceIndex, licence_no: Any) -> set[str]:
    identities = {_identity(licence_no)}
    for version in ref.all("licences", licence_no):
        identities.add(_identity(version.get("holder_id_no")))
    identities.discard("")
    return identities


def _known_windows(ref: ReferenceIndex) -> frozenset[Any]:
    """Window ids of R5 terminals, and R1 units of level `window` (a window may be either)."""
    windows = {row.get("window_id") for row in ref.rows("terminals")}
    windows.update(
        row.get("unit_code") for row in ref.rows("units") if row.get("level") == "window"
    )
    windows.discard(None)
    windows.discard("")
    return frozenset(windows)


def _versions_by(
    rows: list[dict[str, Any]], field_name: str | None
) -> dict[Any, list[tuple[datetime, datetime, dict[str, Any]]]]:
    """Versioned rows grouped by a field (None: one group), each group sorted by effective_from."""
    grouped: dict[Any, list[tuple[datetime, datetime, dict[str, Any]]]] = {}
    for row in rows:
        value = row.get(field_name) if field_name else None
        if field_name and (value is None or value == ""):
            continue
        start = as_instant(row.get("effective_from"), default=_OPEN_START)
        end = as_instant(row.get("effective_to"), default=_OPEN_END)
        grouped.setdefault(value, []).append((start, end, row))
    for versions in grouped.values():
        versions.sort(key=lambda v: v[0])
    return grouped


def _shift_minutes(row: Mapping[str, Any]) -> tuple[int, int] | None:
    start, end = row.get("shift_start"), row.get("shift_end")
    if not start or not end or row.get("leave_type"):
        return None
    return _hhmm(start), _hhmm(end)


def _hhmm(value: Any) -> int:
    text = value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)
    hours, minutes = text.split(":")[:2]
    return int(hours) * 60 + int(minutes)


def _as_list(value: Any) -> list[Any] | None:
    """A list-valued reference field; CSV exports hold lists as JSON text (§7.2)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.to_shanghai(value)
