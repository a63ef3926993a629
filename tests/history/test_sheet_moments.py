"""Moments as sheets write them (2025/3/8 10:30, 2025年3月8日 10:30:05) read back exactly.

From 1992: Beijing kept summer time from 1986 to 1991, whose skipped hours do not read back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kehu.history.cleaning import clean_datetime

FORMATS = ("{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}:{d.second:02d}",
           "{d.year}年{d.month}月{d.day}日 {d.hour:02d}:{d.minute:02d}:{d.second:02d}",
           "{d.year}.{d.month:02d}.{d.day:02d} {d.hour}：{d.minute:02d}：{d.second:02d}")


FIRST, LAST = dt.datetime(1992, 1, 1), dt.datetime(2100, 1, 1)  # noqa: DTZ001 (wall clock)


@given(moment=st.datetimes(min_value=FIRST, max_value=LAST)
       .map(lambda d: d.replace(microsecond=0)), form=st.sampled_from(FORMATS))
def test_a_written_moment_reads_back_as_itself(moment, form):
    cleaned = clean_datetime(form.format(d=moment))
    assert timezone.localtime(cleaned).replace(tzinfo=None) == moment


def test_a_day_alone_is_its_midnight_and_a_bad_clock_is_named():
    assert timezone.localtime(clean_datetime("2025/3/8")).hour == 0
    with pytest.raises(ValidationError, match="25:61"):
        clean_datetime("2025/3/8 25:61")
