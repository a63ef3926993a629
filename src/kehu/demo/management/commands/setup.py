"""`kehu setup`: migrate; on the first run also demo data and the `admin` account.

What `make run` does before serving. The first run is the one with no person (no
non-system user) yet: it creates `admin`, loads the demo data and shows admin's password
once, in a box.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command

from kehu.accounts.models import User
from kehu.accounts.services import department_path, user_create
from kehu.core import crypto
from kehu.core.commands import KehuCommand
from kehu.core.terminal import boxed
from kehu.demo import DEFAULT_CUSTOMERS, DEFAULT_SEED
from kehu.demo.jobs import load_in_foreground


class Command(KehuCommand):
    help = "迁移数据库；首次运行时生成演示数据并创建 admin · migrate; first run: demo data and admin"

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.KEHU_ENCRYPTION_KEYS and crypto.write_key_file(crypto.key_file_path()):
            self.stdout.write(f"已生成字段加密密钥 {crypto.key_file_path()}（仅本机可读）。"
                              "请另行妥善保存一份：备份中的加密字段要用它才能恢复。")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已是最新结构")
        if User.objects.filter(is_system=False).exists():
            return
        _user, password = user_create(username="admin", role_code="admin",
                                      display_name="系统管理员", department=department_path("总部"))
        self.stdout.write(f"首次运行：正在生成演示数据（{DEFAULT_CUSTOMERS:,} 个客户）…")
        self.stdout.flush()
        load_in_foreground(DEFAULT_CUSTOMERS, DEFAULT_SEED, out=self.stdout)
        self.stdout.write(boxed(["管理员账号：admin", f"密码：{password}",
                                 "密码只显示这一次，请立即保存并登录后修改。"]))
