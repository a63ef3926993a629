"""A rep manages her own API tokens in the web: she makes a read-only one for a reporting
script and sees its secret once, the script reads but cannot write, she sees when and from
where it was last used and revokes it; an expired token is refused; changing her password
can end every token at once, and ends her other sessions."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.models import ApiToken
from kehu.accounts.services import token_create
from kehu.core.models import ChangeLog

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(secret: str, method: str = "get", path: str = "/api/v1/customers", body=None,
        address: str = "203.0.113.7"):
    client = Client(REMOTE_ADDR=address)
    kwargs = {"headers": {"Authorization": f"Bearer {secret}", "If-Match": "*"}}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


def test_a_rep_makes_a_read_only_token_uses_it_and_revokes_it(alice, alices_customer):
    web = signed_in(alice)
    page = web.post(reverse("accounts:tokens"), {"name": "周报脚本", "scope": "read", "days": "30"})
    assert page.status_code == 200
    secret = re.search(r'id="token-secret"[^>]*>(kehu_[^<]+)<', page.content.decode()).group(1)
    token = ApiToken.objects.get(user=alice, name="周报脚本")
    assert token.scope == "read" and token.key_hash != secret  # only a hash is kept
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    # Shown once: the list afterwards names the token but never holds the secret again.
    again = web.get(reverse("accounts:tokens")).content.decode()
    assert "周报脚本" in again and secret not in again

    assert api(secret).status_code == 200
    refused = api(secret, "post", "/api/v1/customers", {"kind": "company", "name": "脚本客户"})
    assert refused.status_code == 403 and "只读" in refused.json()["detail"]
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_from == "203.0.113.7"
    assert "203.0.113.7" in web.get(reverse("accounts:tokens")).content.decode()

    assert web.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 302
    assert api(secret).status_code == 401
    assert ChangeLog.objects.filter(action__in=["token_create", "token_revoke"]).count() == 2


def test_a_write_token_writes_and_an_expired_one_is_refused(alice):
    _token, writer = token_create(user=alice, name="ERP", scope="write")
    made = api(writer, "post", "/api/v1/customers", {"kind": "company", "name": "ERP 客户"})
    assert made.status_code == 201
    old, secret = token_create(user=alice, name="旧的", expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api(secret).status_code == 401


def test_a_bad_token_form_names_every_bad_field(alice):
    page = signed_in(alice).post(reverse("accounts:tokens"), {"name": "", "scope": "admin",
                                                              "days": "7"})
    assert page.status_code == 400
    html = page.content.decode()
    for message in ("请给令牌起个名字", "“admin” 不是可选值", "有效期应为"):
        assert message in html
    assert not ApiToken.objects.filter(user=alice).exists()


def test_nobody_revokes_someone_elses_token(alice, bob):
    token, secret = token_create(user=alice, name="alice 的脚本")
    assert signed_in(bob).post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    assert api(secret).status_code == 200


def test_a_password_change_can_end_every_token_and_ends_other_sessions(alice):
    _t, secret = token_create(user=alice, name="脚本")
    here, elsewhere = signed_in(alice), signed_in(alice)
    changed = here.post(reverse("accounts:password"), {
        "old_password": "alice-pass-123", "new_password1": "Lan-Ting-Xu-353",
        "new_password2": "Lan-Ting-Xu-353", "revoke_tokens": "on"})
    assert changed.status_code == 302
    assert "已吊销 1 个 API 令牌" in here.get(changed["Location"]).content.decode()
    assert api(secret).status_code == 401
    assert elsewhere.get(reverse("customers:list")).status_code == 302  # signed out there
    alice.refresh_from_db()
    assert alice.check_password("Lan-Ting-Xu-353")


def test_a_wrong_old_password_changes_nothing(alice):
    _t, secret = token_create(user=alice, name="脚本")
    page = signed_in(alice).post(reverse("accounts:password"), {
        "old_password": "nope", "new_password1": "Lan-Ting-Xu-353",
        "new_password2": "Lan-Ting-Xu-353", "revoke_tokens": "on"})
    assert page.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password("alice-pass-123") and api(secret).status_code == 200
