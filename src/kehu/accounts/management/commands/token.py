"""`kehu token create NAME [--label L]`: an API token for a user, printed once on the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kehu.accounts.models import User
from kehu.accounts.services import token_create
from kehu.core.commands import KehuCommand, invalid


class Command(KehuCommand):
    help = "创建 API 令牌：token create NAME [--label L]（只显示一次）· create an API token"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create an API token for a user")
        create.add_argument("name", help="username")
        create.add_argument("--label", default="cli", help="the token's name (default: cli)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "create":
            self.create(name=options["name"], label=options["label"])

    def create(self, *, name: str, label: str) -> None:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise invalid("username", f"没有用户 “{name}”")
        _token, secret = token_create(user=user, name=label)
        self.stdout.write(f"{user.username} 的 API 令牌（只显示这一次）：")
        self.stdout.write(secret)
