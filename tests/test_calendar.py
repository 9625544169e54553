from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from auditcage.calendar import WorkCalendar
from auditcage.clock import SHANGHAI
from auditcage.reference.index import ReferenceIndex

# A brigade with a lunch break, Saturday-morning service and longer Monday hours.
BRIGADE = {
    "unit_code": "520102000000",
    "calendar_id": "guiyang",
    "service_hours": {
        "mon": [["08:30", "12:00"], ["13:00", "18:00"]],
        "tue": [["08:30", "12:00"], ["13:00", "17:30"]],
        "wed": [["08:30", "12:00"], ["13:00", "17:30"]],
        "thu": [["08:30", "12:00"], ["13:00", "17:30"]],
        "fri": [["08:30", "12:00"], ["13:00", "17:30"]],
        "sat": [["09:00", "12:00"]],
    },
}
# A unit that never registered its hours: 08:30-12:00 and 13:00-17:30 on working days.
STATION = {"unit_code": "520102010000", "calendar_id": None}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(ReferenceIndex({}))


# --- statutory calendar ---------------------------------------------------------------------


def test_national_day_2024_is_a_week_of_statutory_holidays(calendar: WorkCalendar) -> None:
    for day in range(1, 8):
        d = date(2024, 10, day)
        assert not calendar.is_workday(d)
        assert calendar.is_holiday(d)


def test_sundays_and_saturdays_worked_for_national_day_2024_are_adjusted_working_days(
    calendar: WorkCalendar,
) -> None:
    for d in (date(2024, 9, 29), date(2024, 10, 12)):
        assert calendar.is_workday(d)
        assert calendar.is_adjusted_workday(d)
        assert not calendar.is_holiday(d)


def test_spring_festival_2025_has_adjusted_working_days_on_a_sunday_and_a_saturday(
    calendar: WorkCalendar,
) -> None:
    assert calendar.is_holiday(date(2025, 1, 29))  # 春节 初一
    assert calendar.is_adjusted_workday(date(2025, 1, 26))  # Sunday
    assert calendar.is_adjusted_workday(date(2025, 2, 8))  # Saturday


def test_an_ordinary_weekend_is_a_rest_day_but_not_a_statutory_holiday(
    calendar: WorkCalendar,
) -> None:
    saturday = date(2024, 6, 15)
    assert not calendar.is_workday(saturday)
    assert not calendar.is_holiday(saturday)
    assert not calendar.is_adjusted_workday(saturday)


def test_a_year_beyond_the_package_falls_back_to_monday_to_friday_and_is_reported_missing() -> None:
    told: list[tuple[int, str]] = []
    calendar = WorkCalendar(
        ReferenceIndex({}), on_missing=lambda year, cal: told.append((year, cal))
    )
    assert calendar.is_workday(date(2027, 1, 1))  # a Friday; no statutory calendar known
    assert not calendar.is_workday(date(2027, 1, 2))  # a Saturday
    assert calendar.calendar_missing(date(2027, 1, 4))
    assert calendar.missing_years == {2027}
    assert told == [(2027, "default")]  # once per calendar and year, not per date


def test_r8_rows_for_a_later_year_are_its_calendar_and_the_year_is_no_longer_missing() -> None:
    rows = [
        {"calendar_id": None, "date": "2027-01-01", "kind": "holiday"},
        {"calendar_id": None, "date": "2027-02-06", "kind": "workday"},
    ]
    calendar = WorkCalendar(ReferenceIndex({"calendar": rows}))
    assert calendar.is_holiday(date(2027, 1, 1))
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_adjusted_workday(date(2027, 2, 6))  # a Saturday worked
    assert calendar.is_workday(date(2027, 1, 4))  # an ordinary Monday
    assert not calendar.calendar_missing(date(2027, 1, 4))
    assert calendar.missing_years == set()


