"""The import's writer stores search grams computed from the values in hand (in its
cleaning process); they must be exactly the grams `search_index_refresh` computes from the
stored customer and contact, for any names, phones and e-mails."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.customers.bulk import NewCustomer, customers_bulk_create, new_customer_prepare
from kehu.customers.searchindex import search_index_refresh

pytestmark = pytest.mark.django_db
NAMES = "北京上海重庆长沙银行音乐科技有限公司曾单解区仇朴查中国移动华为王伟丽ABCxyz019（）()·-& 　"
names = st.text(alphabet=NAMES, min_size=1, max_size=20).filter(str.strip)
phones = st.lists(st.integers(0, 10**8 - 1).map(lambda n: f"+86138{n:08d}"), max_size=3)
emails = st.lists(st.from_regex(r"[A-Za-z0-9._]{1,10}@[a-z]{1,8}\.(cn|com)", fullmatch=True),
                  max_size=2)
contacts = st.none() | st.fixed_dictionaries({
    "name": names, "phones": phones, "email": st.sampled_from(["", "Li.Na@Example.cn"]),
    "wechat": st.sampled_from(["", "wx_li"])})
customers = st.fixed_dictionaries({
    "name": names, "kind": st.sampled_from(["person", "company"]),
    "short_name": st.sampled_from(["", "华为", "ACME"]), "phones": phones, "emails": emails,
    "wechat": st.sampled_from(["", "wx_zeng"])})


def stored(pk: int) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT grams FROM customers_searchgrams WHERE rowid = %s", [pk])
            return cursor.fetchone()[0]
        cursor.execute("SELECT grams FROM customers_searchgrams WHERE customer_id = %s", [pk])
        return " ".join(cursor.fetchone()[0])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=customers, contact=contacts, prepared=st.booleans())
def test_grams_from_values_in_hand_are_those_of_the_stored_rows(alice, values, contact,
                                                                prepared):
    item = NewCustomer(values=dict(values), owner_id=alice.pk, contact=contact)
    if prepared:
        new_customer_prepare(item)  # as the import's cleaning process does
    created, _contacts = customers_bulk_create(actor=alice, origin="import", items=[item])
    pk = created[0].pk
    written = stored(pk)
    assert not prepared or written == item.grams
    search_index_refresh([pk])  # from the stored rows
    assert stored(pk) == written
