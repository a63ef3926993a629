"""The customer pages, read as user stories. Real database, real services, no mocks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.customers import services
from kehu.customers.models import Customer

pytestmark = pytest.mark.django_db


def card_url(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def text(response) -> str:
    return response.content.decode()


def test_a_rep_creates_a_customer_sees_a_bad_phone_inline_and_fixes_it(alice, login):
    client = login(alice)
    form = {"kind": "company", "name": "宁波海曙文具有限公司", "phones": "138 1234",
            "owner": alice.pk}
    response = client.post(reverse("customers:create"), form)
    assert response.status_code == 200
    page = text(response)
    assert 'id="err-phones"' in page and "不是有效的电话号码" in page
    assert 'value="宁波海曙文具有限公司"' in page  # what she typed is kept
    assert not Customer.objects.filter(name="宁波海曙文具有限公司").exists()

    response = client.post(reverse("customers:create"), {**form, "phones": "138 1234 5678"})
    customer = Customer.objects.get(name="宁波海曙文具有限公司")
    assert response.status_code == 302 and response["Location"] == card_url(customer)
    assert customer.phones == ["+8613812345678"] and customer.owner == alice
    assert "138 1234 5678" in text(client.get(card_url(customer)))


def test_a_missing_name_is_flagged_next_to_the_name_field(alice, login):
    page = text(login(alice).post(reverse("customers:create"), {"kind": "company", "name": ""}))
    assert '<div class="field-errors" id="err-name" aria-live="polite"><p>必填</p></div>' in page


def test_a_field_is_checked_on_blur_with_the_services_own_rules(alice, login):
    client = login(alice)
    url = reverse("customers:validate")
    bad = client.post(url, {"phones": "138 1234"}, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="phones")
    assert "不是有效的电话号码" in text(bad)
    good = client.post(url, {"phones": "13812345678"}, HTTP_HX_REQUEST="true",
                       HTTP_HX_TRIGGER_NAME="phones")
    assert text(good).strip() == '<div class="field-errors" id="err-phones" aria-live="polite"></div>'


def test_the_list_filters_and_searches_by_pinyin_initials_phone_and_kind(alice, bob, login,
                                                                           make_customer):
    make_customer(alice, name="杭州西湖茶业有限公司", industry="retail", phones=["13812345678"])
    make_customer(alice, name="王小明", kind="person", phones=["13900001111"])
    make_customer(bob, name="北京字节跳动科技有限公司")
    client = login(alice)
    url = reverse("customers:list")

    page = text(client.get(url))
    assert "杭州西湖茶业有限公司" in page and "王小明" in page
    assert "北京字节跳动" not in page  # bob's customer is out of alice's scope
    assert "每页 50 条" in page

    for params, expected in [({"q": "hzxh"}, "杭州西湖茶业有限公司"), ({"q": "0000 1111"}, "王小明"),
                             ({"kind": "person"}, "王小明"), ({"industry": "retail"}, "杭州西湖")]:
        results = text(client.get(url, params, HTTP_HX_REQUEST="true"))
        assert expected in results, params
        assert "<html" not in results  # HTMX gets only the table
    assert "王小明" not in text(client.get(url, {"q": "hzxh"}, HTTP_HX_REQUEST="true"))


def test_a_bad_filter_is_reported_and_ignored_instead_of_failing(alice, login, alices_customer):
    page = text(login(alice).get(reverse("customers:list"), {"kind": "alien", "cursor": "garbage"}))
    assert "已忽略无效的条件" in page and "杭州西湖茶业有限公司" in page


def test_the_list_pages_with_cursors_not_offsets(alice, login, make_customer, settings):
    settings.KEHU_PAGE_SIZE = 2
    for name in ("甲公司", "乙公司", "丙公司"):
        make_customer(alice, name=name)
    client = login(alice)
    first = client.get(reverse("customers:list"), {"sort": "name"})
    next_url = first.context["next_url"]
    assert "cursor=" in next_url and "offset" not in next_url and "page=" not in next_url
    second = client.get(reverse("customers:list") + next_url)
    shown = [row.customer.name for row in first.context["rows"] + second.context["rows"]]
    assert sorted(shown) == sorted(["甲公司", "乙公司", "丙公司"])
    assert second.context["prev_url"] and not second.context["next_url"]


def test_the_list_page_costs_the_same_few_queries_however_many_rows(
    alice, login, make_customer, django_assert_max_num_queries
):
    for i in range(30):
        customer = make_customer(alice, name=f"客户{i}", tags="重点客户, 渠道商", phones=["13812345678"])
        services.contact_create(actor=alice, origin="manual", customer=customer, data={"name": "陈经理"})
    client = login(alice)
    # 12 + the bell's unread COUNT + the segment chips (one query, customers.segments) + the
    # builder's classification fields (one read of the dimension values) + the registered
    # columns, one query each for the page's ids (分类 and RFM, customers/list_columns.py);
    # the builder and the export columns reuse the page's one read of the custom fields;
    # + the viewer's pools (kehu.pool.gate, one lookup per request; none: no subquery).
    with django_assert_max_num_queries(18):
        response = client.get(reverse("customers:list"))
    assert len(response.context["rows"]) == 30


def test_the_card_shows_contacts_and_a_rep_adds_one_inline(alice, login, alices_customer):
    services.contact_create(actor=alice, origin="manual", customer=alices_customer,
                            data={"name": "陈经理", "title": "采购经理", "phones": ["13700002222"]})
    client = login(alice)
    page = text(client.get(card_url(alices_customer)))
    assert "陈经理" in page and "采购经理" in page and "137 0000 2222" in page

    url = reverse("customers:contact_create", args=[alices_customer.pk])
    bad = client.post(url, {"name": "刘总", "phones": "12"}, HTTP_HX_REQUEST="true")
    assert "不是有效的电话号码" in text(bad) and 'class="contact-edit"' in text(bad)
    good = client.post(url, {"name": "刘总", "phones": "13911112222"}, HTTP_HX_REQUEST="true")
    assert good["HX-Retarget"] == "#contacts"
    assert "刘总" in text(good) and "陈经理" in text(good)


def test_the_analyst_sees_masked_phones_and_no_edit_button(anna, login, alices_customer):
    page = text(login(anna).get(card_url(alices_customer)))
    assert "138****5678" in page and "13812345678" not in page and "1234 5678" not in page
    assert reverse("customers:edit", args=[alices_customer.pk]) not in page
    assert reverse("customers:delete", args=[alices_customer.pk]) not in page
    assert login(anna).get(reverse("customers:edit", args=[alices_customer.pk])).status_code == 403


@pytest.mark.parametrize("name", ["detail", "edit", "delete"])
def test_an_outsider_gets_the_same_404_as_for_a_missing_customer(charlie, login, alices_customer, name):
    client = login(charlie)
    response = client.get(reverse(f"customers:{name}", args=[alices_customer.pk]))
    missing = client.get(reverse(f"customers:{name}", args=[alices_customer.pk + 999]))
    assert response.status_code == missing.status_code == 404
    assert "杭州西湖" not in text(response)


def test_a_deleted_customer_waits_in_the_recycle_bin_and_comes_back(alice, login, alices_customer):
    client = login(alice)
    response = client.post(reverse("customers:delete", args=[alices_customer.pk]),
                           {"version": alices_customer.version})
    assert response.status_code == 302
    assert client.get(card_url(alices_customer)).status_code == 404
    assert "杭州西湖茶业有限公司" in text(client.get(reverse("customers:trash")))

    client.post(reverse("customers:restore", args=[alices_customer.pk]))
    assert client.get(card_url(alices_customer)).status_code == 200
    assert "杭州西湖茶业有限公司" not in text(client.get(reverse("customers:trash")))


def test_an_edit_based_on_an_old_version_is_refused_with_a_clear_message(alice, bob, login,
                                                                         alices_customer):
    client = login(alice)
    url = reverse("customers:edit", args=[alices_customer.pk])
    stale = {"kind": "company", "name": "新名字", "version": alices_customer.version}
    services.customer_update(actor=alice, origin="manual", customer=alices_customer,
                             data={"notes": "别人改了"})
    page = text(client.post(url, stale))
    assert "刚被别人修改过" in page
    assert Customer.objects.get(pk=alices_customer.pk).name == "杭州西湖茶业有限公司"


def test_the_manager_transfers_a_customer_and_the_card_keeps_the_record(
    alice, bob, mallory, login, alices_customer
):
    client = login(mallory)
    client.post(reverse("customers:transfer", args=[alices_customer.pk]),
                {"to_user": bob.pk, "reason": "区域调整"})
    page = text(client.get(card_url(alices_customer)))
    assert "区域调整" in page and "Bob 李" in page
    assert login(alice).get(card_url(alices_customer)).status_code == 404
    assert login(bob).get(card_url(alices_customer)).status_code == 200


def test_a_rep_hands_several_customers_over_at_once(alice, bob, login, make_customer):
    ids = [make_customer(alice, name=n).pk for n in ("甲公司", "乙公司")]
    response = login(alice).post(reverse("customers:bulk_transfer"),
                                 {"ids": ids, "to_user": bob.pk})
    assert response.status_code == 302
    assert set(Customer.objects.filter(pk__in=ids).values_list("owner", flat=True)) == {bob.pk}


def test_a_rep_cannot_bulk_transfer_someone_elses_customer(alice, bob, charlie, login, make_customer):
    theirs = make_customer(charlie, name="华南客户")
    response = login(alice).post(reverse("customers:bulk_transfer"),
                                 {"ids": [theirs.pk], "to_user": bob.pk})
    assert response.status_code == 404
    assert Customer.objects.get(pk=theirs.pk).owner == charlie


def test_switching_to_english_is_saved_on_the_user(alice, login, alices_customer):
    client = login(alice)
    client.post(reverse("accounts:language"), {"language": "en", "next": card_url(alices_customer)})
    alice.refresh_from_db()
    assert alice.language == "en"
    page = text(client.get(card_url(alices_customer)))
    assert "Contacts" in page and "Edit" in page and "联系人" not in page
    assert "Customers" in text(client.get(reverse("customers:list")))


def test_the_login_page_switches_language_before_signing_in(client, db):
    client.post(reverse("accounts:language"), {"language": "en"})
    assert "Sign in" in text(client.get(reverse("login")))


def test_an_admin_defines_a_custom_field_and_reps_must_fill_it(root, alice, login):
    admin = login(root)
    admin.post(reverse("customers:field_create"), {
        "key": "level", "label": "客户等级", "field_type": "choice", "choices": "A\nB\nC",
        "required": "on", "show_in_list": "on", "is_active": "on"})
    rep = login(alice)
    form = text(rep.get(reverse("customers:create")))
    assert "客户等级" in form and 'name="cf_level"' in form
    page = text(rep.post(reverse("customers:create"), {"kind": "company", "name": "甲公司"}))
    assert '<div class="field-errors" id="err-cf_level" aria-live="polite"><p>必填</p></div>' in page
    rep.post(reverse("customers:create"), {"kind": "company", "name": "甲公司", "cf_level": "A"})
    listing = text(rep.get(reverse("customers:list"), {"cf_level": "A"}))
    assert "甲公司" in listing and "客户等级" in listing


def test_a_rep_cannot_open_the_custom_field_admin(alice, login):
    assert login(alice).get(reverse("customers:fields")).status_code == 403
