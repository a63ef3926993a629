"""A rep records a customer's marketing consent taken on the phone; the customer later says
no more marketing. From that moment the segment 可营销客户 no longer holds them, the list's
filter says 已撤回, and an export that leaves out 勿营销 customers leaves them out — while the
ledger keeps both the grant and the withdrawal, and the audit trail shows who did what."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from kehu.audit.selectors import changes_for_customer
from kehu.core.models import ChangeLog
from kehu.customers.filters import CustomerFilters
from kehu.customers.segments import segment_members, segment_save
from kehu.privacy.models import Consent
from kehu.privacy.selectors import consent_list, states_for
from kehu.privacy.services import consent_withdraw
from kehu.transfer.export.services import export_count, export_customers

pytestmark = pytest.mark.django_db

MARKETABLE = {"field": "consent.marketing", "op": "in", "value": ["granted"]}


def _export(user, **options) -> list[dict]:
    stream = io.BytesIO()
    export_customers(actor=user, origin="manual", filters=CustomerFilters.from_params({}),
                     fmt="csv", stream=stream, **options)
    return list(csv.DictReader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))


@pytest.fixture
def tea(alice, make_customer):
    return make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])


@pytest.fixture
def silk(alice, make_customer):
    """Never asked: 未知."""
    return make_customer(alice, name="苏州丝绸有限公司")


def test_consent_by_phone_then_withdrawal_takes_effect_at_once(alice, root, tea, silk, grant):
    consent = grant(alice, tea)
    assert consent.collected_by == alice and consent.origin == "manual"
    marketable = segment_save(actor=alice, origin="manual",
                              data={"name": "可营销客户", "condition": MARKETABLE})
    assert list(segment_members(viewer=alice, segment=marketable)) == [tea]
    rows = {r["客户名称"]: r["营销同意"] for r in _export(alice)}
    assert rows == {"杭州西湖茶业有限公司": "已同意", "苏州丝绸有限公司": "未知（未征求）"}

    done = consent_withdraw(actor=alice, origin="manual", consent=consent.pk, note="客户来电要求")
    assert done.changed and "立即生效" in done.message

    assert list(segment_members(viewer=alice, segment=marketable)) == []
    everyone = {r["客户名称"]: r["营销同意"] for r in _export(alice)}
    assert everyone == {"杭州西湖茶业有限公司": "已撤回", "苏州丝绸有限公司": "未知（未征求）"}
    kept = _export(alice, leave_out_do_not_contact=True)
    assert [r["客户名称"] for r in kept] == ["苏州丝绸有限公司"]
    assert export_count(viewer=alice, target="customers", filters=CustomerFilters(),
                        leave_out_do_not_contact=True) == 1
    # The export's record says the option was on.
    record = ChangeLog.objects.filter(action="export").latest("pk")
    assert record.changes["filters"]["leave_out_do_not_contact"] == "1"
    assert record.changes["rows"] == 1

    # History stays: one row, granted and withdrawn, by whom and why.
    row = Consent.objects.get()
    assert row.granted_at < row.withdrawn_at and row.withdrawn_by == alice
    assert row.withdrawal_note == "客户来电要求"
    # The audit trail shows both, like every other change (admins' screen).
    actions = [c.action for c in changes_for_customer(viewer=root, customer_id=tea.pk)
               if c.model == "privacy.consent"]
    assert actions == ["withdraw", "create"]


def test_withdrawing_twice_says_so_and_changes_nothing(alice, tea, grant):
    consent = grant(alice, tea)
    consent_withdraw(actor=alice, origin="manual", consent=consent.pk)
    logged = ChangeLog.objects.count()
    again = consent_withdraw(actor=alice, origin="manual", consent=consent.pk)
    assert not again.changed and "无需再次撤回" in again.message
    assert ChangeLog.objects.count() == logged
    assert again.consent.version == consent.version + 1  # one change, not two


def test_a_new_grant_after_withdrawal_is_a_new_row_and_counts(alice, tea, grant):
    first = grant(alice, tea, notice_version="隐私政策 v2")
    consent_withdraw(actor=alice, origin="manual", consent=first.pk)
    second = grant(alice, tea, notice_version="隐私政策 v3", channel="wechat")
    rows = consent_list(viewer=alice, customer=tea.pk)
    assert [r.pk for r in rows] == [second.pk, first.pk]
    assert states_for(rows)["marketing"] == "granted"
    first.refresh_from_db()
    assert first.withdrawn_at is not None and not first.is_current


def test_a_live_grant_is_not_recorded_twice(alice, tea, grant):
    grant(alice, tea)
    with pytest.raises(Exception) as refused:
        grant(alice, tea, notice_version="隐私政策 v4")
    assert "请先撤回" in str(refused.value.message_dict["purpose"])


def test_a_contact_who_withdraws_makes_the_customer_do_not_contact(alice, tea, grant):
    from kehu.customers.services import contact_create

    buyer = contact_create(actor=alice, origin="manual", customer=tea, data={"name": "陈采购"})
    grant(alice, tea)  # the company said yes
    theirs = grant(alice, tea, contact=buyer.pk, channel="email")
    assert theirs.contact_name == "陈采购"
    consent_withdraw(actor=alice, origin="manual", consent=theirs.pk)
    assert states_for(consent_list(viewer=alice, customer=tea.pk))["marketing"] == "withdrawn"
    filtered = CustomerFilters.from_params({"filter": '{"field": "consent.marketing", '
                                                      '"op": "in", "value": ["withdrawn"]}'})
    assert export_count(viewer=alice, target="customers", filters=filtered) == 1


def test_the_card_panel_grants_and_withdraws_with_htmx(alice, tea):
    client = Client()
    client.force_login(alice)
    card = client.get(reverse("customers:detail", args=[tea.pk])).content.decode()
    assert "同意记录" in card and "未知（未征求）" in card and "记录同意" in card
    hx = {"HTTP_HX_REQUEST": "true"}
    page = client.post(reverse("privacy:grant", args=[tea.pk]), {
        "purpose": "marketing", "legal_basis": "consent", "notice_version": "隐私政策 v3",
        "channel": "phone"}, **hx).content.decode()
    assert 'id="consents"' in page and "已记录同意" in page and "撤回营销同意" in page
    consent = Consent.objects.get()
    page = client.post(reverse("privacy:withdraw", args=[consent.pk]), **hx).content.decode()
    assert "立即生效" in page and "已撤回 · 勿营销" in page and "撤回营销同意" not in page
    page = client.post(reverse("privacy:withdraw", args=[consent.pk]), **hx).content.decode()
    assert "无需再次撤回" in page


def test_the_card_form_names_every_bad_field(alice, tea):
    client = Client()
    client.force_login(alice)
    page = client.post(reverse("privacy:grant", args=[tea.pk]), {
        "purpose": "spam", "legal_basis": "contract", "channel": "信鸽", "sensitive": "on",
        "granted_at": "2999-01-01T10:00"}, HTTP_HX_REQUEST="true").content.decode()
    for said in ("“spam” 不是可选值", "“信鸽” 不是可选值", "必填", "不能晚于现在", "只能以“同意”为法律依据"):
        assert said in page, said
    assert not Consent.objects.exists()


def test_the_list_export_button_leaves_out_do_not_contact(alice, tea, silk, grant):
    consent_withdraw(actor=alice, origin="manual", consent=grant(alice, tea).pk)
    client = Client()
    client.force_login(alice)
    url = reverse("transfer:export_customers")
    everyone = client.post(url, {"format": "csv"})
    assert {r["客户名称"] for r in csv.DictReader(io.StringIO(
        b"".join(everyone.streaming_content).decode("utf-8-sig")))} == {"杭州西湖茶业有限公司",
                                                                         "苏州丝绸有限公司"}
    kept = client.post(url, {"format": "csv", "leave_out_do_not_contact": "1"})
    rows = list(csv.DictReader(io.StringIO(b"".join(kept.streaming_content).decode("utf-8-sig"))))
    assert [(r["客户名称"], r["营销同意"]) for r in rows] == [("苏州丝绸有限公司", "未知（未征求）")]


def test_a_contacts_consent_is_recorded_from_the_card(alice, tea):
    from kehu.customers.services import contact_create

    buyer = contact_create(actor=alice, origin="manual", customer=tea, data={"name": "陈采购"})
    client = Client()
    client.force_login(alice)
    page = client.post(reverse("privacy:grant", args=[tea.pk]), {
        "purpose": "service", "legal_basis": "contract", "notice_version": "服务协议 v1",
        "channel": "paper", "contact": str(buyer.pk)}, HTTP_HX_REQUEST="true").content.decode()
    assert "联系人 陈采购" in page
    consent = Consent.objects.get()
    assert consent.contact == buyer and consent.legal_basis == "contract"


def test_kehu_export_leaves_out_do_not_contact(alice, tea, silk, grant, tmp_path):
    from django.core.management import call_command

    consent_withdraw(actor=alice, origin="manual", consent=grant(alice, tea).pk)
    sheet = tmp_path / "可营销.csv"
    call_command("export", "customers", as_user="alice", output=str(sheet),
                 leave_out_do_not_contact=True)
    rows = list(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8-sig"))))
    assert [r["客户名称"] for r in rows] == ["苏州丝绸有限公司"]


def test_the_list_filter_builder_offers_marketing_consent(alice, tea, silk, grant):
    import json

    from kehu.customers.builder import builder_fields

    fields = {f["key"]: f for f in builder_fields()}
    assert "consent.marketing" in fields
    consent_withdraw(actor=alice, origin="manual", consent=grant(alice, tea).pk)
    client = Client()
    client.force_login(alice)
    condition = {"field": "consent.marketing", "op": "in", "value": ["unknown"]}
    page = client.get(reverse("customers:list"), {"filter": json.dumps(condition)})
    html = page.content.decode()
    assert "苏州丝绸有限公司" in html and "杭州西湖茶业有限公司" not in html


def test_a_big_export_job_leaves_them_out_too(alice, tea, silk, grant, settings):
    from pathlib import Path

    from kehu.jobs.services import run_here
    from kehu.transfer.export.services import export_start

    consent_withdraw(actor=alice, origin="manual", consent=grant(alice, tea).pk)
    job = export_start(actor=alice, origin="manual", filters=CustomerFilters(), fmt="csv",
                       leave_out_do_not_contact=True)
    job = run_here(job)
    assert job.status == "done", job.error
    sheet = Path(settings.MEDIA_ROOT) / job.files.get().path
    rows = list(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8-sig"))))
    assert [r["客户名称"] for r in rows] == ["苏州丝绸有限公司"] and job.total == 1


def test_a_deleted_contacts_consent_stays_in_the_ledger(alice, tea, grant):
    from kehu.customers.services import contact_create, contact_delete

    buyer = contact_create(actor=alice, origin="manual", customer=tea, data={"name": "陈采购"})
    theirs = grant(alice, tea, contact=buyer.pk)
    consent_withdraw(actor=alice, origin="manual", consent=theirs.pk)
    contact_delete(actor=alice, origin="manual", contact=buyer, expected_version=buyer.version)
    rows = consent_list(viewer=alice, customer=tea.pk)
    assert [(r.contact_id, r.contact_name) for r in rows] == [(None, "陈采购")]
    assert states_for(rows)["marketing"] == "withdrawn"  # still 勿营销
    grant(alice, tea)  # the company's own consent is another subject
    assert states_for(consent_list(viewer=alice, customer=tea.pk))["marketing"] == "withdrawn"
