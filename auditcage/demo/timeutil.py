"""Working days and office hours for the synthetic province (catalogue §0.2 item 7, §0.5 items
7–8)."""

from __future__ import annotations

import functools
import warnings
from datetime import date, datetime, time, timedelta, timezone

TZ = timezone(timedelta(hours=8))  # records carry +08:00 (catalogue §0.2 item 1)

STANDARD_HOURS: dict[str, list[list[str]]] = {
    day: [["08:30", "12:00"], ["13:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@functools.lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    """Statutory working day; Monday–Friday where chinesecalendar does not know the year."""
    try:
        import chinese_calendar

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, ImportError):
        return day.weekday() < 5


@functools.lru_cache(maxsize=4096)
def is_statutory_holiday(day: date) -> bool:
    """A day off that belongs to a named statutory holiday (国庆, 中秋, …), weekends included."""
    try:
        import chinese_calendar

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            on_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
        return bool(on_holiday) and holiday_name is not None
    except (NotImplementedError, ImportError):
        return False


_HOURS_CACHE: dict[tuple[int, date], tuple[object, list[tuple[int, int]]]] = {}


def hours_on(service_hours: dict[str, list[list[str]]], day: date) -> list[tuple[int, int]]:
    """Opening intervals (minutes after midnight) of a unit on a day (§0.5 item 8)."""
    key = (id(service_hours), day)
    hit = _HOURS_CACHE.get(key)
    if hit is not None and hit[0] is service_hours:
        return hit[1]
    if is_statutory_holiday(day):
        intervals: list[tuple[int, int]] = []
    else:
        if is_workday(day):
            name = "mon" if day.weekday() >= 5 else WEEKDAYS[day.weekday()]
        else:
            name = WEEKDAYS[day.weekday()]
        intervals = [(_minutes(a), _minutes(b)) for a, b in service_hours.get(name, [])]
    if len(_HOURS_CACHE) > 20000:
        _HOURS_CACHE.clear()
    _HOURS_CACHE[key] = (service_hours, intervals)  # holds the dict, so its id is not reused
    return intervals


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def add_working_days(day: date, n: int) -> date:
    current = day
    while n > 0:
        current += timedelta(days=1)
        if is_workday(current):
            n -= 1
    return current


def next_workday(day: date) -> date:
    return add_working_days(day, 1)


def at(day: date, minute: float) -> datetime:
    """The instant `minute` minutes after midnight of `day`, +08:00, whole seconds."""
    return datetime.combine(day, time(), tzinfo=TZ) + timedelta(seconds=int(minute * 60))


def iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def month_starts(start: date, months: int) -> list[date]:
    out = []
    y, m = start.year, start.month
    for _ in range(months + 1):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
