"""Talking points (跟进要点): a plan's template with the customer's figures filled in.

Only `{name}` placeholders from a fixed list are filled, by plain substitution — never
Django's template engine or str.format over user text (no attribute or index lookups) —
and a plan naming an unknown placeholder is refused when saved (`unknown_names`).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

# Chinese names first; the English ones are aliases.
NAMES: dict[str, tuple[str, Any]] = {
    "客户名称": ("name", _("客户名称")),
    "等级": ("tier", _("价值等级")),
    "最近下单": ("last_order", _("最近一次下单日期")),
    "近12月消费": ("revenue_12m", _("近 12 个月消费金额")),
    "未联系天数": ("days_since_contact", _("距上次联系的天数")),
}
ALIASES = {english: chinese for chinese, (english, _label) in NAMES.items()}
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")


def unknown_names(template: str) -> list[str]:
    """The placeholders of `template` that are not in NAMES (nor their aliases)."""
    return [name for name in _PLACEHOLDER.findall(template or "")
            if name not in NAMES and name not in ALIASES]


def render_points(template: str, values: dict[str, Any]) -> str:
    """`template` with each known placeholder replaced by `values[<chinese name>]` ("—" when
    unknown for this customer); anything else is left as written."""

    def fill(match: re.Match) -> str:
        name = ALIASES.get(match.group(1), match.group(1))
        if name not in NAMES:
            return match.group(0)
        value = values.get(name)
        return "—" if value in (None, "") else str(value)

    return _PLACEHOLDER.sub(fill, template or "")
