"""成员与权限 → 部门: the tree shown indented; an admin adds, renames and moves departments
(the whole subtree's paths follow, so the data scopes see the right people) and deletes only
an empty one."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import Department, User
from kehu.accounts.org import department_save
from kehu.accounts.services import department_path, user_create
from kehu.core.models import ChangeLog
from kehu.customers.models import Customer

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visible_names(user) -> set[str]:
    fresh = User.objects.get(pk=user.pk)
    return set(Customer.objects.visible_to(fresh, "view").values_list("name", flat=True))


def test_the_tree_is_shown_indented(root, east, south):
    department_path("总部/华东区/上海组")
    rows = browser_of(root).get(reverse("team:departments")).context["rows"]
    assert [(d.name, d.depth) for d in rows] == [
        ("总部", 0), ("华东区", 1), ("上海组", 2), ("华南区", 1)]


def test_an_admin_adds_a_department_under_another(root, east):
    response = browser_of(root).post(reverse("team:departments"),
                                     {"new-name": "杭州组", "new-parent": east.pk})
    assert response.status_code == 302
    made = Department.objects.get(name="杭州组")
    assert made.parent == east and made.path == f"{east.path}{made.pk}/"
    entry = ChangeLog.objects.get(model="accounts.department", object_id=made.pk)
    assert (entry.action, entry.actor, entry.origin) == ("create", root, "manual")
    twice = browser_of(root).post(reverse("team:departments"),
                                  {"new-name": "杭州组", "new-parent": east.pk})
    assert twice.status_code == 400 and "已有" in twice.context["form"].errors["name"][0]


def test_an_admin_moves_a_department_under_another_and_its_managers_see_the_right_customers(
        root, east, south, charlie, make_customer):
    """华南区's 深圳组 (with its rep) moves under 华东区: the east director, whose scope is her
    department tree, now sees the rep's customers; the south director no longer does."""
    shenzhen = department_path("总部/华南区/深圳组")
    team = department_path("总部/华南区/深圳组/一队")
    rep = user_create(username="deng", role_code="sales", department=team,
                      password="deng-pass-123")[0]
    make_customer(rep, name="深圳湾科技有限公司")
    east_boss = user_create(username="east.boss", role_code="manager", department=east,
                            password="boss-pass-123")[0]
    south_boss = user_create(username="south.boss", role_code="manager", department=south,
                             password="boss-pass-123")[0]
    assert "深圳湾科技有限公司" in visible_names(south_boss)
    assert "深圳湾科技有限公司" not in visible_names(east_boss)

    response = browser_of(root).post(reverse("team:department_edit", args=[shenzhen.pk]),
                                     {"name": "深圳组", "parent": east.pk})
    assert response.status_code == 302
    shenzhen.refresh_from_db()
    team.refresh_from_db()
    assert shenzhen.path == f"{east.path}{shenzhen.pk}/"
    assert team.path == f"{east.path}{shenzhen.pk}/{team.pk}/"
    assert "深圳湾科技有限公司" in visible_names(east_boss)
    assert "深圳湾科技有限公司" not in visible_names(south_boss)
    changes = ChangeLog.objects.get(model="accounts.department", object_id=shenzhen.pk).changes
    assert changes["parent"] == [south.pk, east.pk]


def test_a_department_is_renamed(root, east):
    browser_of(root).post(reverse("team:department_edit", args=[east.pk]),
                          {"name": "华东大区", "parent": east.parent_id})
    east.refresh_from_db()
    assert east.name == "华东大区"
    assert ChangeLog.objects.get(model="accounts.department", object_id=east.pk).changes == \
        {"name": ["华东区", "华东大区"]}


def test_a_move_under_itself_or_below_is_refused_clearly(root, east):
    shanghai = department_path("总部/华东区/上海组")
    admin = browser_of(root)
    below = admin.post(reverse("team:department_edit", args=[east.pk]),
                       {"name": "华东区", "parent": shanghai.pk})
    assert below.status_code == 400
    assert below.context["form"].errors["parent"] == [
        "“上海组”是“华东区”的下级部门，不能把“华东区”移到它之下"]
    itself = admin.post(reverse("team:department_edit", args=[east.pk]),
                        {"name": "", "parent": east.pk})
    assert set(itself.context["form"].errors) == {"name", "parent"}
    east.refresh_from_db()
    assert east.parent.name == "总部" and east.name == "华东区"


def test_only_an_empty_department_is_deleted_and_the_refusal_says_what_is_inside(root, alice,
                                                                                 east):
    department_path("总部/华东区/上海组")
    admin = browser_of(root)
    refused = admin.post(reverse("team:department_delete", args=[east.pk]), follow=True)
    text = refused.content.decode()
    assert "1 个下级部门（上海组）" in text and "名成员" in text and "Alice 王" in text
    assert Department.objects.filter(pk=east.pk).exists()

    empty = department_save(actor=root, origin="manual", data={"name": "空部门"})
    assert admin.post(reverse("team:department_delete", args=[empty.pk])).status_code == 302
    assert not Department.objects.filter(pk=empty.pk).exists()
    assert ChangeLog.objects.filter(model="accounts.department", object_id=empty.pk,
                                    action="delete", origin="manual").exists()


def test_a_department_a_pool_serves_names_the_pool(root):
    from kehu.pool.services import pool_save

    lonely = department_save(actor=root, origin="manual", data={"name": "公海部门"})
    pool_save(actor=root, origin="manual", data={"name": "测试公海", "departments": [lonely.pk],
                                                 "daily_claims": 5, "reclaim_wait_days": 30})
    page = browser_of(root).post(reverse("team:department_delete", args=[lonely.pk]), follow=True)
    assert "测试公海" in page.content.decode()
    assert Department.objects.filter(pk=lonely.pk).exists()


def test_a_manager_cannot_reach_departments(mallory, east):
    client = browser_of(mallory)
    assert client.get(reverse("team:departments")).status_code == 403
    assert client.post(reverse("team:department_edit", args=[east.pk]),
                       {"name": "x"}).status_code == 403
