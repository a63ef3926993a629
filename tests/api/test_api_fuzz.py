"""Whatever people type, the API answers 201 or 422 — never a server error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=5)
CUSTOMER_FIELDS = ("kind", "name", "short_name", "industry", "province", "city", "address",
                   "phones", "emails", "wechat", "gender", "birthday", "credit_code", "source",
                   "owner", "tags", "notes", "custom")


@pytest.fixture
def alice_api(alice, api_as):
    return api_as(alice)


@FUZZ
@given(name=st.text(max_size=250), phones=st.lists(st.text(max_size=30), max_size=3),
       emails=st.lists(st.text(max_size=40), max_size=3))
@example(name="零\x00字节", phones=[], emails=[])  # PostgreSQL cannot store NUL
@example(name="零字节", phones=["138\x0012345678"], emails=["a\x00@b.cn"])
def test_free_text_in_name_phones_and_emails_is_saved_or_refused(alice_api, name, phones, emails):
    response = alice_api.post("/customers", {"kind": "company", "name": name, "phones": phones,
                                             "emails": emails})
    assert response.status_code in (201, 422), response.content
    if response.status_code == 422:  # the field, or an item of it ("phones.0")
        fields = {e["field"].split(".")[0] for e in response.json()["errors"]}
        assert fields <= {"name", "phones", "emails"}


@FUZZ
@given(data=st.dictionaries(st.sampled_from(CUSTOMER_FIELDS), JSON_VALUES, max_size=6))
@example(data={"notes": "\x00"})
@example(data={"tags": ["重点\x00"]})
@example(data={"custom": {"level": "\x00"}})
@example(data={"owner": 10**30, "birthday": "9999-99-99"})
def test_any_json_in_any_field_is_saved_or_refused(alice_api, data):
    response = alice_api.post("/customers", {"kind": "person", "name": "张三", **data})
    assert response.status_code in (201, 422), response.content
    body = response.json()
    assert set(body) >= {"detail", "errors"} if response.status_code == 422 else "id" in body


@FUZZ
@given(number=st.integers(min_value=0))
@example(number=2**63)
def test_any_id_in_a_path_is_found_or_not_found(alice_api, number):
    # No record has an id beyond 64 bits: such an id is refused, naming the parameter.
    expected = 404 if number < 2**63 else 422
    response = alice_api.get(f"/customers/{number}")
    assert response.status_code == expected
    if expected == 422:
        assert [e["field"] for e in response.json()["errors"]] == ["customer_id"]
    assert alice_api.patch(f"/contacts/{number}", {"name": "x"}, if_match=1).status_code == expected
