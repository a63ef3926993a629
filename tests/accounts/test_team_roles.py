"""成员与权限 → 角色: an admin makes and changes roles (data scope 本人 … 全公司 and the
permissions), and the people holding one get exactly that; a role in use is not deleted."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import Role, User
from kehu.accounts.org import role_save
from kehu.accounts.policy import access_for
from kehu.accounts.team import user_change
from kehu.core.errors import ValidationError
from kehu.core.models import ChangeLog

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_an_admin_makes_a_read_only_department_role_and_a_rep_gets_it(root, alice, bob,
                                                                       mallory, charlie):
    admin = browser_of(root)
    assert admin.get(reverse("team:role_create")).status_code == 200
    response = admin.post(reverse("team:role_create"), {
        "name": "区域督导", "data_scope": "dept", "masks_sensitive": "on", "may_export": "on"})
    assert response.status_code == 302
    role = Role.objects.get(name="区域督导")
    assert role.code.startswith("role-")
    assert (role.can_write, role.masks_sensitive, role.may_export, role.is_admin) == \
        (False, True, True, False)
    entry = ChangeLog.objects.get(model="accounts.role", object_id=role.pk, action="create")
    assert (entry.actor, entry.origin) == (root, "manual")

    user_change(actor=root, origin="manual", user=alice, data={
        "role": role.pk, "department": alice.department_id, "manager": mallory.pk})
    access = access_for(fresh(alice))
    assert access.owner_ids == {alice.pk, bob.pk, mallory.pk}  # her department, not charlie
    assert (access.can_write, access.masks_sensitive, access.may_export) == (False, True, True)

    listing = admin.get(reverse("team:roles")).content.decode()
    assert "区域督导" in listing and "本部门" in listing


def test_changing_a_role_changes_what_its_people_may_do(root, alice):
    sales = Role.objects.get(code="sales")
    response = browser_of(root).post(reverse("team:role_edit", args=[sales.pk]), {
        "name": sales.name, "data_scope": "all", "can_write": "on"})
    assert response.status_code == 302
    access = access_for(fresh(alice))
    assert access.sees_all and access.can_write and not access.may_export  # unticked: off
    changes = ChangeLog.objects.get(model="accounts.role", object_id=sales.pk).changes
    assert changes["data_scope"] == ["own", "all"] and changes["may_export"] == [True, False]


def test_the_admin_flag_follows_the_role_to_its_people(root, alice):
    custom = role_save(actor=root, origin="manual", data={"name": "副管理员", "data_scope": "own"})
    user_change(actor=root, origin="manual", user=alice, data={"role": custom.pk})
    role_save(actor=root, origin="manual", role=custom,
              data={"name": "副管理员", "data_scope": "all", "is_admin": True})
    assert fresh(alice).is_superuser and access_for(fresh(alice)).is_admin
    role_save(actor=root, origin="manual", role=custom, data={"is_admin": ""})
    assert not fresh(alice).is_superuser and not access_for(fresh(alice)).is_admin


def test_the_admin_role_keeps_its_flag_while_it_holds_the_last_admin(root):
    admin_role = Role.objects.get(code="admin")
    with pytest.raises(ValidationError):
        role_save(actor=root, origin="manual", role=admin_role, data={"is_admin": False})
    assert Role.objects.get(code="admin").is_admin


def test_every_bad_field_of_a_role_is_named(root):
    response = browser_of(root).post(reverse("team:role_create"), {
        "name": "", "data_scope": "galaxy", "code": "Not A Slug"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "data_scope", "code"}


def test_a_role_in_use_is_not_deleted_and_the_page_says_by_how_many(root, alice, bob):
    custom = role_save(actor=root, origin="manual", data={"name": "临时角色", "data_scope": "own"})
    for person in (alice, bob):
        user_change(actor=root, origin="manual", user=person, data={"role": custom.pk})
    admin = browser_of(root)
    refused = admin.post(reverse("team:role_delete", args=[custom.pk]), follow=True)
    assert "还有 2 名成员" in refused.content.decode()
    assert Role.objects.filter(pk=custom.pk).exists()
    sales = Role.objects.get(code="sales")
    for person in (alice, bob):
        user_change(actor=root, origin="manual", user=person, data={"role": sales.pk})
    assert admin.post(reverse("team:role_delete", args=[custom.pk])).status_code == 302
    assert not Role.objects.filter(pk=custom.pk).exists()
    assert ChangeLog.objects.filter(model="accounts.role", object_id=custom.pk,
                                    action="delete", origin="manual").exists()


def test_a_built_in_role_stays(root):
    sales = Role.objects.get(code="sales")
    page = browser_of(root).post(reverse("team:role_delete", args=[sales.pk]), follow=True)
    assert "内置角色" in page.content.decode()
    assert Role.objects.filter(code="sales").exists()


def test_a_manager_cannot_reach_roles(mallory):
    client = browser_of(mallory)
    assert client.get(reverse("team:roles")).status_code == 403
    assert client.post(reverse("team:role_create"), {"name": "x", "data_scope": "all"}) \
        .status_code == 403
    assert not Role.objects.filter(name="x").exists()
