"""`kehu export customers|orders|communications --format xlsx|csv -o FILE [--as USER] [filters]`.

Customers: the list, as a sheet. Orders (one row per order line) and communications: those
of the customers the same filters pick, optionally between --from and --to (and, for
orders, of one --status).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from kehu.accounts.commands import acting_user
from kehu.core.commands import KehuCommand
from kehu.core.models import Origin
from kehu.customers.filters import CustomerFilters
from kehu.transfer.export.selectors import HistoryFilters
from kehu.transfer.export.services import (
    TARGETS,
    check_may_export,
    export_count,
    export_target,
    target_for,
)
from kehu.transfer.export.writers import ENCODINGS, FORMATS

FILTERS = ("q", "kind", "industry", "province", "city", "owner", "tag", "sort")


class Command(KehuCommand):
    help = "把客户列表（按筛选、搜索和排序），或这些客户的订单、沟通记录导出为 xlsx 或 csv"

    def add_arguments(self, parser) -> None:
        # Checked in handle(), not by argparse: a refusal is one 错误： line, not a usage text.
        parser.add_argument("target", help="、".join(TARGETS))
        parser.add_argument("--format", dest="fmt", default=None, help="xlsx 或 csv（默认按文件后缀）")
        parser.add_argument("-o", "--output", required=True)
        parser.add_argument("--as", dest="as_user", default=None,
                            help="以此用户的范围和脱敏规则导出（默认：唯一的管理员）")
        parser.add_argument("--encoding", default="utf-8-sig", help="utf-8-sig（默认）或 gb18030")
        parser.add_argument("--columns", default="", help="列的键，逗号分隔")
        for name in FILTERS:
            parser.add_argument(f"--{name}", default=None)
        parser.add_argument("--custom", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--from", dest="start", default=None,
                            help="订单、沟通记录：从这一天起（YYYY-MM-DD）")
        parser.add_argument("--to", dest="end", default=None,
                            help="订单、沟通记录：到这一天止（含）")
        parser.add_argument("--status", default=None, help="订单：只导出这一状态")
        parser.add_argument("--leave-out-do-not-contact", action="store_true",
                            help="不导出已撤回营销同意（勿营销）的客户")

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["target"]
        spec = target_for(target)
        if options["encoding"] not in ENCODINGS:
            raise CommandError(_("--encoding 只能是 %(all)s") % {"all": "、".join(ENCODINGS)})
        actor = acting_user(options["as_user"])
        try:
            check_may_export(actor)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        if options["status"] and target != "orders":
            raise CommandError(_("--status 只用于导出订单"))
        filters = CustomerFilters.from_params(self._params(options))
        history = HistoryFilters.from_params(
            {"from": options["start"], "to": options["end"], "status": options["status"]})
        path = Path(options["output"])
        fmt = options["fmt"] or path.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise CommandError(_("--format 只能是 csv 或 xlsx"))
        columns = [c.strip() for c in options["columns"].split(",") if c.strip()] or None
        spec.columns(columns)  # an unknown column is refused before the file is created
        leave_out = options["leave_out_do_not_contact"]
        total = export_count(viewer=actor, target=target, filters=filters, history=history,
                             leave_out_do_not_contact=leave_out)
        with tqdm(total=total, desc=str(_("导出")), unit=str(_(" 行")), disable=None,
                  file=sys.stderr) as bar, path.open("wb") as stream:
            rows = export_target(actor=actor, origin=Origin.MANUAL, target=target,
                                 filters=filters, history=history, fmt=fmt, stream=stream,
                                 columns=columns, encoding=options["encoding"],
                                 progress=lambda n: bar.update(n - bar.n),
                                 leave_out_do_not_contact=leave_out)
        self.stdout.write(_("已导出 %(rows)d 行到 %(path)s") % {"rows": rows, "path": path})

    @staticmethod
    def _params(options: dict[str, Any]) -> dict[str, str]:
        params = {name: options[name] for name in FILTERS if options.get(name) is not None}
        for pair in options["custom"]:
            key, _sep, value = pair.partition("=")
            params[f"cf_{key}"] = value
        return params
