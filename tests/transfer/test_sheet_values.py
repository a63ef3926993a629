"""Values as sheets hold them go through the same cleaners as the web and the API.

The import passes raw cells to `clean_date`, `clean_decimal` and the phone normaliser;
these are the formats the sample sheets (and real ones) use.
"""

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.cleaning import clean_date, clean_decimal
from kehu.customers.normalizers import normalize_phones


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2022/7/18", dt.date(2022, 7, 18)),
        ("2023年1月5日", dt.date(2023, 1, 5)),
        ("2020.11.30", dt.date(2020, 11, 30)),
        ("2020-11-30 00:00:00", dt.date(2020, 11, 30)),
        ("2020-11-30T08:30:00+08:00", dt.date(2020, 11, 30)),
        ("20201130", dt.date(2020, 11, 30)),
        ("２０２２／７／１８", dt.date(2022, 7, 18)),
        (" 2023 年 1 月 5 日 ", dt.date(2023, 1, 5)),
        ("44760", dt.date(2022, 7, 18)),          # an Excel serial as text
        (44760, dt.date(2022, 7, 18)),            # … as a number
        (44760.75, dt.date(2022, 7, 18)),         # … with a time of day
        (Decimal("61"), dt.date(1900, 3, 1)),
        (dt.datetime(2022, 7, 18, 9, 30), dt.date(2022, 7, 18)),  # noqa: DTZ001
        (dt.date(2022, 7, 18), dt.date(2022, 7, 18)),
        ("", None), (None, None), ("  ", None),
    ],
)
def test_sheet_dates(cell, day):
    assert clean_date(cell) == day


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("2023-02-30", "没有这一天"),
        ("2023年13月1日", "没有这一天"),
        ("下周一", "不是日期"),
        ("2023", "不是日期"),
        ("123", "不是日期"),
        (3, "超出范围"),
        (True, "不是日期"),
        (float("nan"), "不是日期"),
    ],
)
def test_what_is_not_a_date_says_which_value_and_why(cell, says):
    with pytest.raises(ValidationError) as caught:
        clean_date(cell)
    message = caught.value.messages[0]
    assert says in message and str(cell) in message


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("￥12,800.00", Decimal("12800.00")),
        ("¥ 12,800", Decimal("12800")),
        ("12800元", Decimal("12800")),
        ("1.2万", Decimal("12000")),
        ("1.2万元", Decimal("12000")),
        ("3.5亿", Decimal("350000000")),
        ("8,650.5", Decimal("8650.5")),
        ("１２，８００．５", Decimal("12800.5")),
        ("RMB 500", Decimal("500")),
        ("-1,200", Decimal("-1200")),
        ("35000", Decimal("35000")),
        (35000, Decimal("35000")),
        (8650.5, Decimal("8650.5")),
        (Decimal("0.01"), Decimal("0.01")),
    ],
)
def test_sheet_amounts(cell, amount):
    assert clean_decimal(cell) == amount


@pytest.mark.parametrize(
    ("cell", "says"),
    [("1,2", "千分位"), ("12,80.0", "千分位"), ("abc", "不是数字"), ("", "不是数字"),
     ("万", "不是数字"), ("NaN", "不是数字"), ("1e99999999万", "不是数字"), (True, "不是数字")],
)
def test_what_is_not_an_amount_says_which_value_and_why(cell, says):
    with pytest.raises(ValidationError) as caught:
        clean_decimal(cell)
    assert says in caught.value.messages[0] and str(cell) in caught.value.messages[0]


@pytest.mark.parametrize(
    ("cell", "numbers"),
    [
        ("13812345678、13987654321", ["+8613812345678", "+8613987654321"]),
        ("13812345678，13987654321", ["+8613812345678", "+8613987654321"]),
        ("13812345678 13987654321", ["+8613812345678", "+8613987654321"]),
        ("13812345678; 0755-26668888", ["+8613812345678", "+8675526668888"]),
        ("138 1234 5678", ["+8613812345678"]),
        ("+86 138 1234 5678", ["+8613812345678"]),
        ("（+86）15938115817", ["+8615938115817"]),
        ("１３８１２３４５６７８", ["+8613812345678"]),
        ("13812345678（微信同号）", ["+8613812345678"]),
        ("010-88886666 分机 12", ["+861088886666;ext=12"]),
        ("(0755) 2666 8888", ["+8675526668888"]),
    ],
)
def test_phone_cells(cell, numbers):
    assert normalize_phones(cell) == numbers


def test_a_short_phone_names_itself():
    with pytest.raises(ValidationError) as caught:
        normalize_phones("13812345678/1381234567")
    assert "1381234567" in caught.value.messages[0] and "位数" in caught.value.messages[0]


amounts = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=2,
                      allow_nan=False, allow_infinity=False)


@given(amounts, st.sampled_from(["{:,}", "￥{:,}", "¥{}", "{}元", "{:,} 元", "RMB {}", "{}"]))
def test_any_amount_we_format_parses_back(amount, pattern):
    assert clean_decimal(pattern.format(amount)) == amount


@given(amounts)
def test_an_amount_in_wan_parses_back(amount):
    assert clean_decimal(f"{amount.scaleb(-4)}万") == amount


@given(st.dates(min_value=dt.date(1900, 3, 1)),
       st.sampled_from(["%Y-%m-%d", "%Y/%-m/%-d", "%Y年%-m月%-d日", "%Y.%m.%d", "%Y%m%d",
                        "%Y-%m-%d %H:%M:%S"]))
def test_any_date_we_print_parses_back(day, pattern):
    if day.year < 1000:
        return  # four-digit years only, as sheets write them
    assert clean_date(day.strftime(pattern)) == day


@given(st.integers(min_value=61, max_value=2958465))
def test_every_serial_is_the_day_excel_shows(serial):
    assert clean_date(serial) == dt.date(1899, 12, 30) + dt.timedelta(days=serial)


junk = st.one_of(st.text(), st.integers(), st.floats(), st.decimals(), st.booleans(), st.none())


@given(junk)
def test_junk_dates_raise_only_validation_errors(value):
    with contextlib.suppress(ValidationError):  # anything else fails the test
        clean_date(value)


@given(junk)
def test_junk_amounts_raise_only_validation_errors(value):
    with contextlib.suppress(ValidationError):  # anything else fails the test
        clean_decimal(value)


@given(st.text())
def test_junk_phones_raise_only_validation_errors(value):
    with contextlib.suppress(ValidationError):  # anything else fails the test
        normalize_phones(value)
