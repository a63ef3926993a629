"""Search of every length, ranked, with why each customer matched (issue 10 #1).

Alice keeps 张三 (a person), 张三丰 and 曾小贤, and a company whose contact is called
张三. She finds 张三 however she types it — zs, zhangsan, 张, 三, 张三, four digits of
his phone — with the exact match first and the contact last, saying why it was found.
Charlie, in another region, finds none of it, through the API or the web.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kehu.customers import ranking, searchindex, selectors, services
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Customer
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as():
    from kehu.accounts.services import token_create

    return lambda user: Caller(token_create(user=user, name="test")[1])


def search(user, q: str, **params) -> list[Customer]:
    filters = CustomerFilters.from_params({"q": q, **params})
    return selectors.customer_list(viewer=user, filters=filters).items


def names(user, q: str) -> list[str]:
    return [c.name for c in search(user, q)]


@pytest.fixture
def book(alice, make_customer):
    make_customer(alice, kind="person", name="张三", phones=["13812345678"],
                  emails=["san.zhang@example.cn"])
    make_customer(alice, kind="person", name="张三丰", phones=["13900002222"])
    make_customer(alice, kind="person", name="曾小贤")
    company = make_customer(alice, name="北京星辰科技有限公司")
    services.contact_create(actor=alice, customer=company, origin="manual",
                            data={"name": "张三", "phones": ["13700004444"],
                                  "email": "buyer@stellar-tech.cn"})
    return alice


@pytest.mark.parametrize("q", ["zs", "zhangsan", "张", "三", "张三", "2345", "1381234"])
def test_alice_finds_zhang_san_however_she_types_it(book, q):
    assert "张三" in names(book, q)


def test_a_surname_read_its_own_way_is_found_by_its_initials(book):
    assert names(book, "zxx") == ["曾小贤"]
    assert names(book, "zengxiaoxian") == ["曾小贤"]


def test_the_exact_name_comes_first_then_the_longer_name_then_the_contact(book):
    # 张三丰 and the company were written after 张三: recency alone would put them first.
    assert names(book, "张三") == ["张三", "张三丰", "北京星辰科技有限公司"]
    assert names(book, "zs") == ["张三", "张三丰"]  # exact initials before a longer prefix


def test_each_result_says_why_it_matched(book):
    matched = {c.name: c.matched for c in search(book, "张三")}
    assert matched["张三"] == {"field": "name", "text": "张三"}
    assert matched["北京星辰科技有限公司"] == {"field": "contact", "text": "张三"}
    assert search(book, "zxx")[0].matched == {"field": "initials", "text": "zxx"}
    assert search(book, "0000444")[0].matched == {
        "field": "contact_phone", "text": "+8613700004444", "contact": "张三"}


def test_a_customer_is_found_by_its_contacts_phone_and_email(book):
    assert names(book, "137-0000-4444") == ["北京星辰科技有限公司"]
    assert names(book, "stellar") == ["北京星辰科技有限公司"]
    assert names(book, "buyer@stellar-tech.cn") == ["北京星辰科技有限公司"]


def test_the_index_follows_contact_edits(book):
    contact = selectors.contact_page(viewer=book).items[0]
    services.contact_update(actor=book, contact=contact, origin="manual",
                            data={"name": "欧阳建军"})
    assert names(book, "欧") == ["北京星辰科技有限公司"]
    assert names(book, "建军") == ["北京星辰科技有限公司"]
    assert names(book, "张三") == ["张三", "张三丰"]
    services.contact_delete(actor=book, contact=contact, origin="manual")
    assert names(book, "建军") == []


def test_the_index_follows_renames(book):
    customer = search(book, "曾小贤")[0]
    services.customer_update(actor=book, customer=customer, origin="manual",
                             data={"name": "单田芳"})
    assert names(book, "曾") == []
    assert names(book, "stf") == ["单田芳"]  # 单 as a surname reads shan


def test_charlie_finds_none_of_alices_customers_by_any_way_of_typing(book, charlie, api_as,
                                                                       login):
    api, web = api_as(charlie), login(charlie)
    for q in ("张三", "zs", "张", "2345", "stellar", "zxx"):
        assert names(charlie, q) == [], q
        assert api.get("/customers", q=q).json()["items"] == [], q
        assert web.get(reverse("customers:list"), {"q": q}).context["rows"] == [], q


def test_the_api_ranks_and_explains_too(book, api_as):
    body = api_as(book).get("/customers", q="张三").json()
    assert [c["name"] for c in body["items"]] == ["张三", "张三丰", "北京星辰科技有限公司"]
    assert body["items"][2]["matched"] == {"field": "contact", "text": "张三"}
    assert api_as(book).get("/customers", q="张三", sort="-updated_at").json()["items"][0][
        "name"] == "北京星辰科技有限公司"  # a sort asked for is kept: newest first


def test_the_web_list_shows_why_a_customer_matched(book, login):
    response = login(book).get(reverse("customers:list"), {"q": "张三"})
    assert "联系人：张三" in response.content.decode()


def test_a_masked_viewer_sees_why_masked_and_cannot_search_a_contacts_phone_by_part(
        book, anna):
    assert names(anna, "0000444") == []
    assert names(anna, "13700004444") == ["北京星辰科技有限公司"]
    assert search(anna, "13700004444")[0].matched["text"] == "137****4444"
    assert names(anna, "buyer@stellar") == []
    assert names(anna, "stellar-tech") == []


def test_ranked_pages_cover_every_match_once(alice, make_customer):
    for i in range(7):
        make_customer(alice, name=f"西湖{i}号茶庄")
    make_customer(alice, name="西湖")
    filters = CustomerFilters.from_params({"q": "西湖"})
    seen, cursor = [], None
    while True:
        page = selectors.customer_list(viewer=alice, filters=filters, cursor=cursor, limit=3)
        seen += [c.name for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen[0] == "西湖" and sorted(seen[1:]) == sorted(f"西湖{i}号茶庄" for i in range(7))
    assert len(seen) == 8


def test_a_common_term_still_puts_the_exact_name_first_and_pages_through_the_rest(
        alice, charlie, make_customer, monkeypatch):
    monkeypatch.setattr(searchindex, "probe_limit", lambda: 3)  # "common" from four on
    monkeypatch.setattr(searchindex, "PROBE_LIMIT", 3)  # and ranked in full up to three
    make_customer(alice, name="茶")
    for i in range(5):
        make_customer(alice, name=f"龙井{i}茶")
    make_customer(charlie, name="南方茶")
    filters = CustomerFilters.from_params({"q": "茶"})
    first = selectors.customer_list(viewer=alice, filters=filters, limit=4)
    assert [c.name for c in first.items] == ["茶", "龙井4茶", "龙井3茶", "龙井2茶"]
    second = selectors.customer_list(viewer=alice, filters=filters, limit=4,
                                     cursor=first.next_cursor)
    assert [c.name for c in second.items] == ["龙井1茶", "龙井0茶"]
    assert second.next_cursor is None


@pytest.mark.parametrize("walk_limit", [0, 1000], ids=["plain walk", "walk within candidates"])
def test_a_term_between_rare_and_common_pages_the_same_walked_either_way(
        alice, charlie, make_customer, monkeypatch, walk_limit):
    monkeypatch.setattr(searchindex, "probe_limit", lambda: 3)  # "common" from four on
    monkeypatch.setattr(searchindex, "PROBE_LIMIT", 3)  # and ranked in full up to three
    monkeypatch.setattr(searchindex, "walk_limit", lambda: walk_limit)
    # The table's size is kept per process (ten minutes): here it holds these eight.
    monkeypatch.setattr(searchindex, "table_size", lambda: 8)
    make_customer(alice, name="西湖茶")
    for i in range(5):
        make_customer(alice, name=f"杭州西湖茶{i}号")
    make_customer(alice, name="西湖 湖茶庄")  # holds both pairs of 西湖茶 but not the term
    make_customer(charlie, name="南京西湖茶")  # a candidate out of Alice's scope
    filters = CustomerFilters.from_params({"q": "西湖茶"})
    with CaptureQueriesContext(connection) as queries:
        first = selectors.customer_list(viewer=alice, filters=filters, limit=4)
    assert [c.name for c in first.items] == ["西湖茶", "杭州西湖茶4号", "杭州西湖茶3号",
                                             "杭州西湖茶2号"]
    second = selectors.customer_list(viewer=alice, filters=filters, limit=4,
                                     cursor=first.next_cursor)
    assert [c.name for c in second.items] == ["杭州西湖茶1号", "杭州西湖茶0号"]
    assert second.next_cursor is None
    within = any('+"customers_customer"."id" IN (SELECT rowid' in q["sql"] for q in queries)
    assert within == (walk_limit > 0 and connection.vendor == "sqlite")


def test_a_junk_ranked_cursor_is_a_422_not_a_500(book, api_as):
    response = api_as(book).get("/customers", q="张三", cursor="bm9wZQ")
    assert response.status_code == 422


def test_every_page_has_a_search_box_that_goes_to_the_customer_list(book, login):
    page = login(book).get(reverse("history:orders")).content.decode()
    assert 'id="global-q"' in page and f'action="{reverse("customers:list")}"' in page
    assert 'aria-keyshortcuts="/"' in page
    found = login(book).get(reverse("customers:list"), {"q": "zxx"})
    assert [row.customer.name for row in found.context["rows"]] == ["曾小贤"]


def test_typing_in_the_lists_box_is_ranked_though_the_form_sends_an_empty_sort(book, login):
    client = login(book)
    assert 'name="sort" value=""' in client.get(reverse("customers:list")).content.decode()
    rows = client.get(reverse("customers:list"),
                      {"q": "张三", "sort": "", "kind": "", "industry": ""}).context["rows"]
    assert [row.customer.name for row in rows] == ["张三", "张三丰", "北京星辰科技有限公司"]
    assert rows[0].name_parts == ("", "张三", "")
    assert rows[2].why == "联系人：张三"


def test_a_wechat_id_finds_its_customer_by_part_and_only_whole_for_a_masked_viewer(
        alice, anna, make_customer):
    customer = make_customer(alice, name="上海某某科技有限公司", wechat="shmm_tech_2024")
    services.contact_create(actor=alice, customer=customer, origin="manual",
                            data={"name": "李四", "wechat": "lisi_wx_88"})
    assert names(alice, "tech_20") == ["上海某某科技有限公司"]
    assert search(alice, "tech_20")[0].matched == {"field": "wechat", "text": "shmm_tech_2024"}
    assert search(alice, "lisi_wx")[0].matched == {
        "field": "contact_wechat", "text": "lisi_wx_88", "contact": "李四"}
    assert names(anna, "tech_2024") == [] and names(anna, "lisi_wx") == []
    assert names(anna, "SHMM_tech_2024") == ["上海某某科技有限公司"]
    assert names(anna, "lisi_wx_88") == ["上海某某科技有限公司"]
    assert search(anna, "lisi_wx_88")[0].matched["text"] == "lisi**x_88"


@pytest.mark.postgres
def test_the_gram_probe_is_planned_for_each_term_not_once_for_all(alice, make_customer):
    """With prepared statements on, PostgreSQL would settle on one generic plan for the
    probe after five runs — for every term, common or rare alike (a common term's probe
    took 98 ms so, 43 with its own plan). The probe is never prepared; a list query is."""
    make_customer(alice, name="杭州西湖茶业有限公司")
    for term in ["西湖", "茶业", "有限", "公司", "限公", "杭州", "西湖"]:
        searchindex.probe([searchindex.term_text_grams(term)], estimate=False)
        search(alice, term, sort="name")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert not [s for s in prepared if "customers_searchgrams" in s and "LIMIT" in s
                and s.lstrip().startswith("SELECT customer_id")]
    assert any("customers_customer" in s for s in prepared)  # prepared statements are on


def pages(user, q: str, limit: int) -> list[str]:
    filters = CustomerFilters.from_params({"q": q})
    seen, cursor = [], None
    while True:
        page = selectors.customer_list(viewer=user, filters=filters, cursor=cursor, limit=limit)
        seen += [c.name for c in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("rank_all", [0, 1000], ids=["walked newest first", "ranked at once"])
def test_four_digits_list_the_names_first_then_the_phones_newest_first(
        alice, charlie, make_customer, monkeypatch, rank_all):
    """Alice types 5566: the shop named 5566… first, then the one with 5566 in its name,
    then every customer whose phone holds it, the one she has just edited first — page
    after page, none twice, none of Charlie's."""
    for i in range(3):
        make_customer(charlie, name=f"南京客户{i}号", phones=[f"13700{i}05566"])
    phones = [make_customer(alice, name=f"客户{i}号", phones=[f"13900{i}05566"])
              for i in range(7)]
    make_customer(alice, name="华为5566专卖店")
    make_customer(alice, name="5566数码科技有限公司")
    services.customer_update(actor=alice, customer=Customer.objects.get(pk=phones[0].pk),
                             data={"notes": "又来电话了"}, origin="manual")
    expected = ["5566数码科技有限公司", "华为5566专卖店", "客户0号", "客户6号", "客户5号",
                "客户4号", "客户3号", "客户2号", "客户1号"]
    monkeypatch.setattr(ranking, "RANK_ALL", rank_all)  # PostgreSQL: …
    monkeypatch.setattr(ranking, "FIRST_CHUNK", 1)  # … walks the candidates 1, 4, 16 at a time
    for limit in (2, 3, 50):
        assert pages(alice, "5566", limit) == expected
    assert pages(charlie, "5566", 2) == ["南京客户2号", "南京客户1号", "南京客户0号"]
    # 0556 is in no name (nor in the names' grams): only the phones, newest first
    assert pages(alice, "0556", 2) == expected[2:]