def test_a_unit_calendar_row_overrides_the_default_calendar_and_the_package() -> None:
    rows = [
        {"calendar_id": "guiyang", "date": "2024-06-03", "kind": "holiday"},
        {"calendar_id": "default", "date": "2024-06-04", "kind": "holiday"},
        {"calendar_id": "guiyang", "date": "2024-06-04", "kind": "workday"},
    ]
    calendar = WorkCalendar(ReferenceIndex({"calendar": rows}))
    assert calendar.is_holiday(date(2024, 6, 3), "guiyang")
    assert calendar.is_workday(date(2024, 6, 3))  # the default calendar is not touched
    assert calendar.is_workday(date(2024, 6, 4), "guiyang")
    assert calendar.is_holiday(date(2024, 6, 4), None)


# --- deadlines ------------------------------------------------------------------------------


def test_working_day_deadline_counts_from_the_day_after_and_skips_the_weekend(
    calendar: WorkCalendar,
) -> None:
    # Accepted Friday 2024-06-14; three working days are Mon 17, Tue 18, Wed 19.
    due = calendar.deadline(at("2024-06-14T16:00"), 3, "working_days")
    assert due == at("2024-06-20T00:00")


def test_working_day_deadline_skips_national_day_and_counts_the_adjusted_saturday(
    calendar: WorkCalendar,
) -> None:
    # Sun 09-29 (worked) is the start day itself; then Mon 09-30, holiday 10-01..07, Tue 10-08 …
    # Sat 10-12 is the fifth working day after Sun 09-29: 09-30, 10-08, 10-09, 10-10, 10-11.
    assert calendar.add_working_days(date(2024, 9, 29), 5) == date(2024, 10, 11)
    assert calendar.add_working_days(date(2024, 9, 29), 6) == date(2024, 10, 12)
    due = calendar.deadline(at("2024-09-29T10:00"), 6, "working_days")
    assert due == at("2024-10-13T00:00")


def test_calendar_day_deadline_ending_on_a_statutory_holiday_moves_to_the_next_working_day(
    calendar: WorkCalendar,
) -> None:
    # 15 calendar days after 2024-09-18 is 2024-10-03, inside National Day; next working day 10-08.
    due = calendar.deadline(at("2024-09-18T09:00"), 15, "calendar_days")
    assert due == at("2024-10-09T00:00")


def test_calendar_day_deadline_ending_on_an_ordinary_day_ends_at_its_midnight(
    calendar: WorkCalendar,
) -> None:
    due = calendar.deadline(at("2024-06-17T23:59"), 7, "calendar_days")
    assert due == at("2024-06-25T00:00")


def test_calendar_day_deadline_ending_on_an_ordinary_sunday_moves_to_monday(
    calendar: WorkCalendar,
) -> None:
    # 民法典 第203条's 法定休假日 includes the weekly rest days: Sunday 2024-06-16 → Monday 06-17.
    due = calendar.deadline(at("2024-06-09T10:00"), 7, "calendar_days")
    assert due == at("2024-06-18T00:00")


def test_hour_deadline_is_wall_clock_across_a_holiday(calendar: WorkCalendar) -> None:
    assert calendar.deadline(at("2024-09-30T20:00"), 24, "hours") == at("2024-10-01T20:00")


def test_working_hour_deadline_skips_lunch_the_night_and_the_weekend(
    calendar: WorkCalendar,
) -> None:
    # Friday 16:00 → 1.5 h on Friday, then Monday 08:30 + 2.5 h = 11:00 (default hours).
    due = calendar.deadline(at("2024-06-14T16:00"), 4, "working_hours")
    assert due == at("2024-06-17T11:00")
    # 11:00 + 2 h: one hour before lunch, one after it.
    assert calendar.deadline(at("2024-06-17T11:00"), 2, "working_hours") == at("2024-06-17T14:00")


def test_working_hour_deadline_uses_the_units_own_hours_and_calendar(
    calendar: WorkCalendar,
) -> None:
    # Friday 17:00 → 0.5 h Friday, Saturday 09:00-12:00 weekend service counts 3 h, 0.5 h left.
    due = calendar.deadline(
        at("2024-06-14T17:00"),
        4,
        "working_hours",
        calendar_id=BRIGADE["calendar_id"],
        service_hours=BRIGADE["service_hours"],
    )
    assert due == at("2024-06-17T09:00")


