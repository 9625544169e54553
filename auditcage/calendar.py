"""Working days, working hours and deadlines in one place (catalogue §0.2 item 7, §0.5 items 7-8).

Deadlines, enrichment and the alert sweeper all ask this module, so a day is a working day for all
of them or for none.

Which calendar decides a day, first match wins:

1. an R8 `calendar` row of the unit's own `calendar_id` for that date;
2. an R8 row of the default calendar (`calendar_id` null, empty or ``"default"``): the calendar
   shipped under ``rules/reference/`` plus whatever an administrator loaded for later years;
3. the ``chinesecalendar`` package (2004-2026: statutory holidays and adjusted working days 调休);
4. Monday-Friday. When that year has no R8 row in either calendar, the year's calendar is
   *missing*: the year goes into `WorkCalendar.missing_years`, the `on_missing` hook is told once,
   and `DayKind.calendar_known` is False so enrichment can report a data-quality notice.
   Nothing here raises on a date the package does not know (§0.5 item 7).

An R8 ``holiday`` row makes the day a statutory holiday (no working hours at all); a ``workday``
row makes it a working day, an adjusted one (调休) when it falls on a Saturday or Sunday.

Working hours of a unit on a day (§0.5 item 8):

- a statutory holiday has none;
- a working day has the unit's `service_hours` for its weekday, except that an adjusted working
  day on a Saturday or Sunday has the unit's ``mon`` hours;
- an ordinary weekend day (a rest day that is not a statutory holiday) has the unit's ``sat`` /
  ``sun`` hours if it registered weekend service (周末服务), else none;
- a unit without `service_hours` works 08:30-12:00 and 13:00-17:30 on working days only.

An interval ``["08:30", "12:00"]`` includes its start and excludes its end: 08:30:00 is inside,
12:00:00 is outside. ``"24:00"`` is the end of the day; an end at or before its start is read as
24:00 (a service interval never runs into the next day; list that part under the next day).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import chinese_calendar

from auditcage import clock
from auditcage.reference.index import ReferenceIndex

DEFAULT_CALENDAR = "default"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# catalogue §0.5 item 8: a unit without service_hours works these hours on its working days
DEFAULT_SERVICE_MINUTES: tuple[tuple[int, int], ...] = (
    (8 * 60 + 30, 12 * 60),
    (13 * 60, 17 * 60 + 30),
)
END_OF_DAY = 24 * 60
# A unit whose service hours are empty on every day can never reach a working-hours deadline;
# give up after this many days instead of looping for ever.
MAX_SEARCH_DAYS = 3 * 366

Unit = Literal["working_days", "calendar_days", "hours", "working_hours"]
Intervals = tuple[tuple[int, int], ...]  # minutes after midnight, [start, end)


@dataclass(frozen=True, slots=True)
class DayKind:
    """What one date is in one calendar."""

    workday: bool
    statutory_holiday: (
        bool  # a named holiday (incl. weekend days inside it), not an ordinary weekend
    )
    adjusted_workday: bool  # 调休: a Saturday or Sunday that is a working day
    calendar_known: bool  # False when the Monday-Friday fallback decided it (§0.5 item 7)


class WorkCalendar:
    """Working days of every calendar in an R8 dataset, on top of the statutory calendar."""

    def __init__(
        self,
        ref: ReferenceIndex | None = None,
        *,
        on_missing: Callable[[int, str], None] | None = None,
    ) -> None:
        self._overrides: dict[str, dict[date, str]] = {}
        self._years_with_rows: dict[str, set[int]] = {}
        self._days: dict[tuple[str, date], DayKind] = {}
        self._package_years: dict[int, bool] = {}
        self._reported: set[tuple[str, int]] = set()
        self._on_missing = on_missing
        self.missing_years: set[int] = set()
        if ref is not None:
            self._load(ref.rows("calendar"))

    def _load(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            kind = row.get("kind")
            day = as_date(row.get("date"))
            if kind not in ("holiday", "workday") or day is None:
                continue  # the reference loader validates; here we only refuse to guess
            cal = calendar_key(row.get("calendar_id"))
            self._overrides.setdefault(cal, {})[day] = kind
            self._years_with_rows.setdefault(cal, set()).add(day.year)

    # --- days --------------------------------------------------------------------------------

    def day(self, d: date, calendar_id: str | None = None) -> DayKind:
        """The kind of `d` in `calendar_id` (None or "default": the default calendar); cached."""
        cal = calendar_key(calendar_id)
        cached = self._days.get((cal, d))
        if cached is None:
            cached = self._days[(cal, d)] = self._resolve(d, cal)
        return cached

    def is_workday(self, d: date, calendar_id: str | None = None) -> bool:
        return self.day(d, calendar_id).workday

    def is_holiday(self, d: date, calendar_id: str | None = None) -> bool:
        """Whether `d` is a statutory holiday (法定节假日); an ordinary weekend is not one."""
        return self.day(d, calendar_id).statutory_holiday

    def is_adjusted_workday(self, d: date, calendar_id: str | None = None) -> bool:
        """Whether `d` is a Saturday or Sunday that is a working day (调休)."""
        return self.day(d, calendar_id).adjusted_workday

    def calendar_missing(self, d: date, calendar_id: str | None = None) -> bool:
        """Whether the Monday-Friday fallback decided `d` because its year has no calendar."""
        return not self.day(d, calendar_id).calendar_known

    def _resolve(self, d: date, cal: str) -> DayKind:
        kind = self._override(d, cal)
        if kind is not None:
            return _from_override(d, kind)
        if self._package_knows(d.year):
            workday = chinese_calendar.is_workday(d)
            return DayKind(
                workday=workday,
                statutory_holiday=d in chinese_calendar.holidays,
                adjusted_workday=workday and d.weekday() >= 5,
                calendar_known=True,
            )
        known = self._year_has_rows(d.year, cal)
        if not known:
            self._report_missing(d.year, cal)
        return DayKind(d.weekday() < 5, False, False, calendar_known=known)

    def _override(self, d: date, cal: str) -> str | None:
        if cal != DEFAULT_CALENDAR:
            kind = self._overrides.get(cal, {}).get(d)
            if kind is not None:
                return kind
        return self._overrides.get(DEFAULT_CALENDAR, {}).get(d)

    def _year_has_rows(self, year: int, cal: str) -> bool:
        return year in self._years_with_rows.get(cal, ()) or year in self._years_with_rows.get(
            DEFAULT_CALENDAR, ()
        )

    def _package_knows(self, year: int) -> bool:
        known = self._package_years.get(year)
        if known is None:
            try:
                chinese_calendar.is_workday(date(year, 1, 1))
                known = True
            except NotImplementedError:  # the package's way of saying "no data for that year"
                known = False
            self._package_years[year] = known
        return known

    def _report_missing(self, year: int, cal: str) -> None:
        self.missing_years.add(year)
        if (cal, year) not in self._reported:
            self._reported.add((cal, year))
            if self._on_missing is not None:
                self._on_missing(year, cal)

    def add_working_days(self, start: date, n: int, calendar_id: str | None = None) -> date:
        """The n-th working day after `start` (counting starts the day after); `start` when n=0."""
        if n < 0:
            raise ValueError(f"cannot count {n} working days")
        d = start
        while n:
            d += timedelta(days=1)
            if self.is_workday(d, calendar_id):
                n -= 1
        return d

    def next_workday(self, d: date, calendar_id: str | None = None) -> date:
        """The first working day after `d`."""
        return self.add_working_days(d, 1, calendar_id)

    # --- working hours -----------------------------------------------------------------------

    def service_minutes(
        self, service_hours: Any, d: date, calendar_id: str | None = None
    ) -> Intervals:
        """A unit's working hours on `d` as [start, end) minutes; `service_hours` None = default."""
        kind = self.day(d, calendar_id)
        if kind.statutory_holiday:
            return ()
        if service_hours is None:
            return DEFAULT_SERVICE_MINUTES if kind.workday else ()
        hours = _service_hours_object(service_hours)
        key = "mon" if kind.adjusted_workday else WEEKDAY_KEYS[d.weekday()]
        # A rest day that is no statutory holiday is a weekend: registered weekend service applies.
        return parse_intervals(hours.get(key))

    def service_hours_for(
        self, unit_row: Mapping[str, Any] | None, d: date
    ) -> list[tuple[time, time]]:
        """The working hours of a unit (an R1 row; None = unknown unit, default hours) on `d`.

        24:00 is shown as `time.max`.
        """
        service_hours, calendar_id = unit_hours(unit_row)
        return [
            (_as_time(start), _as_time(end))
            for start, end in self.service_minutes(service_hours, d, calendar_id)
        ]

    def within_service_hours(self, unit_row: Mapping[str, Any] | None, at: datetime) -> bool:
        """Whether `at` falls inside the unit's working hours (start inclusive, end exclusive)."""
        local = clock.to_shanghai(at)
        service_hours, calendar_id = unit_hours(unit_row)
        return minute_inside(
            self.service_minutes(service_hours, local.date(), calendar_id), seconds_of_day(local)
        )

    def working_hours_between(
        self,
        a: datetime,
        b: datetime,
        *,
        calendar_id: str | None = None,
        service_hours: Any = None,
    ) -> timedelta:
        """Working time of a unit inside [a, b); zero when b is not after a."""
        a, b = clock.to_shanghai(a), clock.to_shanghai(b)
        total = timedelta()
        d = a.date()
        while d <= b.date():
            for start, end in self._segments(d, a, service_hours, calendar_id):
                total += max(timedelta(), min(end, b) - start)
            d += timedelta(days=1)
        return total

    def _segments(
        self, d: date, not_before: datetime, service_hours: Any, calendar_id: str | None
    ) -> list[tuple[datetime, datetime]]:
        """The working intervals of `d` as datetimes, cut to begin no earlier than `not_before`."""
        midnight = datetime(d.year, d.month, d.day, tzinfo=clock.SHANGHAI)
        segments = []
        for start_min, end_min in self.service_minutes(service_hours, d, calendar_id):
            start = max(midnight + timedelta(minutes=start_min), not_before)
            end = midnight + timedelta(minutes=end_min)
            if end > start:
                segments.append((start, end))
        return segments

    # --- deadlines ---------------------------------------------------------------------------

    def deadline(
        self,
        start: datetime,
        amount: float,
        unit: Unit,
        *,
        calendar_id: str | None = None,
        service_hours: Any = None,
    ) -> datetime:
        """When a period of `amount` `unit`s that begins with the event at `start` runs out.

        - day periods count from the day after `start` and end at 24:00 (the next day's 00:00)
          of the last counted day (民法典 第201条);
        - a calendar-day period whose last day is not a working day ends on the next working day
          (第203条: its 法定休假日 covers the weekly rest days as well as the statutory holidays,
          so a period ending on an ordinary Sunday moves too; catalogue §0.2 item 7 says
          "statutory holiday", which we read in the statute's sense);
        - ``hours`` are wall-clock; ``working_hours`` count only the unit's working hours
          (`service_hours` of its R1 row, None = the default hours) from `start` on.
        """
        start = clock.to_shanghai(start)
        if amount < 0:
            raise ValueError(f"a period cannot be negative: {amount} {unit}")
        if unit == "hours":
            return (start.astimezone(UTC) + timedelta(hours=amount)).astimezone(clock.SHANGHAI)
        if unit == "working_hours":
            return self._add_working_hours(
                start, timedelta(hours=amount), service_hours, calendar_id
            )
        if unit == "working_days":
            last = self.add_working_days(start.date(), _whole(amount, unit), calendar_id)
        elif unit == "calendar_days":
            last = start.date() + timedelta(days=_whole(amount, unit))
            if not self.is_workday(last, calendar_id):
                last = self.next_workday(last, calendar_id)
        else:
            raise ValueError(f"unknown period unit {unit!r}")
        following = last + timedelta(days=1)
        return datetime(following.year, following.month, following.day, tzinfo=clock.SHANGHAI)

    def _add_working_hours(
        self, start: datetime, remaining: timedelta, service_hours: Any, calendar_id: str | None
    ) -> datetime:
        if not remaining:
            return start
        d = start.date()
        for _ in range(MAX_SEARCH_DAYS):
            for seg_start, seg_end in self._segments(d, start, service_hours, calendar_id):
                if remaining <= seg_end - seg_start:
                    return seg_start + remaining
                remaining -= seg_end - seg_start
            d += timedelta(days=1)
        raise ValueError(f"no working hours within {MAX_SEARCH_DAYS} days of {start.isoformat()}")


