"""Writes of classification: running the rules, a person's override, rules and dimensions.

Running the rules is the system's work over every customer (`classify_customers` for a
few after their data changed, `classify_range` a unit of the full run); everything a
person does needs an actor and an origin, like every service in Kehu.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.classification import engine, tagging
from kehu.classification.figures import figures_refresh
from kehu.classification.models import (
    ClassChange,
    CustomerClass,
    Dimension,
    DimensionValue,
    Pending,
    Rule,
)
from kehu.classification.signals import classes_changed
from kehu.core.cleaning import Collector, clean_bool
from kehu.core.marks import marks_clear, marks_take
from kehu.core.records import check_version, log_change
from kehu.customers.conditions import Group, condition_fields, parse_condition
from kehu.customers.models import Customer
from kehu.customers.scoping import CHANGE
from kehu.customers.services import tag_get_or_create

RUN_JOB = "classification.run"


def dimensions_active() -> list[Dimension]:
    return list(Dimension.objects.filter(is_active=True).order_by("position", "id"))


def classify_customers(ids: Iterable[int]) -> Counter:
    """Re-run every dimension's rules, then the tag rules, for these customers (their
    figures first); the caller holds the transaction. Returns counts per (dimension key,
    from, to), and per ("tag:<name>", None, add / remove)."""
    ids = sorted(set(ids))
    figures_refresh(ids)
    counts: Counter = Counter()
    # The rules and the fields they name are read once for every dimension, and follow-up
    # hears of the changed customers once: a customer whose tier and lifecycle both moved
    # was re-planned twice (1,000,000 customers, SQLite, quiet: 47 ms p50 per customer).
    dimensions, fields, changed, moved = dimensions_active(), condition_fields(), set(), set()
    rules = engine.active_rules_by_dimension(dimensions)
    for dimension in dimensions:
        for (before, after), n in engine.apply(dimension=dimension, rules=rules[dimension.pk],
                                               actor=None, ids=ids, fields=fields,
                                               changed=changed).items():
            counts[(dimension.key, before, after)] += n
            moved.add(dimension.pk)
    if changed:
        classes_changed.send(sender=None, ids=changed, dimensions=moved)
    for (tag, action), n in tagging.apply_tags(ids=ids, fields=fields).items():
        counts[(f"tag:{tag}", None, action)] += n
    return counts


def pending_take(limit: int = 500) -> tuple[list[int], Any]:
    """The next pending customers and the moment they were read."""
    return marks_take(Pending, limit)


def pending_clear(ids: list[int], read_at: Any) -> None:
    """Clear the marks that were read; one set again since (a newer write) stays."""
    marks_clear(Pending, ids, read_at)


# --- a person's override ------------------------------------------------------------------


def value_of(dimension: Dimension, key: str) -> DimensionValue:
    """The dimension's value with this key (as the API names values), or every bad field."""
    value = dimension.values.filter(key=key).first()
    if value is None:
        raise ValidationError({"value": [_("“%(d)s”没有值“%(v)s”") % {"d": dimension.name, "v": key}]})
    return value


def class_override(*, actor: User, origin: str, customer_id: int, dimension: Dimension,
                   value: DimensionValue | None) -> CustomerClass | None:
    """Set a customer's value by hand (kept until cleared), or clear the override
    (`value` None): the rules decide again at once."""
    if value is not None and value.dimension_id != dimension.pk:
        raise ValidationError({"value": [_("这个值不属于“%(d)s”") % {"d": dimension.name}]})
    if value is not None and not value.is_active:
        raise ValidationError({"value": [_("“%(v)s”已停用") % {"v": value.label}]})
    with transaction.atomic():
        customer = Customer.objects.get_for(actor, customer_id, CHANGE, lock=True)
        row = CustomerClass.objects.filter(customer=customer, dimension=dimension).first()
        before = row.value_id if row else None
        if value is None:
            cleared = row is not None and row.manual
            if cleared:
                row.delete()
            engine.apply(dimension=dimension, rules=engine.active_rules(dimension), actor=None,
                         ids=[customer.pk])
            row = CustomerClass.objects.filter(customer=customer, dimension=dimension).first()
            if cleared and row is None:
                # No rule holds it: the value went with the override row, and the engine,
                # finding no row to change, sent nothing.
                classes_changed.send(sender=None, ids={customer.pk}, dimensions={dimension.pk})
            action = "class_clear"
        else:
            now = timezone.now()
            row = row or CustomerClass(customer=customer, dimension=dimension)
            row.value, row.rule, row.manual, row.set_by, row.set_at = value, None, True, actor, now
            row.save()
            if before != value.pk:
                ClassChange.objects.create(customer=customer, dimension=dimension,
                                           from_value_id=before, to_value=value, actor=actor,
                                           manual=True, at=now)
                classes_changed.send(sender=None, ids={customer.pk}, dimensions={dimension.pk})
            action = "class_override"
        log_change(actor=actor, action=action, instance=customer, origin=origin,
                   changes={dimension.key: [before, row.value_id if row else None]})
    return row


