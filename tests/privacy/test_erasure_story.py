"""A person asks to be erased: after the erasure no table and no stored file holds her name,
phones, e-mail or ID number, while the orders and every total stay as they were and the
audit trail still verifies — and still catches a hand-made change afterwards.

The search for traces reads every row of every model through the ORM (so sealed columns
are opened) and every file under the data directory with readers of its own (csv as text,
xlsx with openpyxl), not with the code under test.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Sum

from kehu.audit import chain
from kehu.audit.models import AuditEntry
from kehu.audit.sealing import seal_changes
from kehu.core.models import ChangeLog
from kehu.customers import services as customers
from kehu.customers.models import Customer, CustomerKey
from kehu.history import services as history
from kehu.history.models import Communication, Order
from kehu.notifications.services import notify
from kehu.privacy.erasure import erase_contact, erase_customer
from tests.transfer.test_import_story import run_import, write_csv

pytestmark = pytest.mark.django_db

NAME, PHONE, EMAIL, ID_NUMBER = "闫晓梅", "13912345678", "xiaomei.yan@example.cn", \
    "11010519491231002X"
TRACES = (NAME, PHONE, EMAIL, ID_NUMBER)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


def traces_in_tables(values=TRACES) -> list[str]:
    """Where any value still appears: "app.Model#pk.field" for every row and field."""
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("kehu"):
            continue
        fields = [f for f in model._meta.concrete_fields]
        for row in model._base_manager.all():
            for field in fields:
                text = json.dumps(getattr(row, field.attname), ensure_ascii=False, default=str)
                if any(v in text or v in text.replace("-", "") for v in values):
                    found.append(f"{model._meta.label}#{row.pk}.{field.name}")
    return found


def traces_in_files(root: Path, values=TRACES) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            text = "\n".join(str(c) for sheet in book.worksheets
                             for row in sheet.iter_rows(values_only=True) for c in row)
        else:
            data = path.read_bytes()
            text = data.decode("gb18030", "replace") + data.decode("utf-8", "replace")
        if any(v in text or v in text.replace("-", "") for v in values):
            found.append(str(path.relative_to(root)))
    return found


def totals() -> dict:
    return {"orders": Order.objects.aggregate(n=Count("id"), total=Sum("total")),
            "customers": Customer.objects.count(),
            "calls": Communication.objects.count(),
            "per_customer": list(Order.objects.values("customer_id").order_by("customer_id")
                                 .annotate(total=Sum("total"), n=Count("id")))}


@pytest.fixture
def xiaomei(alice, root, media, tmp_path, login, product, django_capture_on_commit_callbacks):
    """闫晓梅 as a team would have her after a year: imported from a sheet (with a rejected row
    naming her), called with a file attached, an order, a complaint, a survey, a consent, a
    reminder in the bell, looked at and searched for — and the change log sealed."""
    sheet = write_csv(tmp_path / "客户档案.csv", [
        [NAME, "个人", "139-1234-5678", EMAIL, "", "", "", "", "12800"],
        ["杭州西湖茶业有限公司", "企业", "13700001111", "tea@xihu.cn", "", "周建国", "采购", "", ""],
        [NAME + "（重复）", "个人", "139", EMAIL + "@@", "", "", "", "", ""],  # rejected
    ])
    run_import(alice, sheet, match=("phone",))
    person = Customer.objects.get(name=NAME)
    customers.customer_update(actor=alice, origin="manual", customer=person,
                              data={"id_number": ID_NUMBER, "notes": f"{NAME} 喜欢周末来电"})
    with django_capture_on_commit_callbacks(execute=True):
        call = history.communication_log(actor=alice, origin="manual", customer=person, data={
            "subject": f"回访{NAME}", "content": f"{NAME}（{PHONE}）要求报价"})
        history.attachment_add(actor=alice, origin="manual", communication=call,
                               upload=SimpleUploadedFile(f"{NAME}-身份证.txt",
                                                         f"{NAME} {ID_NUMBER}".encode(),
                                                         content_type="text/plain"))
    history.order_create(actor=alice, origin="manual", customer=person, data={
        "notes": f"送货给{NAME}", "lines": [{"product": product.pk, "quantity": 2}]})
    history.ticket_create(actor=alice, origin="manual", customer=person, data={
        "kind": "complaint", "subject": f"{NAME}投诉送货慢", "content": EMAIL})
    history.survey_record(actor=alice, origin="manual", customer=person,
                          data={"kind": "nps", "score": 9, "comment": f"我是{NAME}"})
    notify(actor=alice, origin="system", recipient=alice, title=f"跟进 {NAME}", body=PHONE,
           link=f"/customers/{person.pk}/")
    client = login(alice)
    assert client.get(f"/customers/{person.pk}/").status_code == 200
    assert client.get("/customers/", {"q": NAME}).status_code == 200
    seal_changes(now=chain.now() + chain_lag())
    return person


def chain_lag():
    from kehu.audit.sealing import SEAL_LAG

    return SEAL_LAG * 2


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
