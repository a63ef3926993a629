"""显示完整号码 (issue 14 item 1): a masking role that may reveal sees one full value at a
time, after saying why, and the audit trail keeps who saw which field of which customer and
why. Without the permission: no button, and 403 from the route."""

from __future__ import annotations

import pytest

from kehu.accounts.models import Role, User
from kehu.audit.models import AuditEntry
from kehu.customers import services

pytestmark = pytest.mark.django_db

PHONE, SECOND = "13812345678", "13987654321"


@pytest.fixture
def customer(alice, make_customer):
    made = make_customer(alice, name="杭州西湖茶业有限公司", phones=[PHONE, SECOND],
                         emails=["buyer@xihu-tea.cn"], wechat="xihu_tea_88")
    services.contact_create(actor=alice, origin="manual", customer=made,
                            data={"name": "王经理", "phones": ["13700001111"],
                                  "email": "wang@xihu-tea.cn"})
    return made


@pytest.fixture
def revealing(anna):
    """The analyst role, given the permission by an admin."""
    Role.objects.filter(code="analyst").update(may_reveal=True)
    return User.objects.get(pk=anna.pk)  # access is cached per user object


def reveal(client, customer, field, reason="客户来电核实身份", **extra):
    return client.post(f"/customers/{customer.pk}/reveal/",
                       {"field": field, "reason": reason, **extra})


def reveals():
    return list(AuditEntry.objects.filter(action="revealed").order_by("id"))


def test_an_analyst_without_the_permission_gets_no_button_and_a_403(anna, customer, login):
    client = login(anna)
    card = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "138****5678" in card and "显示完整号码" not in card
    assert client.get(f"/customers/{customer.pk}/reveal/?field=phones").status_code == 403
    response = reveal(client, customer, "phones")
    assert response.status_code == 403 and PHONE not in response.content.decode()
    assert reveals() == []


def test_with_the_permission_the_analyst_reveals_one_value_with_a_reason(revealing, customer,
                                                                         login):
    client = login(revealing)
    card = client.get(f"/customers/{customer.pk}/").content.decode()
    assert card.count("显示完整号码") == 6  # two phones, e-mail, WeChat; contact's phone, e-mail
    form = client.get(f"/customers/{customer.pk}/reveal/?field=phones&index=1")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()

    shown = reveal(client, customer, "phones", index=1).content.decode()
    assert "139 8765 4321" in shown and PHONE not in shown
    entry = reveals()[0]
    assert (entry.actor_id, entry.customer_id, entry.label) == (revealing.pk, customer.pk,
                                                               customer.name)
    assert entry.details == {"field": "phones", "index": 1, "reason": "客户来电核实身份"}
    assert SECOND not in str(entry.details)  # the log says what was seen, not the value

    contact = customer.contacts.get()
    shown = reveal(client, customer, "email", contact=contact.pk, reason="发合同").content.decode()
    assert "wang@xihu-tea.cn" in shown
    assert reveals()[1].details == {"field": "contact.email", "contact_id": contact.pk,
                                    "reason": "发合同"}


def test_a_reveal_without_a_reason_shows_nothing_and_records_nothing(revealing, customer, login):
    response = reveal(login(revealing), customer, "wechat", reason=" ")
    page = response.content.decode()
    assert response.status_code == 200 and "请说明查看原因" in page and "xihu_tea_88" not in page
    assert reveals() == []


def test_a_customer_out_of_scope_is_a_404_even_with_the_permission(alice, charlie, login,
                                                                   make_customer):
    Role.objects.filter(code="sales").update(may_reveal=True, masks_sensitive=True)
    theirs = make_customer(charlie, name="广州某公司", phones=[PHONE])
    masked_alice = User.objects.get(pk=alice.pk)  # sales now masks and may reveal
    assert reveal(login(masked_alice), theirs, "phones").status_code == 404
    assert reveals() == []


def test_someone_who_sees_values_in_the_clear_gets_no_button(alice, customer, login):
    card = login(alice).get(f"/customers/{customer.pk}/").content.decode()
    assert PHONE[:3] + " " + PHONE[3:7] in card and "显示完整号码" not in card


def test_unknown_fields_and_positions_are_refused(revealing, customer, login):
    client = login(revealing)
    assert reveal(client, customer, "notes").status_code == 400
    assert reveal(client, customer, "phones", index=5).status_code == 404
    assert reveals() == []


def test_a_script_reveals_through_the_api_with_a_reason_and_every_bad_field_is_named(
        revealing, customer, api_as):
    script = api_as(revealing)
    listed = script.get(f"/customers/{customer.pk}").json()
    assert listed["phones"][1] != SECOND  # masked in the read

    answer = script.post(f"/customers/{customer.pk}/reveal",
                         {"field": "phones", "index": 1, "reason": "客户来电核实身份"})
    assert answer.status_code == 200
    assert answer.json() == {"field": "phones", "value": "+86" + SECOND}  # as stored: E.164
    entry = reveals()[-1]
    assert (entry.actor_id, entry.details["field"], entry.details["index"]) == \
        (revealing.pk, "phones", 1)

    bad = script.post(f"/customers/{customer.pk}/reveal", {"field": "notes", "reason": "x"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"field", "reason"}
    assert len(reveals()) == 1
