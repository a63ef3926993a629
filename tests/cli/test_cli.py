"""The `kehu` command as an operator uses it: set up, add people, hand out tokens.

Each command lives with its app (`<app>/management/commands/`); `kehu` dispatches to them."""

from __future__ import annotations

import getpass
import http.client
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from kehu import cli
from kehu.accounts.models import Department, User
from kehu.accounts.services import token_authenticate
from kehu.customers.models import Customer
from kehu.demo import DEFAULT_CUSTOMERS

KEHU = Path(sys.executable).with_name("kehu")


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_kehu_alone_lists_the_kehu_commands_with_their_help(capsys):
    status, out, _ = run(capsys)
    assert status == 0
    listed = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert {"serve", "setup", "demo", "user", "token"} <= set(listed)
    assert "gunicorn" in listed["serve"] and "演示数据" in listed["setup"]
    for name, line in listed.items():
        help_text = load_command_class(get_commands()[name], name).help
        assert help_text.splitlines()[0] in line
    assert "migrate" not in listed  # Django's own: named in the hint below the list
    assert "kehu manage <command>" in out
    assert run(capsys, "-h")[1] == out


def test_each_command_lives_with_the_app_it_drives():
    commands = get_commands()
    assert commands["serve"] == "kehu.core"
    assert commands["setup"] == commands["demo"] == "kehu.demo"
    assert commands["user"] == commands["token"] == "kehu.accounts"


def test_an_unknown_command_is_one_line_and_a_failing_status(capsys):
    status, out, err = run(capsys, "bogus", "--flag")
    assert status == 1 and out == ""
    assert err.startswith("错误：") and err.count("\n") == 1 and "bogus" in err


@pytest.mark.django_db
def test_an_operator_creates_a_rep_in_a_new_team_with_a_piped_password(capsys, monkeypatch):
    status, out, _ = run(capsys, "user", "create", "xiaoming", "--role", "sales",
                         "--team", "总部/西南区", stdin="s3cret-pass-xyz\n", monkeypatch=monkeypatch)
    assert status == 0
    user = User.objects.get(username="xiaoming")
    assert user.role.code == "sales"
    assert user.department.name == "西南区" and user.department.parent.name == "总部"
    assert user.check_password("s3cret-pass-xyz")
    assert "s3cret" not in out


@pytest.mark.django_db
def test_password_from_stdin_is_one_line(capsys, monkeypatch):
    # `printf 'pw\npw\n' | kehu user create ...`: the second line confirms the first.
    status, out, _ = run(capsys, "user", "create", "xiaohong", "--role", "sales",
                         stdin="Hong-pass-2024\r\nHong-pass-2024\r\n", monkeypatch=monkeypatch)
    assert status == 0
    user = User.objects.get(username="xiaohong")
    assert user.check_password("Hong-pass-2024")
    assert not user.check_password("Hong-pass-2024\nHong-pass-2024")
    assert "Hong-pass" not in out


@pytest.mark.django_db
@pytest.mark.parametrize("stdin", [
    "Hong-pass-2024\nHong-pass-2025\n",               # the confirmation differs
    "\nHong-pass-2024\n",                             # an empty first line
    "Hong-pass-2024\nHong-pass-2024\nHong-pass-2024\n",  # more than a confirmation
])
def test_a_piped_confirmation_that_does_not_match_is_refused(capsys, monkeypatch, stdin):
    status, _, err = run(capsys, "user", "create", "xiaohong", "--role", "sales",
                         "--team", "总部/西北区", stdin=stdin, monkeypatch=monkeypatch)
    assert status == 1
    assert err.count("\n") == 1 and "password" in err
    assert not User.objects.filter(username="xiaohong").exists()
    assert not Department.objects.filter(name="西北区").exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db
