"""Quick search finds customers by any part of the name, pinyin, initials, phone or email."""

import pytest

from kehu.customers import selectors, services
from kehu.customers.filters import CustomerFilters
from kehu.customers.search import PROBE_LIMIT, search_filter
from kehu.customers.searchindex import search_index_refresh_range


def found(user, q):
    page = selectors.customer_list(viewer=user, filters=CustomerFilters.from_params({"q": q}))
    return sorted(c.name for c in page.items)


@pytest.fixture
def book(alice, make_customer):
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"],
                  emails=["Buyer@XiHu-Tea.cn"])
    make_customer(alice, name="北京西湖餐饮管理有限公司", short_name="西湖餐饮")
    make_customer(alice, kind="person", name="曾小贤", phones=["0571-88886666"])
    return alice


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("西湖", ["北京西湖餐饮管理有限公司", "杭州西湖茶业有限公司"]),  # two characters: plain filter
        ("西湖茶业", ["杭州西湖茶业有限公司"]),  # trigram index
        ("hzxh", ["杭州西湖茶业有限公司"]),  # pinyin initials
        ("zxx", ["曾小贤"]),  # 曾 as a surname reads zeng
        ("xihucanyin", ["北京西湖餐饮管理有限公司"]),  # full pinyin
        ("1234567", ["杭州西湖茶业有限公司"]),  # phone digits
        ("138-1234-5678", ["杭州西湖茶业有限公司"]),  # phone as written
        ("8888666", ["曾小贤"]),
        ("xihu-tea", ["杭州西湖茶业有限公司"]),  # email, any case
        ("不存在的公司", []),
    ],
)
def test_quick_search(book, q, names):
    assert found(book, q) == names


def test_search_still_respects_scope(book, charlie):
    assert found(charlie, "西湖茶业") == []


def test_the_index_follows_edits(book):
    customer = selectors.customer_list(
        viewer=book, filters=CustomerFilters.from_params({"q": "西湖茶业"})).items[0]
    services.customer_update(actor=book, origin="manual", customer=customer,
                             data={"name": "杭州龙井茶业有限公司"})
    assert found(book, "西湖茶业") == []
    assert found(book, "龙井茶业") == ["杭州龙井茶业有限公司"]


def test_a_common_term_falls_back_to_the_plain_filter(alice):
    from kehu.customers.models import Customer

    made = Customer.objects.bulk_create(
        Customer(kind="company", name=f"示例公司{i}", owner=alice) for i in range(PROBE_LIMIT + 5)
    )
    search_index_refresh_range(made[0].pk, made[-1].pk)  # what every raw loader must call
    assert "pk__in" not in str(search_filter("示例公司", masked={}))
    assert "pk__in" in str(search_filter("示例公司1234", masked={}))
    assert len(found(alice, "示例公司")) == 50
