"""Due dates fall on Chinese working days (issue 12, "Done when" item 2).

The 2026 dates come from chinese-calendar itself: 国庆 1–7 October 2026 (Thursday to
Wednesday), back on Thursday the 8th; Saturday 10 October 2026 is a 调休 working day. They
hold whatever today is; the tests about the library's end follow `library_last_year()`,
so a newer chinese-calendar does not break them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kehu.followup.calendar import (
    calendar_known_until,
    calendar_warning,
    due_on_working_day,
    is_working_day,
    library_last_year,
    next_working_day,
)
from kehu.followup.models import CalendarDay

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.mark.parametrize("day", [D(2026, 10, n) for n in range(1, 8)])
def test_a_due_date_on_national_day_moves_to_the_eighth(day):
    assert not is_working_day(day)
    assert due_on_working_day(day) == D(2026, 10, 8)


def test_a_make_up_working_saturday_stays():
    saturday = D(2026, 10, 10)
    assert saturday.weekday() == 5
    assert is_working_day(saturday)
    assert due_on_working_day(saturday) == saturday
    assert next_working_day(D(2026, 10, 9)) == saturday


def first_saturday_of_march(year: int) -> dt.date:
    day = D(year, 3, 1)
    return day + dt.timedelta(days=(5 - day.weekday()) % 7)


def test_a_year_beyond_the_library_falls_back_to_weekends():
    beyond = library_last_year() + 1  # 2027 with chinese-calendar 1.11; later with a newer one
    assert beyond >= 2027
    saturday = first_saturday_of_march(beyond)
    assert not is_working_day(saturday)
    assert due_on_working_day(saturday) == saturday + dt.timedelta(days=2)
    assert is_working_day(saturday - dt.timedelta(days=1))


def test_an_admin_entered_2027_holiday_is_honoured_and_takes_precedence(root):
    CalendarDay.objects.create(date=D(2027, 10, 1), kind=CalendarDay.HOLIDAY, name="国庆节")
    CalendarDay.objects.create(date=D(2027, 10, 4), kind=CalendarDay.HOLIDAY, name="国庆节")
    CalendarDay.objects.create(date=D(2027, 9, 26), kind=CalendarDay.WORKDAY, name="调休")
    assert due_on_working_day(D(2027, 10, 1)) == D(2027, 10, 5)  # Fri off, weekend, Mon off
    assert is_working_day(D(2027, 9, 26))  # a Sunday made a working day
    # An admin's day beats the library's too: 2026-10-08 declared off moves to the 9th.
    CalendarDay.objects.create(date=D(2026, 10, 8), kind=CalendarDay.HOLIDAY, name="加放")
    assert due_on_working_day(D(2026, 10, 3)) == D(2026, 10, 9)


def test_the_banner_warns_when_the_calendar_ends_within_sixty_days():
    last = library_last_year()
    assert calendar_known_until() == D(last, 12, 31)
    assert calendar_warning(D(last, 12, 5)) == \
        f"工作日历仅到 {last}-12-31，请录入 {last + 1} 年节假日"
    assert calendar_warning(D(last, 9, 1)) == ""
    CalendarDay.objects.create(date=D(last + 1, 1, 1), kind=CalendarDay.HOLIDAY, name="元旦")
    assert calendar_known_until() == D(last + 1, 12, 31)
    assert calendar_warning(D(last, 12, 5)) == ""
