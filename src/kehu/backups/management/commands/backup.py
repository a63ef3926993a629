"""kehu backup FILE — an online backup; kehu backup drill FILE — a restore drill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from kehu.core.commands import KehuCommand


class Command(KehuCommand):
    help = ("备份数据库和附件到一个文件（运行中也可以）；kehu backup drill FILE 演练恢复并逐表比对")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("words", nargs="+", metavar="FILE",
                            help="备份文件（.tar 或 .tar.gz）；或 drill FILE")

    def handle(self, *args: Any, words: list[str], **options: Any) -> None:
        from kehu.backups import archive, restoring

        if words[0] == "drill" and len(words) == 2:
            rows = restoring.backup_drill(Path(words[1]))
            self._table(rows)
            bad = [r["table"] for r in rows if not r["same"]]
            if bad:
                raise CommandError(f"演练发现 {len(bad)} 张表与线上不同：{', '.join(bad)}")
            self.stdout.write(f"演练通过：{len(rows)} 张表全部一致")
            return
        if len(words) != 1:
            raise CommandError("用法：kehu backup FILE 或 kehu backup drill FILE")
        path = Path(words[0])
        manifest = archive.backup_create(path)
        total = sum(manifest["row_counts"].values())
        self.stdout.write(f"已备份到 {path}：{len(manifest['row_counts'])} 张表，{total} 行，"
                          f"{len(manifest['sha256']) - 1} 个文件，{path.stat().st_size} 字节")

    def _table(self, rows: list[dict[str, Any]]) -> None:
        width = max((len(r["table"]) for r in rows), default=5)
        self.stdout.write(f"{'表':<{width}}  {'线上':>8}  {'恢复':>8}  校验和")
        for r in rows:
            mark = "一致" if r["same"] else f"不同 {r['live_sum']} ≠ {r['restored_sum']}"
            self.stdout.write(f"{r['table']:<{width}}  {r['live']!s:>8}  {r['restored']!s:>8}  "
                              f"{mark}")
