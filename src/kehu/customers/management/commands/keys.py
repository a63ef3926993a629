"""`kehu keys status | rotate [--foreground] | generate`: field-encryption keys (字段加密密钥).

Rotating: put a new `data` line first in the key file (`kehu keys generate` prints one) or
first in KEHU_ENCRYPTION_KEYS, keep the old one after it, restart Kehu, run `kehu keys
rotate`, wait until `kehu keys status` shows the old key holding nothing, then remove it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kehu.core.commands import KehuCommand


class Command(KehuCommand):
    help = ("字段加密密钥：keys status 各密钥加密了多少值 · keys rotate 用当前密钥重新加密 · "
            "keys generate 生成新密钥 · encryption keys")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("status", help="how many values each key still holds, per column")
        rotate = actions.add_parser("rotate", help="re-encrypt every value with the current "
                                    "key and rebuild the blind indexes (a background job)")
        rotate.add_argument("--foreground", action="store_true",
                            help="run here with a progress line instead of in the worker")
        actions.add_parser("generate", help="print a new key line for the key file")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from kehu.core import crypto  # models are ready only now

        if action == "generate":
            self.stdout.write(f"data {crypto.new_key()}")
            return
        if action == "rotate":
            self._rotate(foreground=options["foreground"])
            return
        self._status(crypto)

    def _status(self, crypto: Any) -> None:
        from django.conf import settings

        from kehu.customers.rekeying import key_status

        ring = crypto.keyring()
        self.stdout.write(f"密钥来源 · keys from: {ring.source}")
        self.stdout.write("加密字段 · encrypted: id_number"
                          + "".join(f", {name}" for name in settings.KEHU_ENCRYPT_FIELDS))
        totals: dict[str, int] = {}
        for label, counts in key_status().items():
            shown = ", ".join(f"{kid} {n}" for kid, n in sorted(counts.items())) or "—"
            self.stdout.write(f"  {label}: {shown}")
            for kid, n in counts.items():
                totals[kid] = totals.get(kid, 0) + n
        for position, kid in enumerate(ring.ids):
            role = "当前，加密新值 · current" if position == 0 else "仅解密 · decrypts only"
            held = totals.get(kid, 0)
            removable = "；可以删除 · may be removed" if position and not held else ""
            self.stdout.write(f"密钥 {kid}（{role}）：{held} 个值{removable}")
        unknown = sorted(set(totals) - set(ring.ids) - {"plain"})
        for kid in unknown:
            self.stderr.write(f"警告：{totals[kid]} 个值使用未配置的密钥 {kid}，无法解密 · "
                              f"values under key {kid}, which is not configured")
        if totals.get("plain"):
            self.stdout.write(f"明文 · in the clear: {totals['plain']}（运行 kehu keys rotate）")

    def _rotate(self, *, foreground: bool) -> None:
        from kehu.accounts.services import system_actor
        from kehu.customers.rekeying import REKEY_JOB
        from kehu.jobs.services import job_start, run_in_foreground

        if not foreground:
            started = job_start(actor=system_actor(), origin="system", kind=REKEY_JOB)
            self.stdout.write(f"已开始任务 #{started.pk}（后台 worker 执行；kehu keys status 查看"
                              f"进度）· started job #{started.pk}")
            return

        def progress(running: Any) -> None:
            self.stdout.write(f"\r{running.done}/{running.total or '?'}", ending="")
            self.stdout.flush()

        finished = run_in_foreground(actor=system_actor(), origin="system", kind=REKEY_JOB,
                                     params={}, on_progress=progress)
        self.stdout.write("")
        self.stdout.write(f"任务 #{finished.pk}：{finished.status} {finished.result or ''}")
        if finished.status != "done":
            from django.core.management.base import CommandError

            raise CommandError(f"job #{finished.pk} {finished.status}: {finished.error or ''}")