def test_working_hours_between_counts_only_working_time(calendar: WorkCalendar) -> None:
    spent = calendar.working_hours_between(at("2024-06-14T11:00"), at("2024-06-17T09:00"))
    assert spent == timedelta(hours=1 + 4.5 + 0.5)


def test_deadline_in_a_year_without_calendar_does_not_crash(calendar: WorkCalendar) -> None:
    due = calendar.deadline(at("2027-03-05T10:00"), 2, "working_days")  # Friday
    assert due == at("2027-03-10T00:00")
    assert 2027 in calendar.missing_years


# --- service hours --------------------------------------------------------------------------


def test_service_hours_on_an_ordinary_monday_are_the_units_mon_hours(
    calendar: WorkCalendar,
) -> None:
    assert calendar.service_hours_for(BRIGADE, date(2024, 6, 17)) == [
        (time(8, 30), time(12, 0)),
        (time(13, 0), time(18, 0)),
    ]


def test_lunch_break_is_outside_service_hours(calendar: WorkCalendar) -> None:
    assert not calendar.within_service_hours(BRIGADE, at("2024-06-18T12:30"))
    assert calendar.within_service_hours(BRIGADE, at("2024-06-18T13:00"))


def test_service_hours_start_is_inclusive_and_end_is_exclusive(calendar: WorkCalendar) -> None:
    assert not calendar.within_service_hours(BRIGADE, at("2024-06-18T08:29:59"))
    assert calendar.within_service_hours(BRIGADE, at("2024-06-18T08:30:00"))
    assert calendar.within_service_hours(BRIGADE, at("2024-06-18T11:59:59"))
    assert not calendar.within_service_hours(BRIGADE, at("2024-06-18T12:00:00"))


def test_an_adjusted_sunday_has_the_units_monday_hours(calendar: WorkCalendar) -> None:
    sunday = date(2024, 9, 29)
    assert calendar.service_hours_for(BRIGADE, sunday) == calendar.service_hours_for(
        BRIGADE, date(2024, 6, 17)
    )
    assert calendar.within_service_hours(BRIGADE, at("2024-09-29T17:45"))  # Monday closes at 18:00


def test_a_statutory_holiday_has_no_service_hours_even_with_weekend_service(
    calendar: WorkCalendar,
) -> None:
    assert calendar.service_hours_for(BRIGADE, date(2024, 10, 5)) == []  # a Saturday in 国庆
    assert calendar.service_hours_for(STATION, date(2024, 10, 2)) == []
    assert not calendar.within_service_hours(BRIGADE, at("2024-10-05T10:00"))


def test_registered_weekend_service_applies_on_an_ordinary_saturday(
    calendar: WorkCalendar,
) -> None:
    assert calendar.service_hours_for(BRIGADE, date(2024, 6, 15)) == [(time(9, 0), time(12, 0))]
    assert calendar.service_hours_for(BRIGADE, date(2024, 6, 16)) == []  # no Sunday service


def test_a_unit_without_service_hours_works_the_default_hours_on_working_days_only(
    calendar: WorkCalendar,
) -> None:
    assert calendar.service_hours_for(STATION, date(2024, 6, 18)) == [
        (time(8, 30), time(12, 0)),
        (time(13, 0), time(17, 30)),
    ]
    assert calendar.service_hours_for(STATION, date(2024, 6, 15)) == []
    assert calendar.service_hours_for(STATION, date(2024, 10, 12)) == [
        (time(8, 30), time(12, 0)),
        (time(13, 0), time(17, 30)),
    ]
    assert calendar.within_service_hours(None, at("2024-06-18T17:29"))
    assert not calendar.within_service_hours(None, at("2024-06-18T17:30"))


def test_service_hours_read_from_a_csv_cell_of_json_text(calendar: WorkCalendar) -> None:
    unit = {"unit_code": "x", "service_hours": '{"tue": [["10:00", "24:00"]]}'}
    assert calendar.service_hours_for(unit, date(2024, 6, 18)) == [(time(10, 0), time.max)]
    assert calendar.within_service_hours(unit, at("2024-06-18T23:59:59"))
