"""Chinese mobiles skip phonenumbers when their prefix is valid throughout; the answer must
be exactly the library's, for any eleven digits written any way sheets write them."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.customers.normalizers import normalize_phone

FORMS = (lambda d: d, lambda d: f"{d[:3]}-{d[3:7]}-{d[7:]}",
         lambda d: f"+86 {d[:3]} {d[3:7]} {d[7:]}", lambda d: f"86-{d}", lambda d: f"+86{d}")


def by_the_library(digits: str) -> str | None:
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=400, deadline=None)
@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True), st.sampled_from(FORMS))
def test_a_mobile_normalises_as_phonenumbers_says(digits, form):
    try:
        ours = normalize_phone(form(digits))
    except ValidationError:
        ours = None
    assert ours == by_the_library(digits)


@pytest.mark.parametrize("digits", ["17993006709", "17400012345", "14000000000"])
def test_prefixes_the_library_treats_specially_take_the_slow_path(digits):
    try:
        ours = normalize_phone(digits)
    except ValidationError:
        ours = None
    assert ours == by_the_library(digits)