# --- rules and dimensions (admins) -------------------------------------------------------------


def _admin(actor: User) -> None:
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("只有管理员可以修改分类设置"))


def rule_clean(data: dict[str, Any]) -> dict[str, Any]:
    """A rule's fields checked together: every bad field named."""
    errors = Collector()  # only its error bookkeeping: each field is checked by hand
    name = str(data.get("name") or "").strip()
    if not name:
        errors.add_error("name", _("必填"))
    elif len(name) > 100:
        errors.add_error("name", _("不能超过 100 个字"))
    value, tag_name, tag_action = _rule_target(data, errors)
    try:
        priority = int(data.get("priority", 100))
        if not -100000 <= priority <= 100000:
            raise ValueError
    except (TypeError, ValueError):
        errors.add_error("priority", _("优先级应是 -100000 到 100000 之间的整数"))
        priority = 100
    condition = data.get("condition") or None
    if isinstance(condition, str):
        try:
            condition = json.loads(condition) or None
        except ValueError:
            errors.add_error("condition", _("条件不是有效的 JSON"))
            condition = None
    if condition is not None:
        try:
            parsed = parse_condition(condition)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    errors.add_error(f"condition.{key}" if key != "filter" else "condition", message)
        else:
            if _names_me(parsed):
                errors.add_error("condition", _("规则以系统身份对所有客户运行，负责人“我”指不到任何人；"
                                                "请选择具体的负责人"))
    errors.run("is_active", clean_bool, data.get("is_active", True))
    is_active = errors.cleaned.get("is_active", True)
    if errors.errors:
        raise ValidationError(errors.errors)
    return {"name": name, "value": value, "tag_name": tag_name, "tag_action": tag_action,
            "priority": priority, "condition": condition,
            "is_active": is_active,
            "description": str(data.get("description") or "")[:255]}


def _names_me(node: Any) -> bool:
    """Whether a condition says owner "me" (a list filter's word, nobody in a rule)."""
    if isinstance(node, Group):
        return any(_names_me(child) for child in node.children)
    return node.field.key == "owner" and "me" in (node.value or [])


def _rule_target(data: dict[str, Any], errors: Collector) -> tuple[Any, str, str]:
    """What a rule does: set a dimension's value (`value`), or add or remove a tag
    (`tag_action` add / remove and `tag`, the tag's name; a new name is created on save)."""
    action = str(data.get("tag_action") or "")
    if action:
        tag_name = str(data.get("tag") or "").strip()
        if action not in dict(Rule.TAG_ACTIONS):
            errors.add_error("tag_action", _("标签动作只能是 add（添加）或 remove（移除）"))
        if not tag_name:
            errors.add_error("tag", _("请填写标签"))
        elif len(tag_name) > 50:
            errors.add_error("tag", _("标签不能超过 50 个字"))
        return None, tag_name, action
    value = data.get("value")
    if not isinstance(value, DimensionValue):
        value = DimensionValue.objects.filter(pk=value).select_related("dimension").first() \
            if str(value or "").isdigit() else None
        if value is None:
            errors.add_error("value", _("请选择要设为的值"))
    return value, "", ""


def _with_tag(clean: dict[str, Any]) -> dict[str, Any]:
    """The rule's fields with its tag found (or created) by name."""
    fields = {k: v for k, v in clean.items() if k != "tag_name"}
    fields["tag"] = tag_get_or_create(name=clean["tag_name"]) if clean["tag_name"] else None
    return fields


def rule_save(*, actor: User, origin: str, data: dict[str, Any], rule: Rule | None = None,
              version: int | None = None, rerun: bool = True) -> Rule:
    """Create or change a rule; the whole set re-runs afterwards (a job)."""
    _admin(actor)
    clean = rule_clean(data)
    with transaction.atomic():
        clean = _with_tag(clean)
        if rule is None:
            rule = Rule(**clean, updated_by=actor)
            rule.save()
            log_change(actor=actor, action="create", instance=rule, origin=origin,
                       changes={"name": rule.name})
        else:
            rule = Rule.objects.select_for_update().get(pk=rule.pk)
            check_version(rule, version)
            for key, value in clean.items():
                setattr(rule, key, value)
            rule.version += 1
            rule.updated_by = actor
            rule.save()
            log_change(actor=actor, action="update", instance=rule, origin=origin,
                       changes={"name": rule.name, "condition": rule.condition})
        if rerun:
            _rerun(actor, origin)
    return rule


def rule_delete(*, actor: User, origin: str, rule: Rule, version: int | None = None) -> None:
    _admin(actor)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        check_version(rule, version)
        log_change(actor=actor, action="delete", instance=rule, origin=origin,
                   changes={"name": rule.name})
        rule.delete()
        _rerun(actor, origin)


def _rerun(actor: User, origin: str) -> None:
    from kehu.jobs.services import job_start

    job_start(actor=actor, origin=origin, kind=RUN_JOB)
