"""What the list's filter builder needs from the condition grammar: the fields as JSON (kind,
operators in words, choices) and a condition said back in words for the active-filter line.

Reads the registry (`condition_fields`) and changes nothing in it; the grammar itself lives
in customers.conditions.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.customers.conditions import NO_VALUE, OPERATORS, Group, Leaf, condition_fields
from kehu.customers.regions.conditions import region_names
from kehu.customers.regions.picker import picker_config

OPERATOR_WORDS = {
    "in": gettext_lazy("属于"), "not_in": gettext_lazy("不属于"),
    "empty": gettext_lazy("为空"), "not_empty": gettext_lazy("不为空"),
    "eq": gettext_lazy("等于"), "ne": gettext_lazy("不等于"),
    "contains": gettext_lazy("包含"), "starts": gettext_lazy("开头是"),
    "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "between": gettext_lazy("介于"),
    "after": gettext_lazy("晚于"), "before": gettext_lazy("早于"),
    "within_days": gettext_lazy("最近几天内"), "older_than_days": gettext_lazy("超过几天"),
    "any": gettext_lazy("含任一"), "all": gettext_lazy("全都含"), "none": gettext_lazy("都不含"),
}


def builder_fields(custom_fields: list | None = None) -> list[dict[str, Any]]:
    """Every field the builder offers, in the registry's order, as JSON-ready dicts
    (`custom_fields`: the active custom fields, when the page has read them already)."""
    return [{"key": key, "label": str(f.label), "kind": f.kind,
             "ops": [[op, str(OPERATOR_WORDS[op])] for op in OPERATORS[f.kind]],
             "choices": [[str(v), str(label)] for v, label in f.choices]}
            for key, f in condition_fields(custom_fields).items()]


def builder_words() -> dict[str, str]:
    """The builder's words, for builder.js (which has no translations of its own)."""
    return {"remove": _("删除这一条"), "field": _("字段"), "op": _("比较"), "value": _("值"),
            "from": _("从"), "to": _("到"), "days": _("天"), "me": _("我"),
            "many": _("多个值用逗号或顿号分开"), "empty": _("请至少添加一条条件"),
            "missing": _("请填写第 {n} 条的值")}


def builder_data(*, initial: Any, owners: list, tags: list,
                 custom_fields: list | None = None, offer_me: bool = True) -> dict[str, Any]:
    """Everything builder.js reads from its json_script: the list's builder and a page hosting
    one (a classification rule's condition) alike. `offer_me`: whether owner offers "我" — not
    in a rule, which runs as the system (its service refuses the word)."""
    words = builder_words()
    if not offer_me:
        words.pop("me")
    return {"fields": builder_fields(custom_fields), "initial": initial or None,
            "owners": [[u.pk, u.label] for u in owners], "tags": list(tags),
            "words": words,
            "regions": picker_config()}


def condition_words(node: Group | Leaf, *, viewer: User) -> str:
    """`node` (parsed) in words: "省份 属于 浙江省、江苏省 且 累计消费金额 ≥ 100000"."""
    if isinstance(node, Leaf):
        return _leaf_words(node, viewer)
    joiner = _(" 且 ") if node.kind == "all" else _(" 或 ")
    parts = [condition_words(child, viewer=viewer) for child in node.children]
    said = joiner.join(f"（{p}）" if isinstance(c, Group) else p
                       for p, c in zip(parts, node.children, strict=True))
    return said


def _leaf_words(leaf: Leaf, viewer: User) -> str:
    op = str(OPERATOR_WORDS[leaf.op])
    if leaf.op in NO_VALUE:
        return f"{leaf.field.label} {op}"
    return f"{leaf.field.label} {op} {_value_words(leaf, viewer)}"


def _value_words(leaf: Leaf, viewer: User) -> str:
    labels = {str(v): str(label) for v, label in leaf.field.choices}
    value = leaf.value
    if leaf.field.kind == "owner":
        names = {u.pk: u.label for u in User.objects.filter(pk__in=[v for v in value if v != "me"])}
        return "、".join(_("我") if v == "me" else names.get(v) or str(v) for v in value)
    if leaf.field.kind == "region":
        return "、".join(region_names(value))
    if leaf.op in ("within_days", "older_than_days"):
        return _("%(n)s 天") % {"n": value}
    if isinstance(value, tuple):
        return _("%(low)s 到 %(high)s") % {"low": value[0], "high": value[1]}
    if isinstance(value, list):
        return "、".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))
