"""Passwords are checked by the same validators wherever they are set: the accounts
services, the `kehu` command and Django's admin — too short, all digits, too common or
too like the person's own name is refused, with a message saying which."""

from __future__ import annotations

import io
import sys

import pytest
from django.test import Client
from django.urls import reverse

from kehu import cli
from kehu.accounts.models import User
from kehu.accounts.services import user_create, user_set_password
from kehu.core.errors import ValidationError

TOO_SHORT = "密码太短：至少需要 10 个字符。"
ALL_DIGITS = "密码只包含数字。"


def refusal(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


@pytest.mark.django_db
def test_weak_password_is_refused_on_every_path(capsys, monkeypatch, alice, root):
    # The command line: `printf '1\n' | kehu user create weakling --role sales`.
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\n"))
    assert cli.main(["user", "create", "weakling", "--role", "sales"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：password:") and TOO_SHORT in err and ALL_DIGITS in err
    assert not User.objects.filter(username="weakling").exists()

    # The services, for every later caller (web, API, imports).
    errors = refusal(lambda: user_create(username="weakling", role_code="sales", password="1"))
    assert set(errors["password"]) >= {TOO_SHORT, ALL_DIGITS}
    assert not User.objects.filter(username="weakling").exists()
    assert refusal(lambda: user_set_password(user=alice, password="password123")) == {
        "password": ["这个密码太常见了。"]}
    assert refusal(lambda: user_set_password(user=alice, password="Alice 王 2024")) == {
        "password": ["密码跟 姓名 太相似了。"]}
    alice.refresh_from_db()
    assert alice.check_password("alice-pass-123")

    # Django's admin: adding a person and setting someone's password.
    admin = Client()
    admin.force_login(root)
    response = admin.post(reverse("admin:accounts_user_add"), {
        "username": "weakling", "password1": "12345678", "password2": "12345678",
        "usable_password": "true"})
    assert response.status_code == 200 and ALL_DIGITS in response.content.decode()
    assert not User.objects.filter(username="weakling").exists()
    response = admin.post(reverse("admin:auth_user_password_change", args=[alice.pk]),
                          {"password1": "1", "password2": "1", "usable_password": "true"})
    assert response.status_code == 200 and TOO_SHORT in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("alice-pass-123")


@pytest.mark.django_db
def test_every_bad_field_of_a_new_user_is_reported_at_once(db):
    errors = refusal(lambda: user_create(username="bad name!", role_code="sales", password="1"))
    assert "password" in errors and "username" in errors


@pytest.mark.django_db
def test_a_good_new_password_replaces_the_old_one(alice):
    user_set_password(user=alice, password="Xihu-longjing-2024")
    alice.refresh_from_db()
    assert alice.check_password("Xihu-longjing-2024") and not alice.check_password("alice-pass-123")


@pytest.mark.django_db
def test_generated_passwords_meet_a_longer_configured_minimum(settings):
    settings.KEHU_PASSWORD_MIN_LENGTH = 24
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
         "OPTIONS": {"min_length": 24}}]
    user, password = user_create(username="lisi", role_code="sales")
    assert len(password) >= 24 and user.check_password(password)
