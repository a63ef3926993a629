"""敏感个人信息 (PIPL art. 28): an admin adds a custom field 健康状况 and marks it sensitive.
Nobody may fill it before the customer gives a separate consent (art. 29), and then only an
admin; the rep who owns the customer sees ＊＊＊＊ on the card, in the list, the API, the
edit form and an export, cannot filter or segment by it or import it, and may reveal it with
a reason once her role allows — an audit entry without the value. Withdrawing the separate
consent deletes the value (arts. 15, 47); the change log never holds it."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import PermissionDenied

from kehu.accounts.models import Role, User
from kehu.audit.models import AuditEntry
from kehu.core.errors import ValidationError
from kehu.core.models import ChangeLog
from kehu.customers import services as customers
from kehu.customers.conditions import parse_condition
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import CustomValue
from kehu.customers.reveal import reveal_value
from kehu.customers.selectors import customer_get, customer_list
from kehu.customers.sensitive import SENSITIVE_MASK
from kehu.privacy.models import Consent
from kehu.privacy.services import consent_grant, consent_withdraw
from kehu.transfer.export.services import export_customers
from kehu.transfer.mapping import guess_mapping, importable_fields

pytestmark = pytest.mark.django_db

HEALTH = "2 型糖尿病"


@pytest.fixture
def health(root):
    return customers.custom_field_save(actor=root, origin="manual", data={
        "key": "health", "label": "健康状况", "field_type": "text", "sensitive": True})


@pytest.fixture
def xiaomei(alice, make_customer, health):
    return make_customer(alice, name="闫晓梅", kind="person", phones=["13912345678"])


def set_health(actor, customer, value=HEALTH):
    return customers.customer_update(actor=actor, origin="manual", customer=customer,
                                     data={"custom": {"health": value}})


def separate_consent(actor, customer):
    return consent_grant(actor=actor, origin="manual", customer=customer, data={
        "purpose": "service", "legal_basis": "consent", "notice_version": "敏感信息告知 v1",
        "channel": "paper", "sensitive": True})


def refusal(call) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict["custom.health"]


def test_the_value_needs_a_separate_consent_and_an_admin(root, alice, xiaomei):
    assert "单独同意" in refusal(lambda: set_health(root, xiaomei))[0]
    ordinary = consent_grant(actor=alice, origin="manual", customer=xiaomei, data={
        "purpose": "analysis", "legal_basis": "consent", "notice_version": "v1",
        "channel": "paper"})
    assert ordinary.sensitive is False
    assert "单独同意" in refusal(lambda: set_health(root, xiaomei))[0]
    separate_consent(alice, xiaomei)
    assert "管理员" in refusal(lambda: set_health(alice, xiaomei))[0]
    set_health(root, xiaomei)
    assert CustomValue.objects.get(customer=xiaomei).text == HEALTH
    logged = json.dumps(list(ChangeLog.objects.values_list("changes", flat=True)),
                        ensure_ascii=False)
    assert HEALTH not in logged and SENSITIVE_MASK in logged


def test_a_new_customer_cannot_arrive_with_it(root):
    with pytest.raises(ValidationError) as refused:
        customers.customer_create(actor=root, origin="manual", data={
            "name": "新客户", "kind": "person", "custom": {"health": HEALTH}})
    assert "custom.health" in refused.value.message_dict


def test_the_field_cannot_be_required_or_a_list_column(root, health):
    for flag in ("required", "show_in_list"):
        with pytest.raises(ValidationError) as refused:
            customers.custom_field_save(actor=root, origin="manual", field=health,
                                        data={flag: True})
        assert "sensitive" in refused.value.message_dict


@pytest.fixture
def filled(root, alice, xiaomei):
    separate_consent(alice, xiaomei)
    set_health(root, xiaomei)
    return xiaomei


def test_the_rep_sees_it_masked_everywhere(filled, alice, root, login, api_as):
    assert customer_get(viewer=alice, pk=filled.pk).custom["health"] == SENSITIVE_MASK
    assert customer_get(viewer=root, pk=filled.pk).custom["health"] == HEALTH
    page = customer_list(viewer=alice, filters=CustomerFilters.from_params({}))
    assert [c.custom.get("health") for c in page.items] == [SENSITIVE_MASK]

    card = login(alice).get(f"/customers/{filled.pk}/").content.decode()
    assert HEALTH not in card and SENSITIVE_MASK in card
    assert HEALTH in login(root).get(f"/customers/{filled.pk}/").content.decode()
    edit = login(alice).get(f"/customers/{filled.pk}/edit/").content.decode()
    assert HEALTH not in edit

    answer = api_as(alice).get(f"/customers/{filled.pk}")
    assert answer.json()["custom"]["health"] == SENSITIVE_MASK
    listed = api_as(alice).get("/customers")
    assert HEALTH not in json.dumps(listed.json(), ensure_ascii=False)

    stream = io.BytesIO()
    export_customers(actor=alice, origin="manual", filters=CustomerFilters.from_params({}),
                     fmt="csv", stream=stream)
    sheet = stream.getvalue().decode("utf-8-sig")
    assert "健康状况" in sheet and SENSITIVE_MASK in sheet and HEALTH not in sheet


def test_the_reps_edit_keeps_the_value(filled, alice, login):
    web = login(alice)
    form = web.get(f"/customers/{filled.pk}/edit/")
    assert form.status_code == 200
    customer = customer_get(viewer=alice, pk=filled.pk)
    saved = web.post(f"/customers/{filled.pk}/edit/", {
        "name": "闫晓梅", "kind": "person", "version": customer.version,
        "notes": "周末方便", "cf_health": "乱填的"})
    assert saved.status_code == 302, saved.content.decode()[:500]
    assert CustomValue.objects.get(customer=filled).text == HEALTH
    api = customers.customer_update  # the API's PATCH takes the same path
    with pytest.raises(ValidationError):
        api(actor=alice, origin="api", customer=filled,
            data={"custom": {"health": SENSITIVE_MASK}})


def test_no_filter_segment_or_import_reads_it(filled, alice):
    with pytest.raises(ValidationError) as refused:
        CustomerFilters.from_params({"cf_health": HEALTH})
    assert "敏感" in json.dumps(refused.value.message_dict, ensure_ascii=False)
    with pytest.raises(ValidationError):
        parse_condition({"field": "cf.health", "op": "contains", "value": "糖尿病"})
    assert "custom.health" not in [f.key for f in importable_fields("customers")]
    assert guess_mapping(["客户名称", "健康状况"], "customers")["健康状况"] == ""


def test_revealing_it_takes_the_permission_and_leaves_an_entry(filled, alice, root):
    with pytest.raises(PermissionDenied):
        reveal_value(viewer=alice, customer_id=filled.pk, field="custom.health",
                     reason="客户来电咨询用药")
    Role.objects.filter(code="sales").update(may_reveal=True)
    alice = User.objects.get(pk=alice.pk)  # access is cached per user object
    assert reveal_value(viewer=alice, customer_id=filled.pk, field="custom.health",
                        reason="客户来电咨询用药") == HEALTH
    entry = AuditEntry.objects.get(action="revealed")
    assert entry.details["field"] == "custom.health"
    assert HEALTH not in json.dumps(entry.details, ensure_ascii=False)


def test_withdrawing_the_separate_consent_deletes_the_value(filled, alice):
    consent = Consent.objects.get(customer=filled, sensitive=True)
    consent_withdraw(actor=alice, origin="manual", consent=consent)
    assert not CustomValue.objects.filter(customer=filled).exists()
    logged = json.dumps(list(ChangeLog.objects.values_list("changes", flat=True)),
                        ensure_ascii=False)
    assert HEALTH not in logged
