"""Signing in at /login/ while someone guesses passwords: wrong passwords are counted per
account and per address; at the limit (5 by default) sign-ins are refused with 429 for the
cool-off (15 minutes), the right password included, and a successful sign-in clears the
account's count."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.10"


def sign_in(client: Client, username: str, password: str, address: str = ATTACKER, **headers):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address, **headers)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_thirty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(alice):
    client = Client()
    statuses = [sign_in(client, "alice", f"guess-{n:02}-wrong").status_code for n in range(30)]
    assert statuses == [200] * 4 + [429] * 26

    response = sign_in(client, "alice", "alice-pass-123")
    assert response.status_code == 429
    assert not signed_in(client)
    assert client.get(reverse("customers:list")).status_code == 302  # still sent to /login/


@pytest.mark.django_db
def test_the_locked_page_says_in_chinese_to_try_again_later_in_the_site_layout(alice):
    client = Client()
    for n in range(5):
        response = sign_in(client, "alice", f"guess-{n}-wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert "暂时无法登录" in page and "请在 15 分钟后再试" in page
    assert 'class="brand"' in page  # the site's own layout, not a bare text answer
    assert "alice-pass-123" not in page and "guess-4-wrong" not in page


@pytest.mark.django_db
def test_the_lock_follows_the_account_to_another_address(alice):
    for n in range(5):
        sign_in(Client(), "alice", f"guess-{n}-wrong", address=f"203.0.113.{n + 1}")
    office = Client()
    assert sign_in(office, "alice", "alice-pass-123", address=OFFICE).status_code == 429
    assert not signed_in(office)


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_locked_and_others_are_not(
        alice, bob, charlie, mallory, root, anna):
    attacker = Client()
    for username in ("alice", "bob", "charlie", "mallory", "root"):
        sign_in(attacker, username, "Summer-2024-guess")
    assert sign_in(attacker, "anna", "anna-pass-123").status_code == 429
    assert not signed_in(attacker)

    colleague = Client()
    assert sign_in(colleague, "anna", "anna-pass-123", address=OFFICE).status_code == 302
    assert signed_in(colleague)


@pytest.mark.django_db
def test_the_lock_ends_after_the_cool_off(alice):
    client = Client()
    for n in range(5):
        sign_in(client, "alice", f"guess-{n}-wrong")
    assert sign_in(client, "alice", "alice-pass-123").status_code == 429
    # 16 minutes pass: the stored failures age beyond the 15-minute cool-off.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert sign_in(client, "alice", "alice-pass-123").status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_hammering_a_locked_account_does_not_keep_it_locked(alice):
    client = Client()
    for n in range(5):
        sign_in(client, "alice", f"guess-{n}-wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    for n in range(20):  # refused while locked, and not counted
        assert sign_in(client, "alice", f"more-{n}-wrong").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert sign_in(client, "alice", "alice-pass-123").status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_count_for_that_account(alice):
    client = Client()
    for n in range(4):
        assert sign_in(client, "alice", f"typo-{n}-wrong").status_code == 200
    assert sign_in(client, "alice", "alice-pass-123").status_code == 302
    client.post(reverse("logout"))

    for n in range(4):
        assert sign_in(client, "alice", f"typo-{n}-again").status_code == 200
    assert sign_in(client, "alice", "alice-pass-123").status_code == 302


@pytest.mark.django_db
def test_an_insider_signing_in_as_himself_does_not_reset_the_count_on_someone_else(alice, bob):
    bobs_machine = Client()
    for n in range(4):
        sign_in(bobs_machine, "alice", f"guess-{n}-wrong")
    assert sign_in(bobs_machine, "bob", "bob-pass-123").status_code == 302
    bobs_machine.post(reverse("logout"))

    assert sign_in(bobs_machine, "alice", "guess-4-wrong").status_code == 429
    assert sign_in(Client(), "alice", "alice-pass-123", address=OFFICE).status_code == 429


@pytest.mark.django_db
def test_the_admin_signs_in_on_the_sites_throttled_page(root):
    """The admin's own sign-in page would skip the throttle's and two-factor's second step: it
    sends to /login/ and signs nobody in itself."""
    client = Client()
    response = client.post(reverse("admin:login") + "?next=/admin/",
                           {"username": "root", "password": "root-pass-123"}, REMOTE_ADDR=OFFICE)
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"
    assert not signed_in(client)
    for n in range(5):
        response = sign_in(client, "root", f"guess-{n}-wrong")
    assert response.status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_is_counted_by_its_forwarded_address(
        settings, alice, bob, charlie, mallory, root, anna):
    settings.KEHU_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    attacker = Client()
    for n, username in enumerate(("alice", "bob", "charlie", "mallory", "root")):
        # What the client claims on the left is ignored; nginx appended the real address.
        sign_in(attacker, username, "Summer-2024-guess", address=proxy,
                HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}")
    assert sign_in(attacker, "anna", "anna-pass-123", address=proxy,
                   HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429

    colleague = Client()
    response = sign_in(colleague, "anna", "anna-pass-123", address=proxy,
                       HTTP_X_FORWARDED_FOR=OFFICE)
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_test_client_and_code_still_sign_in_but_not_into_a_locked_account(alice):
    assert Client().login(username="alice", password="alice-pass-123")
    assert not Client().login(username="alice", password="wrong-password")
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("customers:list")).status_code == 200

    for n in range(5):
        sign_in(Client(), "alice", f"guess-{n}-wrong")
    assert not Client().login(username="alice", password="alice-pass-123")


@pytest.mark.parametrize("variable, value", [
    ("KEHU_LOGIN_FAILURE_LIMIT", "0"),
    ("KEHU_LOGIN_FAILURE_LIMIT", "five"),
    ("KEHU_LOGIN_COOLOFF_MINUTES", "0"),
    ("KEHU_LOGIN_COOLOFF_MINUTES", "-1"),
    ("KEHU_PROXY_COUNT", "-1"),
    ("KEHU_PASSWORD_MIN_LENGTH", "4"),
])
def test_a_bad_throttle_or_password_setting_stops_the_start_up_naming_it(tmp_path, variable,
                                                                       value):
    env = {**os.environ, "KEHU_DATA_DIR": str(tmp_path), variable: value,
           "DJANGO_SETTINGS_MODULE": "kehu.config.settings"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and variable in result.stderr
