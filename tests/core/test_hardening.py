"""Production hardening: the documented production settings pass Django's deploy check at
warning level (and without KEHU_HTTPS they do not); every answer carries a strict
Content-Security-Policy; no template holds inline script or an inline event handler that
the policy would refuse."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import kehu
from kehu.core.security import POLICY

KEHU = Path(sys.executable).with_name("kehu")
TEMPLATES = Path(kehu.__file__).parent


def deploy_check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    # The deployment's environment, not the test run's (Playwright's tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which the deploy check rightly refuses).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEHU_", "DATABASE_URL", "DJANGO_"))}
    env.update({"KEHU_DATA_DIR": str(tmp_path), "KEHU_DEBUG": "0",
                "KEHU_SECRET_KEY": secrets.token_urlsafe(60),
                "KEHU_AUDIT_KEY": secrets.token_urlsafe(48),
                "KEHU_KEY_FILE": str(tmp_path.parent / "etc-kehu-keys"),
                "KEHU_ALLOWED_HOSTS": "crm.example.com",
                "KEHU_CSRF_TRUSTED_ORIGINS": "https://crm.example.com", **extra})
    return subprocess.run([str(KEHU), "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_readmes_production_settings_pass_the_deploy_check(tmp_path):
    done = deploy_check(tmp_path, KEHU_HTTPS="true", KEHU_PROXY_COUNT="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_encryption_keys_beside_the_database_are_a_warning_and_bad_ones_an_error(tmp_path):
    done = deploy_check(tmp_path, KEHU_HTTPS="true", KEHU_PROXY_COUNT="1",
                        KEHU_KEY_FILE=str(tmp_path / "keys"))
    assert done.returncode != 0 and "core.W001" in done.stdout + done.stderr
    (tmp_path / "bad-keys").write_text("data not-a-key\n")
    done = deploy_check(tmp_path, KEHU_HTTPS="true", KEHU_PROXY_COUNT="1",
                        KEHU_KEY_FILE=str(tmp_path / "bad-keys"))
    assert done.returncode != 0 and "core.E001" in done.stdout + done.stderr


def test_without_https_the_deploy_check_says_what_is_missing(tmp_path):
    done = deploy_check(tmp_path)
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stdout + done.stderr


@pytest.mark.django_db
def test_every_answer_carries_the_policy(alice):
    client = Client()
    for url in (reverse("login"), "/api/v1/customers"):
        assert client.get(url).headers["Content-Security-Policy"] == POLICY
    client.force_login(alice)
    page = client.get(reverse("customers:list"))
    assert page.headers["Content-Security-Policy"] == POLICY
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    script = next(part for part in POLICY.split("; ") if part.startswith("script-src"))
    assert script == "script-src 'self'"  # no inline script, no eval, no other origin


def test_no_template_runs_inline_script():
    inline_script = re.compile(r"<script(?![^>]*(?:\bsrc\b|type=\"application/json\"))[^>]*>",
                               re.IGNORECASE)
    handler = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.IGNORECASE)
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (inline_script, handler):
            found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert found == []
