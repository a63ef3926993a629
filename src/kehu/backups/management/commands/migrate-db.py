"""kehu migrate-db --to postgresql://… — move the embedded SQLite installation up to an empty
PostgreSQL database, every table, then compare them table by table (backups/moving.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from kehu.core.commands import KehuCommand


class Command(KehuCommand):
    help = ("把内置的 SQLite 数据库完整迁移到一个空的 PostgreSQL 数据库，并逐表核对 · "
            "move the embedded SQLite database to an empty PostgreSQL database")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--to", required=True, metavar="URL", dest="url",
                            help="postgresql://user:password@host:5432/database（必须是空的）")

    def handle(self, *args: Any, url: str, **options: Any) -> None:
        from kehu.backups import moving

        report = moving.migrate_db(url, progress=lambda line: self.stderr.write(line))
        self._tables(report)
        self._summary(report)
        if report.missing_files:
            raise CommandError(_("数据库已迁移，但有 %(count)d 个附件文件在 %(dir)s 下找不到：%(names)s") % {
                "count": len(report.missing_files), "dir": report.media_root,
                "names": "、".join(report.missing_files[:5])})

    def _tables(self, report: Any) -> None:
        rows = report.tables
        width = max((len(r.table) for r in rows), default=5)
        self.stdout.write(f"{_('数据表'):<{width}}  {'SQLite':>9}  {'PostgreSQL':>10}  "
                          f"{_('校验和')}")
        for r in rows:
            mark = (_("一致 %(sum)s") % {"sum": r.source_sum[:12]} if r.same
                    else _("不同 %(a)s ≠ %(b)s") % {"a": r.source_sum[:12], "b": r.target_sum[:12]})
            self.stdout.write(f"{r.table:<{width}}  {r.source:>9}  {r.target:>10}  {mark}")

    def _summary(self, report: Any) -> None:
        w = self.stdout.write
        w(_("已迁移到 %(url)s：%(tables)d 张表，%(rows)d 行，全部一致；复制用时 %(seconds).1f 秒"
            "（%(rate).0f 行/秒）") % {
            "url": report.target, "tables": len(report.tables), "rows": report.rows,
            "seconds": report.copy_seconds, "rate": report.rows_per_second})
        w(_("已把 %(count)d 个序列重置为各表最大 id + 1") % {"count": report.sequences})
        if report.skipped:
            w(_("未复制：%(tables)s（SQLite 全文索引的内部表；索引的内容已按原样迁移）") % {
                "tables": "、".join(report.skipped)})
        if report.missing:
            w(_("SQLite 里没有、留空的表：%(tables)s") % {"tables": "、".join(report.missing)})
        where = {"dir": report.media_root, "count": report.files,
                 "missing": len(report.missing_files)}
        w(_("附件目录 %(dir)s 保持原位（不复制）：被引用的 %(count)d 个文件全部存在") % where
          if not report.missing_files else
          _("附件目录 %(dir)s 保持原位（不复制）：被引用的 %(count)d 个文件中有 %(missing)d 个不存在")
          % where)
        w(_("下一步：停掉 Kehu，设置 DATABASE_URL=%(url)s，保留同一个 KEHU_DATA_DIR 和同一份"
            "密钥（加密字段按密文复制，需要同一个密钥文件），再启动") % {"url": report.target})
