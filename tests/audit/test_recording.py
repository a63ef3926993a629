"""Stories: what people do shows in the audit trail, with who, when, where from."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import Role
from kehu.accounts.services import user_set_role
from kehu.audit import keys
from kehu.audit.models import Action, AuditEntry
from kehu.customers import merging, services

pytestmark = pytest.mark.django_db


def entries(action: str, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, **filters).order_by("pk"))


def test_a_manager_views_a_card_and_searches_and_the_admin_sees_both(
        alices_customer, mallory, root, login):
    manager = login(mallory)
    assert manager.get(reverse("customers:detail", args=[alices_customer.pk]),
                       REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Firefox/140").status_code == 200
    assert manager.get(reverse("customers:list"), {"q": "西湖"}).status_code == 200

    page = login(root).get(reverse("audit:list"), {"actor": "mallory"})
    assert page.status_code == 200
    shown = [(e.action, e.customer_id) for e in page.context["page"].items]
    assert (Action.VIEWED, alices_customer.pk) in shown
    assert (Action.SEARCHED, None) in shown
    viewed = entries(Action.VIEWED, actor=mallory)[0]
    assert (viewed.ip, viewed.user_agent, viewed.label) == ("10.1.2.3", "Firefox/140",
                                                            alices_customer.name)
    assert entries(Action.SEARCHED, actor=mallory)[0].details["q"] == "西湖"
    # Filtered by the customer, the screen shows the audit entries and the field changes.
    by_customer = login(root).get(reverse("audit:list"), {"customer": alices_customer.pk})
    assert [e.action for e in by_customer.context["page"].items] == [Action.VIEWED]
    assert by_customer.context["changes"][0].action == "create"


def test_the_api_records_a_customer_read_and_a_search(alices_customer, alice, login):
    client = login(alice)
    assert client.get(f"/api/v1/customers/{alices_customer.pk}").status_code == 200
    assert client.get("/api/v1/customers", {"q": "13812345678"}).status_code == 200
    assert entries(Action.VIEWED, actor=alice)[0].details == {"via": "api"}
    searched = entries(Action.SEARCHED, actor=alice)[0]
    assert searched.details["q"] == "138****5678"  # the number looked up is not kept in clear
    assert "13812345678" not in searched.label + str(searched.details)


def test_a_failed_sign_in_is_recorded_with_its_address(alice):
    client = Client()
    answer = client.post(reverse("login"), {"username": "alice", "password": "wrong-password"},
                         REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="curl/8")
    assert answer.status_code == 200
    failed = entries(Action.SIGN_IN_FAILED)
    assert [(e.actor_id, e.label, e.ip, e.user_agent) for e in failed] == [
        (None, "alice", "203.0.113.9", "curl/8")]


def test_signing_in_and_out_are_recorded(alice):
    client = Client()
    client.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"},
                REMOTE_ADDR="198.51.100.7")
    client.post(reverse("logout"))
    assert [e.ip for e in entries(Action.SIGNED_IN, actor=alice)] == ["198.51.100.7"]
    assert len(entries(Action.SIGNED_OUT, actor=alice)) == 1


def test_an_export_is_recorded_with_its_filter_and_row_count(alices_customer, alice, login):
    answer = login(alice).post(reverse("transfer:export_customers"),
                               {"format": "csv", "q": "西湖"})
    assert answer.status_code == 200
    exported = entries(Action.EXPORTED, actor=alice)[0]
    assert exported.details["rows"] == 1
    assert exported.details["filters"]["q"] == "西湖"
    assert exported.details["origin"] == "manual"


def test_deleting_and_merging_are_recorded(alice, make_customer):
    a = make_customer(alice, name="宁波甲公司")
    b = make_customer(alice, name="宁波甲公司（重复）")
    c = make_customer(alice, name="待删除公司")
    services.customer_delete(actor=alice, origin="manual", customer=c)
    merging.customer_merge(actor=alice, origin="manual", survivor=a.pk, duplicate=b.pk)
    assert [(e.customer_id, e.label) for e in entries(Action.DELETED)] == [(c.pk, "待删除公司")]
    merged = entries(Action.MERGED)[0]
    assert (merged.customer_id, merged.details["duplicate"]) == (a.pk, b.pk)


def test_a_role_change_is_recorded(alice, root, login):
    user_set_role(user=alice, role=Role.objects.get(code="manager"))
    changed = entries(Action.ROLE_CHANGED, label="user:alice")[-1]
    assert changed.details["changes"]["role"][1] == Role.objects.get(code="manager").pk
    role = Role.objects.get(code="analyst")
    role.may_export = True
    role.save()
    assert entries(Action.ROLE_CHANGED, label="role:analyst")[-1].details["changes"] == {
        "may_export": [False, True]}


def test_a_rep_cannot_reach_the_audit_screen_or_its_export(alice, mallory, login):
    for person in (alice, mallory):
        client = login(person)
        assert client.get(reverse("audit:list")).status_code == 403
        assert client.get(reverse("transfer:audit_export"), {"format": "csv"}).status_code == 403


def test_the_audit_export_is_itself_audited(alices_customer, alice, root, login):
    login(alice).get(reverse("customers:detail", args=[alices_customer.pk]))
    answer = login(root).get(reverse("transfer:audit_export"),
                             {"format": "csv", "action": Action.VIEWED})
    assert answer.status_code == 200
    body = b"".join(answer.streaming_content).decode("utf-8-sig")
    assert alices_customer.name in body
    exported = entries(Action.EXPORTED, actor=root)[0]
    assert exported.details == {"target": "audit", "format": "csv",
                                "filters": {"action": "viewed"}, "rows": 1}


def test_retention_below_six_months_is_refused_at_start(settings):
    settings.KEHU_AUDIT_RETENTION_DAYS = 90
    assert "audit.E001" in [m.id for m in run_checks()]
    settings.KEHU_AUDIT_RETENTION_DAYS = 183
    assert "audit.E001" not in [m.id for m in run_checks()]


def test_production_without_a_key_is_warned_and_the_dev_key_is_private(settings, tmp_path):
    settings.KEHU_AUDIT_KEY = settings.KEHU_AUDIT_KEY_FILE = ""
    settings.DATA_DIR = tmp_path
    assert "audit.W001" in [m.id for m in run_checks(include_deployment_checks=True)]
    keys.audit_key()
    assert (tmp_path / "audit_key").stat().st_mode & 0o777 == 0o600
    key_file = tmp_path / "prod.key"
    key_file.write_text("k" * 40)
    settings.KEHU_AUDIT_KEY_FILE = str(key_file)
    assert "audit.W001" not in [m.id for m in run_checks(include_deployment_checks=True)]
    assert keys.audit_key() == b"k" * 40


def test_a_role_changed_in_djangos_admin_names_the_admin_and_address(root, login):
    role = Role.objects.get(code="analyst")
    data = {"code": role.code, "name": role.name, "data_scope": role.data_scope,
            "masks_sensitive": "on", "may_export": "on"}
    answer = login(root).post(reverse("admin:accounts_role_change", args=[role.pk]), data,
                              REMOTE_ADDR="192.0.2.44")
    assert answer.status_code == 302, answer.content[:500]
    changed = entries(Action.ROLE_CHANGED, label="role:analyst")[-1]
    assert (changed.actor_id, changed.ip) == (root.pk, "192.0.2.44")
    assert changed.details["changes"]["may_export"] == [False, True]


def test_the_screen_pages_by_fifty_and_filters_by_action_and_day(alice, root, login):
    from kehu.audit.services import record

    for n in range(60):
        record(alice, Action.SEARCHED, label=f"词{n}")
    client = login(root)
    first = client.get(reverse("audit:list"), {"action": Action.SEARCHED})
    assert len(first.context["page"].items) == 50 and first.context["next_query"]
    second = client.get(reverse("audit:list") + "?" + first.context["next_query"])
    assert [e.label for e in second.context["page"].items] == [f"词{n}" for n in range(9, -1, -1)]
    none_yet = client.get(reverse("audit:list"), {"until": "2000-01-01"})
    assert none_yet.context["page"].items == []
    bad = client.get(reverse("audit:list"), {"since": "昨天"})
    assert bad.status_code == 200 and bad.context["problems"]
