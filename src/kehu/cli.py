"""The `kehu` command: serve, set up, load demo data, manage users and tokens.

    kehu serve [--host H] [--port P] [--workers N]
    kehu setup                       # migrate; on the first run also demo data + admin
    kehu migrate
    kehu demo [--customers N] [--seed S]
    kehu user create NAME --role ROLE [--team 总部/华东区] [--manager NAME]
                                     # password: asked twice at a terminal, or one line on
                                     # stdin (a second line must repeat it); empty: generated
    kehu token create NAME [--label L]
    kehu manage <django command> ... (and any other subcommand goes to Django)

Errors print one line on stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

COMMANDS = ("serve", "setup", "migrate", "demo", "user", "token")
DEFAULT_DEMO_CUSTOMERS = 2000
DEFAULT_SEED = 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kehu` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings")
    if not args or args[0] in ("-h", "--help"):
        build_parser().print_help()
        print("\n其他子命令交给 Django：kehu manage <command> …（例如 kehu createsuperuser）")
        return 0
    if args[0] not in COMMANDS:
        return _django(args[1:] if args[:1] == ["manage"] else args)
    import django

    django.setup()
    options = build_parser().parse_args(args)
    return _run(options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kehu", description="Kehu 客户管理")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app and API with gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None)
    sub.add_parser("setup", help="migrate; on the first run load demo data and create admin")
    sub.add_parser("migrate", help="apply database migrations")
    demo = sub.add_parser("demo", help="load demo data")
    demo.add_argument("--customers", type=int, default=DEFAULT_DEMO_CUSTOMERS)
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED)
    user = sub.add_parser("user").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user (password asked, piped or generated)")
    create.add_argument("name")
    create.add_argument("--role", required=True)
    create.add_argument("--team", default="", help='department path, e.g. "总部/华东区"')
    create.add_argument("--manager", default="", help="the username of the user's manager")
    create.add_argument("--display-name", default="")
    token = sub.add_parser("token").add_subparsers(dest="action", required=True)
    token_create = token.add_parser("create", help="create an API token for a user")
    token_create.add_argument("name", help="username")
    token_create.add_argument("--label", default="cli")
    return parser


def _run(options: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError
    from django.core.management.base import CommandError

    try:
        HANDLERS[(options.command, getattr(options, "action", None))](options)
    except ValidationError as exc:
        return fail(validation_message(exc))
    except CommandError as exc:
        return fail(str(exc))
    return 0


def _django(args: list[str]) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kehu", *args])
    return 0


def fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 1


def validation_message(exc: Any) -> str:
    """One line from a ValidationError: "field: message; field: message"."""
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}"
                         for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def boxed(lines: list[str]) -> str:
    """Lines framed in a box, padded by display width (a Chinese character is two columns)."""
    widths = [_width(line) for line in lines]
    inner = max(widths) + 2
    rows = [f"│ {line}{' ' * (inner - 2 - w)} │" for line, w in zip(lines, widths, strict=True)]
    return "\n".join([f"┌{'─' * inner}┐", *rows, f"└{'─' * inner}┘"])


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --- commands -----------------------------------------------------------------


def cmd_serve(options: argparse.Namespace) -> None:
    """Run gunicorn in this process on kehu.config.wsgi (static files via whitenoise)."""
    from django.conf import settings
    from gunicorn.app.base import BaseApplication

    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    # SQLite has one writer at a time: a few workers are enough, more only wait on the lock.
    workers = options.workers or (2 if sqlite else min(2 * (os.cpu_count() or 1) + 1, 8))
    config = {"bind": f"{options.host}:{options.port}", "workers": workers,
              "worker_class": "sync", "timeout": 60, "graceful_timeout": 10,
              "accesslog": os.environ.get("KEHU_ACCESS_LOG") or None}

    class KehuServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in config.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from kehu.config.wsgi import application

            return application

    print(f"Kehu 运行于 http://{options.host}:{options.port}/ （{workers} 个进程）", flush=True)
    KehuServer().run()


def cmd_migrate(options: argparse.Namespace) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    print("数据库已是最新结构")


def cmd_setup(options: argparse.Namespace) -> None:
    """Migrate; on the first run (no user yet) load demo data and create `admin` once."""
    from kehu.accounts.models import User
    from kehu.accounts.services import department_path, user_create
    from kehu.demo import generate

    cmd_migrate(options)
    if User.objects.filter(is_system=False).exists():
        return
    _user, password = user_create(username="admin", role_code="admin", display_name="系统管理员",
                                  department=department_path("总部"))
    print(f"首次运行：正在生成演示数据（{DEFAULT_DEMO_CUSTOMERS:,} 个客户）…", flush=True)
    generate(DEFAULT_DEMO_CUSTOMERS, DEFAULT_SEED, stdout=sys.stdout)
    print(boxed(["管理员账号：admin", f"密码：{password}", "密码只显示这一次，请立即保存并登录后修改。"]))


def cmd_demo(options: argparse.Namespace) -> None:
    from django.core.management.base import CommandError

    from kehu.demo import generate

    if options.customers < 0:
        raise CommandError("--customers 不能为负数")
    generate(options.customers, options.seed, stdout=sys.stdout)


def cmd_user_create(options: argparse.Namespace) -> None:
    from django.db import transaction

    from kehu.accounts.models import User
    from kehu.accounts.services import department_path, user_create

    manager = None
    if options.manager:
        manager = User.objects.filter(username=options.manager).first()
        if manager is None:
            raise _invalid("manager", f"没有用户 “{options.manager}”")
    given = _read_password()
    with transaction.atomic():  # a refused user leaves no new department behind
        user, password = user_create(
            username=options.name, role_code=options.role, password=given, manager=manager,
            department=department_path(options.team) if options.team else None,
            display_name=options.display_name,
        )
    print(f"已创建用户 {user.username}（{user.role}）")
    if not given:
        print(f"密码：{password}")


def cmd_token_create(options: argparse.Namespace) -> None:
    from kehu.accounts.models import User
    from kehu.accounts.services import token_create

    user = User.objects.filter(username=options.name, is_active=True).first()
    if user is None:
        raise _invalid("username", f"没有用户 “{options.name}”")
    _token, secret = token_create(user=user, name=options.label)
    print(f"{user.username} 的 API 令牌（只显示这一次）：")
    print(secret)


HANDLERS = {
    ("serve", None): cmd_serve,
    ("setup", None): cmd_setup,
    ("migrate", None): cmd_migrate,
    ("demo", None): cmd_demo,
    ("user", "create"): cmd_user_create,
    ("token", "create"): cmd_token_create,
}


def _read_password() -> str | None:
    """The new user's password, or None to have one generated.

    At a terminal it is asked twice and the answers must match (an empty answer: generate).
    Piped (`printf 'secret\n' | kehu user create ...`) it is the first line; a second line
    is a confirmation and must repeat it; anything more is refused. An empty pipe: generate.
    """
    try:
        if sys.stdin is None:
            return None
        if sys.stdin.isatty():
            first = getpass.getpass("密码（直接回车则自动生成）：")
            if first and getpass.getpass("再输入一次密码：") != first:
                raise _invalid("password", "两次输入的密码不一致")
            return first or None
        piped = sys.stdin.read()
    except (OSError, ValueError):  # no usable stdin (closed): generate
        return None
    lines = [line.removesuffix("\r") for line in piped.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > 2:
        raise _invalid("password", "标准输入只能有一行密码，最多再加一行相同的密码作为确认")
    if len(lines) == 2 and lines[1] != lines[0]:
        raise _invalid("password", "第二行（确认）与第一行的密码不一致")
    return lines[0] if lines else None


def _invalid(field: str, message: str) -> Exception:
    from django.core.exceptions import ValidationError

    return ValidationError({field: [message]})


if __name__ == "__main__":
    sys.exit(main())
