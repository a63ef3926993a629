"""A runaway script hits the API: past the limit per token (and per address) each call is
refused with 429 and Retry-After, in the API's error shape, until the window turns; other
tokens, other addresses and the web pages carry on. Limits come from the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from kehu.accounts import ratelimit
from kehu.config.env import Rate, env_rate

pytestmark = pytest.mark.django_db
OFFICE = "198.51.100.10"
HOME = "203.0.113.5"


@pytest.fixture(autouse=True)
def limits(settings, monkeypatch):
    ratelimit._counters().clear()
    settings.KEHU_API_RATE_PER_TOKEN = Rate(3, 60)
    settings.KEHU_API_RATE_PER_ADDRESS = Rate(5, 60)
    clock = {"now": 1_800_000_000.0}  # the start of a minute
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock["now"])
    yield clock
    ratelimit._counters().clear()


def calls(caller, n: int, address: str = OFFICE) -> list[int]:
    return [caller.client.get("/api/v1/customers", headers=caller.headers, REMOTE_ADDR=address)
            .status_code for _ in range(n)]


def test_a_token_past_its_limit_gets_429_with_retry_after_until_the_window_turns(
        alice, api_as, limits):
    script = api_as(alice)
    assert calls(script, 3) == [200, 200, 200]
    limits["now"] += 15
    refused = script.client.get("/api/v1/customers", headers=script.headers, REMOTE_ADDR=OFFICE)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert refused.json()["detail"] == "请求太频繁，请 45 秒后再试"
    limits["now"] += 45  # the next minute
    assert calls(script, 1) == [200]


def test_another_token_carries_on_but_the_address_has_its_own_limit(alice, bob, api_as):
    assert calls(api_as(alice), 4) == [200, 200, 200, 429]
    assert calls(api_as(bob), 2) == [200, 429]  # the office's five calls are used up
    assert calls(api_as(bob), 1, address=HOME) == [200]


def test_guessing_tokens_is_limited_by_address(alice, api_as):
    guesses = [api_as(None).client.get("/api/v1/customers", REMOTE_ADDR=OFFICE,
                                       headers={"Authorization": f"Bearer kehu_guess{n}"})
               .status_code for n in range(7)]
    assert guesses == [401] * 5 + [429] * 2


def test_a_browser_session_counts_per_person_and_web_pages_are_not_limited(alice, login):
    browser = login(alice)
    statuses = [browser.get("/api/v1/customers", REMOTE_ADDR=HOME).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert browser.get(reverse("customers:list"), REMOTE_ADDR=HOME).status_code == 200


def test_off_turns_a_limit_off(alice, api_as, settings):
    settings.KEHU_API_RATE_PER_TOKEN = None
    settings.KEHU_API_RATE_PER_ADDRESS = None
    assert set(calls(api_as(alice), 12)) == {200}


@pytest.mark.parametrize(("text", "rate"), [
    ("600/min", Rate(600, 60)), ("20/s", Rate(20, 1)), ("10000/day", Rate(10000, 86400)),
    ("100/5m", Rate(100, 300)), ("off", None), ("30/hour", Rate(30, 3600)),
])
def test_rates_are_read_from_the_environment(monkeypatch, text, rate):
    monkeypatch.setenv("KEHU_API_RATE_PER_TOKEN", text)
    assert env_rate("KEHU_API_RATE_PER_TOKEN", "600/min") == rate


@pytest.mark.parametrize("text", ["600", "fast", "0/min", "10/fortnight", "-5/min", "1.5/s"])
def test_a_bad_rate_stops_the_start_naming_the_variable(monkeypatch, text):
    monkeypatch.setenv("KEHU_API_RATE_PER_TOKEN", text)
    with pytest.raises(ImproperlyConfigured, match="KEHU_API_RATE_PER_TOKEN"):
        env_rate("KEHU_API_RATE_PER_TOKEN", "600/min")


def test_two_worker_processes_count_into_the_same_window(tmp_path):
    """gunicorn runs several processes: the second one's calls add to the first one's."""
    path = tmp_path / "ratelimit.sqlite3"
    code = ("import sys, django; django.setup(); from pathlib import Path; "
            "from kehu.accounts.ratelimit import Counters; "
            "c = Counters(Path(sys.argv[1])); [c.add('token:x:60:1', 120.0) for _ in range(3)]")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60,
                   env={**os.environ, "DJANGO_SETTINGS_MODULE": "kehu.config.settings"})
    assert ratelimit.Counters(path).add("token:x:60:1", 120.0) == 4
