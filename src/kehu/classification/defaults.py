"""The dimensions, values and rules Kehu ships with; an admin edits them in 设置.

Installed by migration 0002 (and `install_defaults` for a database that lost them). Keys
find existing rows, so installing twice adds nothing and never overwrites an admin's edit.
"""

from __future__ import annotations

from typing import Any

# key, name, English, values: (key, label, English, colour)
DIMENSIONS: tuple[tuple[str, str, str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("lifecycle", "生命周期", "Lifecycle", (
        ("prospect", "潜在客户", "Prospect", "#64748b"),
        ("new", "新客户", "New", "#0ea5e9"),
        ("active", "活跃老客户", "Active", "#16a34a"),
        ("dormant", "沉睡客户", "Dormant", "#d97706"),
        ("lost", "流失客户", "Lost", "#dc2626"))),
    ("value_tier", "价值等级", "Value tier", (
        ("vip", "VIP", "VIP", "#7c3aed"),
        ("a", "A 类", "A", "#16a34a"),
        ("b", "B 类", "B", "#0ea5e9"),
        ("c", "C 类", "C", "#64748b"))),
    ("customer_type", "客户细分", "Customer type", (
        ("person_hnw", "个人·高净值", "Individual, high net worth", "#7c3aed"),
        ("person", "个人·普通", "Individual", "#64748b"),
        ("company_large", "企业·大型", "Company, large", "#0ea5e9"),
        ("company_sme", "企业·中小", "Company, SME", "#16a34a"))),
)


def _leaf(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


# builtin key, dimension, value, priority, name, condition (None: every remaining customer)
RULES: tuple[tuple[str, str, str, int, str, Any], ...] = (
    ("lifecycle_prospect", "lifecycle", "prospect", 10, "未成交：没有有效订单",
     _leaf("rfm.orders_total", "eq", 0)),
    ("lifecycle_lost", "lifecycle", "lost", 20, "流失：超过 365 天未购买",
     _leaf("rfm.last_order_on", "older_than_days", 365)),
    ("lifecycle_dormant", "lifecycle", "dormant", 30, "沉睡：超过 180 天未购买",
     _leaf("rfm.last_order_on", "older_than_days", 180)),
    ("lifecycle_new", "lifecycle", "new", 40, "新客户：首单在 90 天内",
     _leaf("rfm.first_order_on", "within_days", 90)),
    ("lifecycle_active", "lifecycle", "active", 50, "活跃老客户：其余成交客户", None),
    ("tier_a", "value_tier", "a", 10, "ABC 分级：营收前 70%",
     {"all": [_leaf("rfm.monetary", "gt", 0), _leaf("rfm.revenue_share", "lt", 70)]}),
    ("tier_b", "value_tier", "b", 20, "ABC 分级：其后 20%",
     {"all": [_leaf("rfm.monetary", "gt", 0), _leaf("rfm.revenue_share", "lt", 90)]}),
    ("tier_c", "value_tier", "c", 30, "ABC 分级：其余", None),
    ("type_person_hnw", "customer_type", "person_hnw", 10, "个人：窗口内消费 ≥ ¥100,000",
     {"all": [_leaf("kind", "in", ["person"]), _leaf("rfm.monetary", "gte", 100000)]}),
    ("type_person", "customer_type", "person", 20, "个人：其余", _leaf("kind", "in", ["person"])),
    ("type_company_large", "customer_type", "company_large", 30, "企业：200 人以上",
     {"all": [_leaf("kind", "in", ["company"]),
              _leaf("company_size", "in", ["200-999", "1000+"])]}),
    ("type_company_sme", "customer_type", "company_sme", 40, "企业：其余",
     _leaf("kind", "in", ["company"])),
)


def install_defaults(dimension_model: Any, value_model: Any, rule_model: Any) -> None:
    """Add what is missing of the shipped dimensions, values and rules."""
    values = {}
    for position, (key, name, name_en, choices) in enumerate(DIMENSIONS):
        dimension, _created = dimension_model.objects.get_or_create(
            key=key, defaults={"name": name, "name_en": name_en, "position": position * 10})
        for order, (value_key, label, label_en, color) in enumerate(choices):
            values[(key, value_key)], _created = value_model.objects.get_or_create(
                dimension=dimension, key=value_key,
                defaults={"label": label, "label_en": label_en, "color": color,
                          "position": order * 10})
    for builtin, dimension_key, value_key, priority, name, condition in RULES:
        if not rule_model.objects.filter(builtin_key=builtin).exists():
            rule_model.objects.create(builtin_key=builtin, value=values[(dimension_key, value_key)],
                                      priority=priority, name=name, condition=condition)
