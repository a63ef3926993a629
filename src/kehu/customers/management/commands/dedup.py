"""`kehu dedup [--format text|json] [--threshold 0.8] [--as USER]`: probable duplicate pairs."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from kehu.accounts.commands import acting_user
from kehu.core.commands import KehuCommand
from kehu.customers.duplicates import THRESHOLD, Pair, duplicate_pairs
from kehu.customers.duplicates_store import keys_of, masked_reasons
from kehu.customers.selectors import customers_visible, masked_customers


def _as_seen_by(viewer: Any, pairs: list[Pair]) -> list[Pair]:
    """The pairs whose customers are both in `viewer`'s scope, their reasons masked as the
    duplicates page shows them to `viewer` (a masking role, a pool's customers)."""
    ids = {i for p in pairs for i in (p.a, p.b)}
    owners = dict(customers_visible(viewer=viewer).filter(pk__in=ids)
                  .values_list("pk", "owner_id"))
    keys = keys_of(sorted(masked_customers(viewer=viewer, owners=owners)))
    return [replace(p, reasons=masked_reasons(p.reasons, keys.get(p.a, []) + keys.get(p.b, [])))
            for p in pairs if p.a in owners and p.b in owners]


class Command(KehuCommand):
    help = "查重：列出可能重复的客户对（分数和原因）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", dest="fmt", default="text", help="text 或 json")
        parser.add_argument("--threshold", type=float, default=THRESHOLD,
                            help=f"最低分数，0–1（默认 {THRESHOLD}）")
        parser.add_argument("--as", dest="as_user", default=None,
                            help="只列出此用户范围内的客户（默认：全部）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["fmt"] not in ("text", "json"):
            raise CommandError(_("--format 只能是 text 或 json"))
        if not 0 <= options["threshold"] <= 1:
            raise CommandError(_("--threshold 应在 0 到 1 之间"))
        pairs = list(duplicate_pairs(threshold=options["threshold"]))
        if options["as_user"]:
            pairs = _as_seen_by(acting_user(options["as_user"]), pairs)
        pairs.sort(key=lambda p: (-p.score, p.a, p.b))
        if options["fmt"] == "json":
            self.stdout.write(json.dumps([{"a": p.a, "b": p.b, "score": p.score,
                                           "reasons": p.reasons} for p in pairs],
                                         ensure_ascii=False))
            return
        for p in pairs:
            self.stdout.write(f"#{p.a}\t#{p.b}\t{p.score:.2f}\t{'；'.join(p.reasons)}")
        self.stdout.write(_("共 %(count)d 对可能重复的客户") % {"count": len(pairs)})
