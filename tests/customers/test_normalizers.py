"""What people type into phone, email and credit-code cells, and what Kehu makes of it."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kehu.customers import normalizers
from kehu.customers.cleaning import clean_customer, clean_date


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("138-1234-5678", ["+8613812345678"]),
        ("+86 138 1234 5678", ["+8613812345678"]),
        ("86-13812345678", ["+8613812345678"]),
        ("0086 13812345678", ["+8613812345678"]),
        ("010-88886666", ["+861088886666"]),
        ("(0755)26668888", ["+8675526668888"]),
        ("0755-26668888转801", ["+8675526668888;ext=801"]),
        ("13812345678（微信同号）", ["+8613812345678"]),
        ("13812345678/13987654321", ["+8613812345678", "+8613987654321"]),
        ("+1 650 253 0000", ["+16502530000"]),
    ],
)
def test_sheet_phone_cells_become_e164(cell, expected):
    assert normalizers.normalize_phones(cell) == expected


@pytest.mark.parametrize("cell", ["1381234567", "12345", "电话待补", "138-1234-56789"])
def test_a_bad_phone_says_which_value_is_wrong(cell):
    with pytest.raises(ValidationError) as error:
        normalizers.normalize_phones(cell)
    assert cell in error.value.messages[0]


def test_credit_code_check_digit():
    assert normalizers.normalize_credit_code("91110000802100433b") == "91110000802100433B"
    with pytest.raises(ValidationError, match="校验位"):
        normalizers.normalize_credit_code("91110000802100433C")
    with pytest.raises(ValidationError, match="18 位"):
        normalizers.normalize_credit_code("9111000080210043")


def test_emails_keep_the_local_part_and_lower_the_domain():
    assert normalizers.normalize_emails("Li.Lei@Example.COM; li.lei@example.com") == [
        "Li.Lei@example.com"
    ]
    with pytest.raises(ValidationError, match="邮箱"):
        normalizers.normalize_emails("li.lei#example.com")


@pytest.mark.parametrize("cell", ["2022/7/18", "2023年1月5日", "2020.11.30", "2021-03-04"])
def test_dates_in_the_formats_sheets_use(cell):
    assert clean_date(cell).year in (2020, 2021, 2022, 2023)


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ValidationError) as error:
        clean_customer({"kind": "alien", "name": "", "phones": ["12"], "emails": ["x"],
                        "birthday": "yesterday"})
    assert set(error.value.message_dict) == {"kind", "name", "phones", "emails", "birthday"}


@given(st.text(max_size=40))
def test_any_phone_cell_is_either_normalised_or_refused_with_a_message(cell):
    try:
        numbers = normalizers.normalize_phones(cell)
    except ValidationError as error:
        assert error.messages and all(message for message in error.messages)
    else:
        assert all(number.startswith("+") for number in numbers)
        # What Kehu stores cleans to itself: an export or an API GET sent back changes nothing.
        assert normalizers.normalize_phones(numbers) == numbers


def test_a_stored_extension_cleans_to_itself():
    stored = normalizers.normalize_phones("021-58881234 转 8001")
    assert stored == ["+862158881234;ext=8001"]
    assert normalizers.normalize_phones(stored) == stored
    assert normalizers.normalize_phones(";".join(stored + ["13812345678"])) == \
        [*stored, "+8613812345678"]


@given(st.dictionaries(st.sampled_from(["name", "kind", "phones", "emails", "credit_code",
                                        "birthday", "industry", "notes"]),
                       st.one_of(st.text(max_size=30), st.none(), st.lists(st.text(max_size=15)))))
def test_any_customer_input_is_cleaned_or_refused_per_field(data):
    try:
        clean_customer(data)
    except ValidationError as error:
        assert error.message_dict
