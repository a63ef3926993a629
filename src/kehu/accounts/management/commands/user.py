"""`kehu user create NAME --role ROLE [--team 总部/华东区] [--manager NAME] [--display-name D]`.

The password is asked twice at a terminal, or read as one line from stdin (a second line
must repeat it); an empty answer or an empty pipe has one generated and printed once.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from kehu.accounts.models import User
from kehu.accounts.services import department_path, user_create
from kehu.core.commands import KehuCommand, invalid


class Command(KehuCommand):
    help = "创建用户：user create NAME --role ROLE（密码询问、管道输入或自动生成）· create a user"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a user (password asked, piped or "
                                                   "generated)")
        create.add_argument("name")
        create.add_argument("--role", required=True,
                            help="a role code: sales, manager, analyst, admin or one added later")
        create.add_argument("--team", default="", help='department path, e.g. "总部/华东区"')
        create.add_argument("--manager", default="", help="the username of the user's manager")
        create.add_argument("--display-name", default="")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "create":
            self.create(name=options["name"], role=options["role"], team=options["team"],
                        manager=options["manager"], display_name=options["display_name"])

    def create(self, *, name: str, role: str, team: str, manager: str,
               display_name: str) -> None:
        boss = None
        if manager:
            boss = User.objects.filter(username=manager).first()
            if boss is None:
                raise invalid("manager", f"没有用户 “{manager}”")
        given = read_password()
        with transaction.atomic():  # a refused user leaves no new department behind
            user, password = user_create(
                username=name, role_code=role, password=given, manager=boss,
                department=department_path(team) if team else None, display_name=display_name,
            )
        self.stdout.write(f"已创建用户 {user.username}（{user.role}）")
        if not given:
            self.stdout.write(f"密码：{password}")


def read_password() -> str | None:
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
                raise invalid("password", "两次输入的密码不一致")
            return first or None
        piped = sys.stdin.read()
    except (OSError, ValueError):  # no usable stdin (closed): generate
        return None
    lines = [line.removesuffix("\r") for line in piped.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > 2:
        raise invalid("password", "标准输入只能有一行密码，最多再加一行相同的密码作为确认")
    if len(lines) == 2 and lines[1] != lines[0]:
        raise invalid("password", "第二行（确认）与第一行的密码不一致")
    return lines[0] if lines else None
