"""SMTP from the environment: read strictly, off unless configured."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from kehu.config.env import env_base_url, env_email, parse_email_url

CLEAR = ("URL", "HOST", "PORT", "USER", "PASSWORD", "USE_TLS", "USE_SSL", "TIMEOUT")


@pytest.fixture
def env(monkeypatch):
    for name in CLEAR:
        monkeypatch.delenv(f"KEHU_EMAIL_{name}", raising=False)
        monkeypatch.delenv(f"KEHU_EMAIL_{name}_FILE", raising=False)

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"KEHU_EMAIL_{name}", value)

    return set_


def test_nothing_configured_means_no_email(env):
    assert env_email() is None


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://user:pa%40ss@mail.example.com:587?tls=1",
     {"EMAIL_HOST": "mail.example.com", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "user",
      "EMAIL_HOST_PASSWORD": "pa@ss", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}),
    ("smtps://kehu%40example.com:secret@smtp.example.com",
     {"EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": 465, "EMAIL_HOST_USER": "kehu@example.com",
      "EMAIL_HOST_PASSWORD": "secret", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True}),
    ("smtp://127.0.0.1:1025",
     {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": 1025, "EMAIL_HOST_USER": "",
      "EMAIL_HOST_PASSWORD": "", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}),
    ("smtp://relay?tls=yes&timeout=7",
     {"EMAIL_HOST": "relay", "EMAIL_PORT": 587, "EMAIL_USE_TLS": True, "EMAIL_TIMEOUT": 7}),
])
def test_a_url(env, url, expected):
    env(URL=url)
    config = env_email()
    assert {key: config[key] for key in expected} == expected


@pytest.mark.parametrize("url", [
    "http://u:hunter2@mail.example.com", "smtp://u:hunter2@", "smtp://u:hunter2@host:0",
    "smtp://u:hunter2@host:70000", "smtp://u:hunter2@host:abc", "smtps://u:hunter2@host?tls=1",
    "smtp://u:hunter2@host?tls=maybe", "smtp://u:hunter2@host?starttls=1", "smtp://u:hunter2@host/x",
    "smtp://u:hunter2@host?tls=1&tls=0", "smtp://u:hunter2@host?timeout=0",
    "smtp://u:hunter2@host?timeout=²", "smtp://u:hunter2@host?x",
])
def test_a_bad_url_stops_the_start_without_showing_the_password(url):
    with pytest.raises(ImproperlyConfigured) as bad:
        parse_email_url(url)
    assert "KEHU_EMAIL_URL" in str(bad.value)
    assert "hunter2" not in str(bad.value)


def test_the_usual_variables(env):
    env(HOST="smtp.example.com", USER="kehu", PASSWORD="secret", USE_TLS="1")
    config = env_email()
    assert config["EMAIL_HOST"] == "smtp.example.com"
    assert config["EMAIL_PORT"] == 587
    assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == ("kehu", "secret")
    assert config["EMAIL_USE_TLS"] and not config["EMAIL_USE_SSL"]
    env(USE_TLS="0", USE_SSL="1", PORT="2465")
    assert (env_email()["EMAIL_PORT"], env_email()["EMAIL_USE_SSL"]) == (2465, True)


@pytest.mark.parametrize("values", [
    {"HOST": "h", "USE_TLS": "1", "USE_SSL": "1"},
    {"HOST": "h", "USE_TLS": "sometimes"},
    {"HOST": "h", "PORT": "seven"},
    {"HOST": "h", "PORT": "65536"},
    {"HOST": "h", "URL": "smtp://h"},
])
def test_bad_variables_stop_the_start(env, values):
    env(**values)
    with pytest.raises(ImproperlyConfigured):
        env_email()


def test_the_base_url(monkeypatch):
    monkeypatch.setenv("KEHU_BASE_URL", "https://crm.example.com/")
    assert env_base_url("KEHU_BASE_URL") == "https://crm.example.com"
    monkeypatch.setenv("KEHU_BASE_URL", "crm.example.com")
    with pytest.raises(ImproperlyConfigured):
        env_base_url("KEHU_BASE_URL")
