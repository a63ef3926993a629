"""kehu stage-tallies — check the kanban's kept counts against a recount; --rebuild recounts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from kehu.core.commands import KehuCommand


class Command(KehuCommand):
    help = "核对商机看板各阶段的计数和金额（与重新统计比较）；--rebuild 从头重新统计"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rebuild", action="store_true", help="从商机重新统计全部计数")

    def handle(self, *args: Any, rebuild: bool = False, **options: Any) -> None:
        from kehu.history import tallies

        if rebuild:
            rows = tallies.stage_tallies_rebuild()
            self.stdout.write(f"已重新统计：{rows} 行")
            return
        drift = tallies.stage_tallies_drift()
        if drift:
            raise CommandError(f"{len(drift)} 处计数与重新统计不同，请运行 kehu stage-tallies --rebuild")
        self.stdout.write("看板计数与重新统计一致")
