"""Why a customer sits where it sits, in words: the rule and the figures it read.

"A 类 · 规则：ABC 分级：营收前 70% — 窗口内消费金额（M） ¥210,000（> 0）；营收排名累计占比（%）
0（< 70）". The figures are the customer's stored ones (the same the rules read); a
change on the timeline keeps the figures of its moment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from kehu.classification.conditions import FIGURE_COLUMNS, NUMBER_FIGURES
from kehu.classification.figures import SEGMENT_LABELS
from kehu.customers.conditions import Group, Leaf, parse_condition

SIGNS = {"eq": "=", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
MONEY_FIELDS = {"rfm.monetary"}


def figure_text(key: str, value: Any) -> str:
    """One figure as a person reads it."""
    if value is None or value == "":
        return "—"
    if key == "rfm.segment":
        return str(SEGMENT_LABELS.get(str(value), value))
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if key in MONEY_FIELDS:
        return f"¥{number:,.0f}"
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:.1f}"


def _threshold(leaf: Leaf) -> str:
    op, value = leaf.op, leaf.value
    if op in SIGNS:
        return f"{SIGNS[op]} {figure_text(leaf.field.key, value)}"
    if op == "between":
        return f"{figure_text(leaf.field.key, value[0])}–{figure_text(leaf.field.key, value[1])}"
    if op == "within_days":
        return _("%(n)d 天内") % {"n": value}
    if op == "older_than_days":
        return _("%(n)d 天以前") % {"n": value}
    if op in ("in", "not_in"):
        labels = dict(leaf.field.choices)
        shown = "、".join(str(labels.get(v, v)) for v in value)
        return shown if op == "in" else _("不是 %(v)s") % {"v": shown}
    if op in ("after", "before", "empty", "not_empty"):
        return {"after": _("晚于 %(v)s"), "before": _("早于 %(v)s"), "empty": _("为空"),
                "not_empty": _("不为空")}[op] % {"v": value}
    return str(value)


def _leaves(condition: Any) -> list[Leaf]:
    try:
        node = parse_condition(condition)
    except Exception:  # noqa: BLE001 — a rule that no longer parses explains nothing
        return []
    found: list[Leaf] = []

    def walk(item: Any) -> None:
        if isinstance(item, Leaf):
            found.append(item)
        elif isinstance(item, Group):
            for child in item.children:
                walk(child)

    walk(node)
    return found


def reasons(condition: Any, figures: dict[str, Any]) -> list[str]:
    """Each condition of a rule with the customer's figure: "窗口内消费金额（M） ¥210,000（> 0）"."""
    if not condition:
        return [_("不符合前面的规则")]
    lines = []
    for leaf in _leaves(condition):
        key = leaf.field.key
        if key in FIGURE_COLUMNS or key == "rfm.segment":
            lines.append(f"{leaf.field.label} {figure_text(key, figures.get(key))}"
                         f"（{_threshold(leaf)}）")
        else:
            lines.append(f"{leaf.field.label}：{_threshold(leaf)}")
    return lines


def figures_dict(row: Any) -> dict[str, Any]:
    """A CustomerFigures row as {field key: value}. No row is a customer without a spending
    order: counts and amounts are 0, scores and dates none (as the conditions read it)."""
    if row is None:
        return {key: 0 for key, _label, _column, zero in NUMBER_FIGURES if zero}
    found = {key: getattr(row, column) for key, column in FIGURE_COLUMNS.items()}
    found["rfm.segment"] = row.segment
    return found