@pytest.mark.postgres
def test_the_index_keeps_each_customers_last_change_whatever_writes_it(alice, make_customer):
    """PostgreSQL's gram rows carry updated_at (ranked search reads them newest first): a
    service's save, a queryset update and a fresh index row all keep it equal."""
    customer = make_customer(alice, name="杭州西湖茶业有限公司")

    def stamps() -> tuple:
        with connection.cursor() as cursor:
            cursor.execute("SELECT g.updated_at, c.updated_at FROM customers_searchgrams g"
                           " JOIN customers_customer c ON c.id = g.customer_id WHERE c.id = %s",
                           [customer.pk])
            return cursor.fetchone()

    first, now = stamps()
    assert first == now
    services.customer_update(actor=alice, customer=Customer.objects.get(pk=customer.pk),
                             data={"notes": "回访"}, origin="manual")
    second, now = stamps()
    assert second == now and second > first
    Customer.objects.filter(pk=customer.pk).update(updated_at=first)
    assert stamps() == (first, first)
    searchindex.search_index_refresh([customer.pk])
    assert stamps() == (first, first)


def _analysed(monkeypatch) -> None:
    """ANALYZE the gram rows and have the search read their statistics afresh (put back
    after the test, so no later test sees these)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_searchgrams")
    for key in ("at", "rows", "freqs", "days"):
        monkeypatch.setitem(searchindex._stats, key, searchindex._stats[key])
    searchindex._stats["at"] = -searchindex._SIZE_TTL


@pytest.mark.postgres
def test_a_term_whose_grams_the_statistics_show_common_together_is_walked_without_a_probe(
        alice, charlie, make_customer, monkeypatch):
    """PostgreSQL's statistics say 西湖 and 湖茶 are each in 8 of 10 customers' grams: 西湖茶
    (both together) is common past doubt, so the index is not asked — a GIN probe builds
    every match before its LIMIT. 东湖 (one customer) is probed as before."""
    monkeypatch.setattr(searchindex, "probe_limit", lambda: 3)  # "common" from four on
    monkeypatch.setattr(searchindex, "PROBE_LIMIT", 3)  # and ranked in full up to three
    for i in range(7):
        make_customer(alice, name=f"西湖茶庄{i}")
    make_customer(charlie, name="西湖茶楼")  # a candidate out of Alice's scope
    make_customer(alice, name="东湖")
    make_customer(alice, name="南湖")
    _analysed(monkeypatch)
    rows, frequencies = searchindex._pg_gram_stats()
    assert rows == 10 and frequencies["西湖"] == frequencies["湖茶"] == pytest.approx(0.8)

    def probed(term: str) -> tuple[list[str], bool]:
        with CaptureQueriesContext(connection) as queries:
            found = pages(alice, term, 4)
        return found, any("customers_searchgrams" in q["sql"] for q in queries)

    assert probed("西湖茶") == ([f"西湖茶庄{i}" for i in reversed(range(7))], False)
    assert probed("东湖") == (["东湖"], True)


def _aged(customers, weeks: int) -> None:
    """Last changed `weeks` weeks ago (each a second apart, in the order given)."""
    start = timezone.now() - dt.timedelta(weeks=weeks)
    for i, customer in enumerate(customers):
        Customer.objects.filter(pk=customer.pk).update(updated_at=start + dt.timedelta(seconds=i))


def _probes(user, term: str, limit: int) -> tuple[list[str], list[str]]:
    """The first page's names, and the gram index's queries that made it."""
    filters = CustomerFilters.from_params({"q": term})
    with CaptureQueriesContext(connection) as queries:
        page = selectors.customer_list(viewer=user, filters=filters, limit=limit)
    return ([c.name for c in page.items],
            [q["sql"] for q in queries if "FROM customers_searchgrams WHERE" in q["sql"]])


@pytest.fixture
def newest_days(monkeypatch):
    """A small table made to behave as a million: a term past two candidates is common, and
    four of them make a window; none is so dense that it is walked without one."""
    monkeypatch.setattr(searchindex, "PROBE_LIMIT", 2)
    monkeypatch.setattr(searchindex, "probe_limit", lambda: 50)
    monkeypatch.setattr(searchindex, "WINDOW_CANDIDATES", 4)
    monkeypatch.setattr(searchindex, "WINDOW_MAX_FRACTION", 1.0)
    monkeypatch.setattr(searchindex, "WINDOW_SHARE_MAX", 1.0)


@pytest.mark.postgres
def test_a_common_term_gives_its_first_page_from_its_newest_days(
        alice, charlie, make_customer, monkeypatch, newest_days):
    """流有 is in many names, most of them old. Alice's first page comes from the grams rows
    of the newest days alone — the GIN bitmap ANDed with the day index's — newest first,
    without Charlie's; the next pages go on from their last day into the older ones, none
    twice."""
    old = [make_customer(alice, name=f"旧流有{i}") for i in range(12)]
    [make_customer(alice, name=f"新流有{i}") for i in range(5)]
    theirs = make_customer(charlie, name="他的流有")
    _aged(old, weeks=30)
    _aged([theirs], weeks=0)
    _analysed(monkeypatch)
    newest = [f"新流有{i}" for i in reversed(range(5))]

    found, probes = _probes(alice, "流有", 4)
    assert found == newest[:4]
    assert len(probes) == 1 and "day >=" in probes[0]
    assert pages(alice, "流有", 4) == newest + [f"旧流有{i}" for i in reversed(range(12))]
    filters = CustomerFilters.from_params({"q": "流有"})
    first = selectors.customer_list(viewer=alice, filters=filters, limit=4)
    with CaptureQueriesContext(connection) as queries:  # the next page: up to its last day
        selectors.customer_list(viewer=alice, filters=filters, limit=4, cursor=first.next_cursor)
    assert any("day >=" in q["sql"] and "day <=" in q["sql"] for q in queries)


@pytest.mark.postgres
def test_when_the_newest_days_do_not_fill_the_page_the_older_matches_follow(
        alice, make_customer, monkeypatch, newest_days):
    """Only two of 流有's customers changed lately, and the window reaches back a week, to
    the day twelve others changed: the page of four lists the two, then the newest of the
    old ones, walked from the list."""
    old = [make_customer(alice, name=f"旧流有{i}") for i in range(12)]
    make_customer(alice, name="新流有0")
    make_customer(alice, name="新流有1")
    filler = [make_customer(alice, name=f"客户{i}") for i in range(12)]
    _aged(old, weeks=30)
    _aged(filler, weeks=1)
    _analysed(monkeypatch)

    found, probes = _probes(alice, "流有", 4)
    assert found == ["新流有1", "新流有0", "旧流有11", "旧流有10"]
    assert len(probes) == 1 and "day >=" in probes[0]


@pytest.mark.postgres
def test_a_strong_match_still_comes_before_the_newest_days(
        alice, make_customer, monkeypatch, newest_days):
    """1896 is in many phones changed this week, and begins the name of a shop untouched for
    half a year: the shop comes first, then the phones newest first from the newest days."""
    shop = make_customer(alice, name="1896数码店")
    old = [make_customer(alice, name=f"老客户{i}", phones=[f"1390{i:03d}1896"]) for i in range(12)]
    [make_customer(alice, name=f"新客户{i}", phones=[f"1380{i:03d}1896"]) for i in range(6)]
    _aged([shop], weeks=26)
    _aged(old, weeks=30)
    _analysed(monkeypatch)

    found, probes = _probes(alice, "1896", 4)
    assert found == ["1896数码店", "新客户5", "新客户4", "新客户3"]
    assert len(probes) == 1 and "day >=" in probes[0]


@pytest.mark.postgres
def test_a_gram_most_customers_hold_is_left_out_of_the_probe_not_out_of_the_match(
        alice, make_customer, monkeypatch):
    """湖茶 is in 8 of 10 customers' grams: the GIN probe for 东湖茶 asks for 东湖 alone (a
    long posting list barely narrows the candidates), and the plain filter still decides —
    东湖 itself, a candidate, is not a match."""
    for i in range(7):
        make_customer(alice, name=f"西湖茶庄{i}")
    make_customer(alice, name="东湖茶楼")
    make_customer(alice, name="东湖")
    make_customer(alice, name="南湖")
    _analysed(monkeypatch)

    found, probes = _probes(alice, "东湖茶", 50)
    assert found == ["东湖茶楼"]
    assert probes and all("湖茶" not in sql for sql in probes) and "东湖" in probes[0]