def test_at_a_terminal_the_password_is_asked_twice_and_must_match(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", Terminal())
    answers = iter(["Hong-pass-2024", "Hong-pass-2042"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    status, _, err = run(capsys, "user", "create", "xiaohong", "--role", "sales")
    assert status == 1 and "不一致" in err
    assert not User.objects.filter(username="xiaohong").exists()

    answers = iter(["Hong-pass-2024", "Hong-pass-2024"])
    status, out, _ = run(capsys, "user", "create", "xiaohong", "--role", "sales")
    assert status == 0 and "Hong-pass" not in out
    assert User.objects.get(username="xiaohong").check_password("Hong-pass-2024")

    answers = iter([""])  # just Enter: one is generated and printed once
    status, out, _ = run(capsys, "user", "create", "xiaoli", "--role", "sales")
    assert status == 0
    assert User.objects.get(username="xiaoli").check_password(out.strip().split("：", 1)[1])


@pytest.mark.django_db
def test_without_a_piped_password_one_is_generated_and_printed(capsys, monkeypatch):
    status, out, _ = run(capsys, "user", "create", "lisi", "--role", "analyst", stdin="",
                         monkeypatch=monkeypatch)
    assert status == 0
    password = out.strip().splitlines()[-1].split("：", 1)[1]
    assert User.objects.get(username="lisi").check_password(password)


@pytest.mark.django_db
def test_a_bad_role_is_one_clear_line_and_a_failing_status(capsys, monkeypatch):
    status, out, err = run(capsys, "user", "create", "zhaoliu", "--role", "boss", stdin="",
                           monkeypatch=monkeypatch)
    assert status == 1
    assert err.count("\n") == 1 and "role" in err and "sales" in err
    assert not User.objects.filter(username="zhaoliu").exists()


@pytest.mark.django_db
def test_a_script_creates_users_through_call_command(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Call-pass-2024\n"))
    call_command("user", "create", "xiaozhou", "--role", "sales", "--team", "总部/华东区")
    assert User.objects.get(username="xiaozhou").check_password("Call-pass-2024")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    call_command("user", "create", "xiaowu", role="analyst", display_name="小吴")
    assert User.objects.get(username="xiaowu").display_name == "小吴"
    # A refusal is a CommandError carrying the same one line the terminal shows.
    with pytest.raises(CommandError, match=r"^role: .*sales"):
        call_command("user", "create", "xiaozhao", role="boss")


@pytest.mark.django_db
def test_the_token_on_the_last_line_signs_its_user_in(capsys, alice):
    status, out, _ = run(capsys, "token", "create", "alice")
    assert status == 0
    assert token_authenticate(out.strip().splitlines()[-1]).user == alice


@pytest.mark.django_db
def test_a_token_for_a_missing_user_is_refused(capsys):
    status, _, err = run(capsys, "token", "create", "nobody")
    assert status == 1 and "nobody" in err


@pytest.mark.django_db
def test_demo_loads_the_asked_number_of_customers_reproducibly(capsys):
    assert run(capsys, "demo", "--customers", "50", "--seed", "1")[0] == 0
    assert Customer.objects.filter(origin="demo").count() == 50
    assert User.objects.filter(username="wang.fang", role__code="sales").exists()


@pytest.mark.django_db
def test_demo_refuses_a_negative_number_of_customers(capsys):
    status, _, err = run(capsys, "demo", "--customers", "-5")
    assert status == 1 and err == "错误：--customers 不能为负数\n"
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_setup_prints_the_admin_password_only_on_the_first_run(capsys):
    status, first, _ = run(capsys, "setup")
    assert status == 0
    assert "┌" in first and "admin" in first
    password = next(line for line in first.splitlines() if "密码：" in line and "│" in line)
    password = password.split("：", 1)[1].strip(" │")
    assert User.objects.get(username="admin").check_password(password)
    assert Customer.objects.count() == DEFAULT_CUSTOMERS
    status, second, _ = run(capsys, "setup")
    assert status == 0
    assert "┌" not in second and password not in second and "密码" not in second
    assert Customer.objects.count() == DEFAULT_CUSTOMERS


def test_the_installed_command_passes_other_subcommands_to_django(tmp_path):
    env = {**os.environ, "KEHU_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # a fresh SQLite file: never touch the test run's database
    result = subprocess.run([str(KEHU), "manage", "check"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    result = subprocess.run([str(KEHU), "showmigrations", "customers"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "0001_initial" in result.stdout


def test_kehu_serve_serves_the_stylesheet_with_debug_off(tmp_path):
    env = {**os.environ, "KEHU_DATA_DIR": str(tmp_path), "KEHU_DEBUG": "0"}
    env.pop("DATABASE_URL", None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(KEHU), "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        response = get_when_up(port, "/static/kehu/app.css")
        assert response.status == 200
        assert response.getheader("Content-Type").startswith("text/css")
        assert len(response.read()) > 100
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def get_when_up(port: int, path: str, attempts: int = 300) -> http.client.HTTPResponse:
    """GET once the server accepts connections (it boots in a few seconds; give up after ~60)."""
    for _ in range(attempts):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            return connection.getresponse()
        except ConnectionRefusedError:
            time.sleep(0.2)
    raise AssertionError(f"kehu serve did not answer on port {port}")
