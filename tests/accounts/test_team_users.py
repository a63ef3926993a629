"""成员与权限 → 成员: an admin creates, changes, deactivates, reactivates people and resets
passwords from the web, each in the change log; nobody else reaches the screens."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import ApiToken, Role, SignIn, User
from kehu.accounts.services import department_path, token_create
from kehu.accounts.team import user_change, user_deactivate
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.models import ChangeLog

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signed_in(user, password: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.username,
                                          "password": password}).status_code == 302
    return client


def role(code: str) -> Role:
    return Role.objects.get(code=code)


def logged(action: str, user: User) -> ChangeLog:
    return ChangeLog.objects.get(action=action, model="accounts.user", object_id=user.pk)


def test_an_admin_creates_a_rep_in_east_china_under_mallory(root, mallory, east):
    admin = browser_of(root)
    assert admin.get(reverse("team:user_create")).status_code == 200
    response = admin.post(reverse("team:user_create"), {
        "username": "wang.fang", "display_name": "王芳", "email": "wang.fang@example.cn",
        "department": east.pk, "manager": mallory.pk, "role": role("sales").pk,
        "password": "Sprout-river-42"})
    assert response.status_code == 302
    rep = User.objects.get(username="wang.fang")
    assert (rep.display_name, rep.department, rep.manager, rep.role.code, rep.is_staff) == \
        ("王芳", east, mallory, "sales", False)
    entry = logged("create", rep)
    assert (entry.actor, entry.origin) == (root, "manual")
    assert "password" not in entry.changes
    signed_in(rep, "Sprout-river-42")  # she signs in with it
    # and her manager sees her in the list under 华东区
    listing = admin.get(reverse("team:users"), {"department": east.pk, "q": "王"}).content.decode()
    assert "王芳" in listing and "Mallory 经理" in listing


def test_a_blank_password_is_generated_and_shown_once(root):
    response = browser_of(root).post(reverse("team:user_create"), {
        "username": "li.lei", "display_name": "李雷", "role": role("sales").pk})
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode() and "no-store" in response["Cache-Control"]
    signed_in(User.objects.get(username="li.lei"), password)


def test_every_bad_field_is_named_at_once(root, alice):
    response = browser_of(root).post(reverse("team:user_create"), {
        "username": "alice", "email": "not-an-email", "department": "999",
        "manager": "999", "role": "", "password": "123"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"username", "email", "department", "manager", "role", "password"}
    assert "已被使用" in errors["username"][0]
    assert not User.objects.filter(email="not-an-email").exists()


def test_an_admin_moves_a_rep_to_another_team_and_role(root, alice, charlie, south):
    admin = browser_of(root)
    page = admin.get(reverse("team:user_edit", args=[alice.pk]))
    assert page.status_code == 200 and "Alice 王" in page.content.decode()
    response = admin.post(reverse("team:user_edit", args=[alice.pk]), {
        "display_name": "Alice 王", "department": south.pk, "manager": charlie.pk,
        "role": role("manager").pk})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.department, alice.manager, alice.role.code) == (south, charlie, "manager")
    changes = logged("update", alice).changes
    assert changes["role"] == [role("sales").pk, role("manager").pk]
    assert changes["department"][1] == south.pk


def test_a_manager_loop_is_refused(root, alice, mallory):
    with pytest.raises(ValidationError) as refused:
        user_change(actor=root, origin="manual", user=mallory,
                    data={"manager": alice.pk, "role": mallory.role_id})
    assert "下属" in refused.value.message_dict["manager"][0]


def test_the_last_admin_keeps_the_admin_role(root):
    with pytest.raises(ValidationError) as refused:
        user_change(actor=root, origin="manual", user=root, data={"role": role("sales").pk})
    assert "管理员" in refused.value.message_dict["role"][0]
    root.refresh_from_db()
    assert root.role.code == "admin" and root.is_superuser


def test_making_someone_admin_or_not_follows_the_role(root, alice):
    user_change(actor=root, origin="manual", user=alice, data={"role": role("admin").pk})
    alice.refresh_from_db()
    assert alice.is_superuser and alice.is_staff
    assert alice.department.name == "华东区" and alice.manager.username == "mallory"  # kept
    user_change(actor=root, origin="manual", user=alice, data={"role": role("sales").pk})
    alice.refresh_from_db()
    assert not alice.is_superuser and not alice.is_staff


def test_deactivating_ends_her_sessions_and_tokens_at_once(root, alice):
    browser = signed_in(alice, "alice-pass-123")
    secret = token_create(user=alice, name="script")[1]
    caller = Client(headers={"Authorization": f"Bearer {secret}"})
    assert caller.get("/api/v1/me").status_code == 200
    assert browser.get(reverse("customers:list")).status_code == 200

    response = browser_of(root).post(reverse("team:user_deactivate", args=[alice.pk]))
    assert response.status_code == 302
    assert browser.get(reverse("customers:list")).status_code == 302  # to the login page
    assert caller.get("/api/v1/me").status_code == 401
    assert not SignIn.objects.filter(user=alice).exists()
    assert not ApiToken.objects.filter(user=alice, revoked_at__isnull=True).exists()
    entry = logged("deactivate", alice)
    assert (entry.actor, entry.origin, entry.changes["sessions_ended"]) == (root, "manual", 1)
    assert Client().post(reverse("login"), {"username": "alice",
                                            "password": "alice-pass-123"}).status_code != 302

    browser_of(root).post(reverse("team:user_reactivate", args=[alice.pk]))
    signed_in(alice, "alice-pass-123")
    assert logged("reactivate", alice).origin == "manual"


def test_nobody_deactivates_themselves(root):
    with pytest.raises(ValidationError):
        user_deactivate(actor=root, origin="manual", user=root)


def test_an_admin_resets_a_password_and_her_sessions_end(root, alice):
    browser = signed_in(alice, "alice-pass-123")
    token_create(user=alice, name="script")  # a reset leaves tokens alone
    admin = browser_of(root)
    typed = admin.post(reverse("team:user_password", args=[alice.pk]),
                       {"password": "Fresh-meadow-77"})
    assert typed.status_code == 302
    assert browser.get(reverse("customers:list")).status_code == 302
    signed_in(alice, "Fresh-meadow-77")
    generated = admin.post(reverse("team:user_password", args=[alice.pk]), {})
    assert generated.status_code == 200
    signed_in(alice, generated.context["password"])
    assert [e.changes["generated"] for e in ChangeLog.objects.filter(
        action="password_reset", object_id=alice.pk).order_by("pk")] == [False, True]
    weak = admin.post(reverse("team:user_password", args=[alice.pk]), {"password": "alice"})
    assert weak.status_code == 400 and weak.context["password_form"].errors["password"]


def test_the_list_filters_by_role_and_status(root, alice, bob, charlie, east):
    user_deactivate(actor=root, origin="manual", user=bob)
    admin = browser_of(root)
    active = admin.get(reverse("team:users"), {"role": role("sales").pk}).context["rows"]
    assert {p.username for p in active} == {"alice", "charlie"}
    gone = admin.get(reverse("team:users"), {"active": "no"}).context["rows"]
    assert [p.username for p in gone] == ["bob"]
    sub = department_path("总部/华东区/上海组")
    User.objects.filter(pk=charlie.pk).update(department=sub)
    in_east = admin.get(reverse("team:users"), {"department": east.pk}).context["rows"]
    assert {p.username for p in in_east} == {"alice", "mallory", "charlie"}


@pytest.mark.parametrize("person", ["mallory", "alice", "anna"])
def test_nobody_but_an_admin_reaches_team_settings(person, request, alice):
    user = request.getfixturevalue(person)
    client = browser_of(user)
    assert client.get(reverse("team:users")).status_code == 403
    assert client.post(reverse("team:user_deactivate", args=[alice.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        user_deactivate(actor=user, origin="manual", user=alice)
    alice.refresh_from_db()
    assert alice.is_active


def test_the_system_actor_is_not_a_team_member(root):
    from kehu.accounts.services import system_actor

    system = system_actor()
    assert browser_of(root).get(reverse("team:user_edit", args=[system.pk])).status_code == 404


def test_team_settings_are_in_the_settings_menu(root):
    html = browser_of(root).get(reverse("settings:index")).content.decode()
    assert reverse("team:users") in html and "成员与权限" in html


def test_a_deactivated_manager_stays_until_changed(root, alice, mallory, bob, south):
    user_deactivate(actor=root, origin="manual", user=mallory)
    user_change(actor=root, origin="manual", user=alice, data={"department": south.pk})
    alice.refresh_from_db()
    assert alice.manager == mallory and alice.department == south
    user_change(actor=root, origin="manual", user=bob, data={"manager": alice.pk})
    bob.refresh_from_db()
    assert bob.manager == alice
    with pytest.raises(ValidationError) as refused:
        user_change(actor=root, origin="manual", user=root, data={"manager": mallory.pk})
    assert "在职" in refused.value.message_dict["manager"][0]
    page = browser_of(root).get(reverse("team:user_edit", args=[alice.pk]))
    assert (str(mallory.pk), "Mallory 经理") in [
        (str(v), str(label)) for v, label in page.context["form"].fields["manager"].choices]