# --- helpers shared with enrichment ---------------------------------------------------------


def calendar_key(calendar_id: Any) -> str:
    """The calendar a `calendar_id` names; null, empty and "default" are the default calendar."""
    if calendar_id is None or calendar_id == "":
        return DEFAULT_CALENDAR
    return str(calendar_id)


def unit_hours(unit_row: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """(service_hours, calendar_id) of an R1 row; an unknown unit has the defaults."""
    if not unit_row:
        return None, None
    return unit_row.get("service_hours"), unit_row.get("calendar_id")


def as_date(value: Any) -> date | None:
    """A date from a date, a datetime (its Shanghai date) or an ISO string; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return clock.to_shanghai(value).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def parse_intervals(value: Any) -> Intervals:
    """[["08:30","12:00"], …] as minute pairs; a missing day is closed."""
    if not value:
        return ()
    intervals = []
    for pair in value:
        start, end = _minutes(pair[0]), _minutes(pair[1])
        if end <= start:
            end = END_OF_DAY
        intervals.append((start, end))
    return tuple(sorted(intervals))


def seconds_of_day(local: datetime) -> int:
    return local.hour * 3600 + local.minute * 60 + local.second


def minute_inside(intervals: Intervals, seconds: int) -> bool:
    """Whether a second of the day lies in one of the [start, end) minute intervals."""
    return any(start * 60 <= seconds < end * 60 for start, end in intervals)


def _service_hours_object(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):  # a CSV cell holds the object as JSON text (§7.2)
        value = json.loads(value) if value.strip() else {}
    return value if isinstance(value, Mapping) else {}


def _minutes(value: Any) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    hours, minutes = str(value).split(":")[:2]
    return int(hours) * 60 + int(minutes)


def _as_time(minutes: int) -> time:
    return time.max if minutes >= END_OF_DAY else time(minutes // 60, minutes % 60)


def _from_override(d: date, kind: str) -> DayKind:
    if kind == "holiday":
        return DayKind(False, True, False, calendar_known=True)
    return DayKind(True, False, d.weekday() >= 5, calendar_known=True)


def _whole(amount: float, unit: str) -> int:
    if amount != int(amount):
        raise ValueError(f"{unit} must be a whole number, not {amount}")
    return int(amount)
