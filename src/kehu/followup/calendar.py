"""Chinese working days: public holidays and 调休 make-up working days.

`chinese-calendar` knows the years the State Council has announced and raises
NotImplementedError for any other (1.11.0: 2004–2026). Days an admin enters
(`CalendarDay`, 设置 → 工作日历) take precedence over it; for a year neither knows,
Monday to Friday are working days. `calendar_known_until()` is the last day the
calendar is sure of — the library's last year, or a later year an admin has entered
holidays for — and `calendar_warning()` says so when that is less than 60 days away.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from chinese_calendar import constants as library_days
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.followup.models import CalendarDay

WARN_DAYS = 60
SEARCH_DAYS = 60  # the longest run of non-working days (Spring Festival + weekends) is ~10


@lru_cache(maxsize=1)
def library_last_year() -> int:
    """The last year chinese-calendar has data for (it raises beyond it)."""
    return max(day.year for day in (*library_days.holidays, *library_days.workdays))


def admin_days() -> dict[dt.date, str]:
    """{date: kind} of the days admins entered (one query)."""
    return dict(CalendarDay.objects.values_list("date", "kind"))


def is_working_day(day: dt.date, *, overrides: dict[dt.date, str] | None = None) -> bool:
    """Whether `day` is a working day: an admin's day, else the library, else Mon–Fri."""
    overrides = admin_days() if overrides is None else overrides
    if day in overrides:
        return overrides[day] == CalendarDay.WORKDAY
    if day.year <= library_last_year():
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # before 2004
            pass
    return day.weekday() < 5


def next_working_day(day: dt.date, *, overrides: dict[dt.date, str] | None = None) -> dt.date:
    """The first working day after `day`."""
    return due_on_working_day(day + dt.timedelta(days=1), overrides=overrides)


def due_on_working_day(day: dt.date, *, overrides: dict[dt.date, str] | None = None) -> dt.date:
    """`day` itself when it is a working day, else the next one (a due date landing on
    国庆 moves to the first day back; a 调休 working Saturday stays)."""
    overrides = admin_days() if overrides is None else overrides
    for offset in range(SEARCH_DAYS):
        candidate = day + dt.timedelta(days=offset)
        if is_working_day(candidate, overrides=overrides):
            return candidate
    return day  # an admin declared two months of holidays: leave the date as it is


def calendar_known_until() -> dt.date:
    """The last day of the last year the calendar knows: the library's, or a later year
    for which an admin entered at least one holiday."""
    last = library_last_year()
    entered = CalendarDay.objects.filter(kind=CalendarDay.HOLIDAY, date__year__gt=last) \
        .order_by("-date").values_list("date", flat=True).first()
    return dt.date(entered.year if entered else last, 12, 31)


def calendar_warning(today: dt.date | None = None) -> str:
    """The banner's text when the calendar runs out within WARN_DAYS, else ""."""
    today = today or timezone.localdate()
    until = calendar_known_until()
    if (until - today).days > WARN_DAYS:
        return ""
    return _("工作日历仅到 %(until)s，请录入 %(year)d 年节假日") % {
        "until": until.isoformat(), "year": until.year + 1}
