"""`kehu regions info` and `kehu regions update FILE`: the division list (行政区划) Kehu
matches regions against — which snapshot it holds, and loading a newer one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kehu.accounts.services import system_actor
from kehu.core.commands import KehuCommand
from kehu.customers.regions.selectors import regions_info
from kehu.customers.regions.services import regions_update


class Command(KehuCommand):
    help = "行政区划：regions info（来源日期与数量）· regions update FILE（载入新版）· the division list"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("info", help="the snapshot's date, source and counts")
        update = actions.add_parser("update", help="load a newer snapshot (kehu-regions/1 JSON)")
        update.add_argument("file", help="the snapshot file")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "update":
            info = regions_update(actor=system_actor(), origin="system", path=options["file"])
            self.stdout.write(f"已载入行政区划（{info['as_of']}）。")
            self.show(info)
            self.stdout.write(f"地区有变化的客户：{info['customers_changed']}")
        else:
            self.show(regions_info(viewer=system_actor()))

    def show(self, info: dict[str, Any]) -> None:
        self.stdout.write(f"版本日期：{info['as_of']}")
        self.stdout.write(f"来源：{info['source']}")
        if info["licence"]:
            self.stdout.write(f"许可：{info['licence']}")
        self.stdout.write(f"省级 {info['provinces']} · 地级 {info['cities']} · "
                          f"县级 {info['districts']} · 共 {info['total']}")
