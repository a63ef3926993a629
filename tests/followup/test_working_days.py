"""Due dates fall on Chinese working days (issue 12, "Done when" item 2).

The 2026 dates come from chinese-calendar itself: 国庆 1–7 October 2026 (Thursday to
Wednesday), back on Thursday the 8th; Saturday 10 October 2026 is a 调休 working day.
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


def test_2027_is_beyond_the_library_and_falls_back_to_weekends():
    assert library_last_year() == 2026
    saturday = D(2027, 3, 6)
    assert not is_working_day(saturday)
    assert due_on_working_day(saturday) == D(2027, 3, 8)
    assert is_working_day(D(2027, 3, 5))


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
    assert calendar_known_until() == D(2026, 12, 31)
    assert calendar_warning(D(2026, 12, 5)) == "工作日历仅到 2026-12-31，请录入 2027 年节假日"
    assert calendar_warning(D(2026, 9, 1)) == ""
    CalendarDay.objects.create(date=D(2027, 1, 1), kind=CalendarDay.HOLIDAY, name="元旦")
    assert calendar_known_until() == D(2027, 12, 31)
    assert calendar_warning(D(2026, 12, 5)) == ""
