"""kehu restore FILE — verify a backup, then restore it into an empty instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kehu.core.commands import KehuCommand


class Command(KehuCommand):
    help = "校验备份的每个校验和后恢复到空实例（非空实例需 --force）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--force", action="store_true", help="覆盖已有数据的实例")

    def handle(self, *args: Any, file: str, force: bool, **options: Any) -> None:
        from kehu.backups import restoring

        done = restoring.backup_restore(Path(file), force=force)
        self.stdout.write(f"已恢复：{done['tables']} 张表，{done['files']} 个文件")
