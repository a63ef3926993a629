"""`kehu audit verify`: walk the audit chain; OK with the count, or the first broken entry
and exit status 1. `kehu audit prune`: apply the retention period now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from kehu.core.commands import KehuCommand


class Command(KehuCommand):
    help = "审计日志：audit verify 校验防篡改链 · audit prune 按保留期清理 · verify the audit chain"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("verify", help="check every entry's keyed hash, in id order")
        actions.add_parser("prune", help="delete entries older than KEHU_AUDIT_RETENTION_DAYS")
        actions.add_parser("seal", help="seal the change log's new rows into the chain now")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from kehu.audit import chain, sealing, services  # models are ready only now
        from kehu.audit.anchors import anchor_now

        if action == "seal":
            self.stdout.write(f"已封存 {sealing.seal_changes()} 条变更日志")
            anchor_now()
            return
        if action == "prune":
            self.stdout.write(f"已删除 {services.prune()} 条过期审计记录")
            return
        verdict = chain.verify()
        if not verdict.ok:
            raise CommandError(f"审计链在第 #{verdict.broken_id} 条断开（{verdict.reason}）；"
                               f"之前 {verdict.count} 条完好 · audit chain broken at entry "
                               f"#{verdict.broken_id}")
        self.stdout.write(f"OK：{verdict.count} 条审计记录，链完整；"
                          f"{verdict.sealed_rows} 条变更日志与封存一致 · audit chain intact "
                          f"({verdict.count} entries, "
                          f"{verdict.sealed_rows} change-log rows sealed)")
