"""A person asks to be erased: after the erasure no table and no stored file holds her name,
phones, e-mail or ID number, while the orders and every total stay as they were and the
audit trail still verifies — and still catches a hand-made change afterwards. The person and
the trace readers are tests/privacy/story.py's.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu.audit import chain
from kehu.audit.models import AuditEntry
from kehu.core.models import ChangeLog
from kehu.customers import services as customers
from kehu.customers.models import Customer, CustomerKey
from kehu.history import services as history
from kehu.history.models import Communication, Order
from kehu.privacy.erasure import erase_contact, erase_customer
from tests.privacy.story import NAME, totals, traces_in_files, traces_in_tables

pytestmark = pytest.mark.django_db


def test_an_erased_person_leaves_no_trace_and_the_totals_do_not_move(
        xiaomei, root, media, django_capture_on_commit_callbacks):
    assert traces_in_tables() and traces_in_files(media)  # the story put her everywhere
    before = totals()
    with django_capture_on_commit_callbacks(execute=True):  # attachments go at commit
        erase_customer(actor=root, origin="manual", customer_id=xiaomei.pk,
                       reason=f"{NAME} 本人来电要求删除（请求 #1）")
    assert traces_in_tables() == []
    assert traces_in_files(media) == []
    assert totals() == before
    xiaomei.refresh_from_db()
    assert xiaomei.name == f"已删除客户 #{xiaomei.pk}" and xiaomei.owner is not None
    assert not CustomerKey.objects.filter(customer=xiaomei).exists()
    assert Customer.objects.filter(name="杭州西湖茶业有限公司").exists()  # the others stay
    verdict = chain.verify()
    assert verdict.ok, verdict


def test_the_erased_entries_still_catch_a_change_by_hand(xiaomei, root):
    erase_customer(actor=root, origin="manual", customer_id=xiaomei.pk, reason="本人要求")
    viewed = AuditEntry.objects.filter(customer_id=xiaomei.pk, action="viewed").get()
    AuditEntry.objects.filter(pk=viewed.pk).update(label="改过的")
    assert chain.verify().broken_id == viewed.pk
    AuditEntry.objects.filter(pk=viewed.pk).update(label=viewed.label)
    assert chain.verify().ok
    sealed_row = ChangeLog.objects.filter(customer_id=xiaomei.pk).exclude(action="erase").first()
    ChangeLog.objects.filter(pk=sealed_row.pk).update(changes={"name": ["x", NAME]})
    assert not chain.verify().ok


def test_erasing_one_contact_keeps_the_company_and_its_other_people(alice, root, make_customer):
    company = make_customer(alice, name="宁波海曙港务有限公司", kind="company")
    zhou = customers.contact_create(actor=alice, origin="manual", customer=company, data={
        "name": "周建国", "phones": ["13700001111"], "email": "zhou@port.cn"})
    qian = customers.contact_create(actor=alice, origin="manual", customer=company, data={
        "name": "钱芳", "phones": ["13600002222"]})
    history.communication_log(actor=alice, origin="manual", customer=company, data={
        "contact": zhou.pk, "subject": "周建国 来电", "content": "13700001111"})
    history.communication_log(actor=alice, origin="manual", customer=company, data={
        "contact": qian.pk, "subject": "与周建国、钱芳开会", "content": "钱芳负责付款"})
    erase_contact(actor=root, origin="manual", contact_id=zhou.pk, reason="离职后要求删除")
    assert traces_in_tables(("周建国", "13700001111", "zhou@port.cn")) == []
    calls = sorted(Communication.objects.filter(customer=company).values_list("subject", flat=True))
    assert calls == ["与***、钱芳开会", "已删除"]
    assert f"customers.Contact#{qian.pk}.name" in traces_in_tables(("钱芳",))  # she stays
    assert Customer.objects.get(pk=company.pk).name == "宁波海曙港务有限公司"
    assert chain.verify().ok


def test_an_order_total_is_the_same_number_after(xiaomei, root):
    total = Order.objects.get(customer=xiaomei).total
    erase_customer(actor=root, origin="manual", customer_id=xiaomei.pk, reason="本人要求")
    assert Order.objects.get(customer=xiaomei).total == total == Decimal("120000.00")
