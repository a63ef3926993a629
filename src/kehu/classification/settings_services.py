"""Writes of the classification settings (设置 → 客户分类): dimensions, their values, the
order of a dimension's rules. Admins only, like the rules themselves (services.py).

Each takes a required actor and origin, checks every field in one pass (every bad field
named at once), refuses a stale `version` and leaves a change-log row per row it changes.
Keys are slugs fixed at creation: conditions (`dim.<key>`), the API and the shipped rules
name dimensions and values by them.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.classification.models import CustomerClass, Dimension, DimensionValue, Rule
from kehu.classification.services import _admin, _rerun
from kehu.core.cleaning import Collector, text_cleaner
from kehu.core.errors import Http404
from kehu.core.records import check_version, log_change
from kehu.customers.pinyin import name_pinyin

COLOR = re.compile(r"#[0-9a-fA-F]{6}")
DIRECTIONS = ("up", "down")


# --- cleaning ------------------------------------------------------------------------------


def _key_of(raw: Any, *, name: str, name_en: str, errors: Collector) -> str:
    """The key typed, or one made from the English name (else the name's pinyin)."""
    key = str(raw or "").strip()
    if not key and (name or name_en):
        key = (slugify(name_en) or slugify(name_pinyin(name)[0])).replace("-", "_")[:50]
        if not key:
            errors.add_error("key", _("无法从名称生成键，请填写（小写字母、数字、下划线）"))
    elif len(key) > 50 or not re.fullmatch(r"[a-z0-9_-]+", key):
        errors.add_error("key", _("键只能由小写字母、数字、下划线和连字符组成，最多 50 个"))
    return key


def _texts(data: dict[str, Any], fields: tuple[str, ...], errors: Collector,
           partial: bool) -> None:
    """Each text field (≤ 50 characters); the first one is required. A change (`partial`)
    checks only the fields it sends."""
    for index, field in enumerate(fields):
        if partial and field not in data:
            continue
        errors.run(field, text_cleaner(50), data.get(field))
        if index == 0 and field in errors.cleaned and not errors.cleaned[field]:
            errors.add_error(field, _("必填"))


def dimension_clean(data: dict[str, Any], *, current: Dimension | None) -> dict[str, Any]:
    """A dimension's fields checked together; the key only when it is created."""
    errors = Collector()
    _texts(data, ("name", "name_en"), errors, partial=current is not None)
    clean = {k: errors.cleaned[k] for k in ("name", "name_en") if k in errors.cleaned}
    if current is None:
        key = _key_of(data.get("key"), name=clean.get("name", ""),
                      name_en=clean.get("name_en", ""), errors=errors)
        if key and "key" not in errors.errors:
            if Dimension.objects.filter(key=key).exists():
                errors.add_error("key", _("已有键为“%(key)s”的分类维度") % {"key": key})
            clean["key"] = key
    name = clean.get("name")
    if name and Dimension.objects.filter(name=name).exclude(pk=getattr(current, "pk", None)) \
            .exists():
        errors.add_error("name", _("已有同名的分类维度"))
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    errors.result()
    return clean


def value_clean(data: dict[str, Any], *, dimension: Dimension,
                current: DimensionValue | None) -> dict[str, Any]:
    """A value's fields checked together: label, English label, colour; the key when new."""
    errors = Collector()
    _texts(data, ("label", "label_en"), errors, partial=current is not None)
    clean = {k: errors.cleaned[k] for k in ("label", "label_en") if k in errors.cleaned}
    color = str(data.get("color") or "").strip() or (current.color if current else "#64748b")
    # (an empty colour keeps the current one: a browser without a colour picker sends "")
    if not COLOR.fullmatch(color):
        errors.add_error("color", _("颜色应写成 #RRGGBB，例如 #16a34a"))
    clean["color"] = color.lower()
    if current is None:
        key = _key_of(data.get("key"), name=clean.get("label", ""),
                      name_en=clean.get("label_en", ""), errors=errors)
        if key and "key" not in errors.errors:
            if DimensionValue.objects.filter(dimension=dimension, key=key).exists():
                errors.add_error("key", _("“%(d)s”中已有键为“%(key)s”的值")
                                 % {"d": dimension.name, "key": key})
            clean["key"] = key
    label = clean.get("label")
    if label and DimensionValue.objects.filter(dimension=dimension, label=label) \
            .exclude(pk=getattr(current, "pk", None)).exists():
        errors.add_error("label", _("“%(d)s”中已有这个值") % {"d": dimension.name})
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    errors.result()
    return clean


# --- dimensions --------------------------------------------------------------------------


def dimension_save(*, actor: User, origin: str, data: dict[str, Any],
                   dimension: Dimension | None = None, version: int | None = None) -> Dimension:
    """Add a dimension (at the end), or rename, re-key in English, (de)activate one.
    Deactivating stops its rules and hides it from the card; nothing is deleted."""
    _admin(actor)
    with transaction.atomic():
        current = Dimension.objects.select_for_update().get(pk=dimension.pk) \
            if dimension else None
        if current is not None:
            check_version(current, version)
        clean = dimension_clean(data, current=current)
        if current is None:
            last = Dimension.objects.order_by("-position").values_list("position", flat=True)
            current = Dimension.objects.create(**clean, position=(last.first() or 0) + 10)
            log_change(actor=actor, action="create", instance=current, origin=origin,
                       changes={"key": current.key, "name": current.name})
            return current
        if current.is_active and clean.get("is_active") is False:
            _refuse_if_named(current, None, "is_active")
        return _update(actor, origin, current, clean)


def dimension_move(*, actor: User, origin: str, dimension: Dimension, direction: str) -> Dimension:
    """One place up or down among the dimensions (the card's and the menu's order)."""
    _admin(actor)
    with transaction.atomic():
        rows = list(Dimension.objects.select_for_update().order_by("position", "id"))
        return _move(actor, origin, rows, dimension.pk, direction)


# --- values ------------------------------------------------------------------------------


def value_save(*, actor: User, origin: str, data: dict[str, Any],
               dimension: Dimension | None = None, value: DimensionValue | None = None,
               version: int | None = None) -> DimensionValue:
    """Add a value to `dimension` (at the end), or change `value`'s label, English label,
    colour, or (de)activate it. A value that active rules still set stays active."""
    _admin(actor)
    with transaction.atomic():
        current = DimensionValue.objects.select_for_update().select_related("dimension") \
            .get(pk=value.pk) if value else None
        if current is not None:
            check_version(current, version)
            dimension = current.dimension
        if dimension is None:
            raise ValidationError({"dimension": [_("请选择分类维度")]})
        clean = value_clean(data, dimension=dimension, current=current)
        if current is None:
            last = dimension.values.order_by("-position").values_list("position", flat=True)
            current = DimensionValue.objects.create(dimension=dimension, **clean,
                                                    position=(last.first() or 0) + 10)
            log_change(actor=actor, action="create", instance=current, origin=origin,
                       changes={"dimension": dimension.key, "key": current.key,
                                "label": current.label})
            return current
        if current.is_active and clean.get("is_active") is False:
            _refuse_if_rules_set(current)
        return _update(actor, origin, current, clean)


def value_move(*, actor: User, origin: str, value: DimensionValue, direction: str) -> DimensionValue:
    """One place up or down among its dimension's values (the order of menus and chips)."""
    _admin(actor)
    with transaction.atomic():
        rows = list(DimensionValue.objects.select_for_update()
                    .filter(dimension_id=value.dimension_id).order_by("position", "id"))
        return _move(actor, origin, rows, value.pk, direction)


def value_delete(*, actor: User, origin: str, value: DimensionValue,
                 version: int | None = None) -> None:
    """Delete a value nothing uses; one that rules set or customers hold is deactivated
    instead (their history keeps its name)."""
    _admin(actor)
    with transaction.atomic():
        current = DimensionValue.objects.select_for_update().select_related("dimension") \
            .filter(pk=value.pk).first()
        if current is None:
            raise Http404
        check_version(current, version)
        rules = Rule.objects.filter(value=current).count() + \
            len(_rules_naming(current.dimension, current.key))
        customers = CustomerClass.objects.filter(value=current).count()
        if rules or customers:
            raise ValidationError({"value": [
                _("“%(v)s”还被 %(rules)d 条规则和 %(customers)d 位客户使用，不能删除；"
                  "不再需要它时请停用。") % {"v": current.label, "rules": rules,
                                     "customers": customers}]})
        log_change(actor=actor, action="delete", instance=current, origin=origin,
                   changes={"key": current.key, "label": current.label})
        current.delete()


def _refuse_if_rules_set(value: DimensionValue) -> None:
    rules = Rule.objects.filter(value=value, is_active=True).count()
    if rules:
        raise ValidationError({"is_active": [
            _("还有 %(n)d 条启用的规则设为“%(v)s”，请先停用或修改这些规则")
            % {"n": rules, "v": value.label}]})
    _refuse_if_named(value.dimension, value, "is_active")


def _refuse_if_named(dimension: Dimension, value: DimensionValue | None, field: str) -> None:
    """A condition naming an inactive dimension (or value) no longer parses, and the run of
    its rules would stop on it: such a rule is changed first."""
    naming = _rules_naming(dimension, value.key if value else None, active_only=True)
    if naming:
        raise ValidationError({field: [
            _("规则%(rules)s的条件用到了“%(what)s”，请先修改这些规则") % {
                "rules": "、".join(f"“{name}”" for name in naming[:5]),
                "what": value.label if value else dimension.name}]})


def _rules_naming(dimension: Dimension, value_key: str | None, *,
                  active_only: bool = False) -> list[str]:
    """The names of the rules whose condition reads the dimension (or one of its values)."""
    field = f"dim.{dimension.key}"

    def names(node: Any) -> bool:
        if isinstance(node, dict) and ("all" in node or "any" in node):
            return any(names(child) for child in node.get("all") or node.get("any") or [])
        if not isinstance(node, dict) or node.get("field") != field:
            return False
        chosen = node.get("value")
        return value_key is None or value_key in (chosen if isinstance(chosen, list) else [chosen])

    rules = Rule.objects.filter(condition__isnull=False).only("name", "condition")
    if active_only:
        rules = rules.filter(is_active=True)
    return [rule.name for rule in rules if rule.condition and names(rule.condition)]


# --- rules' order ------------------------------------------------------------------------


def rule_move(*, actor: User, origin: str, rule: Rule, direction: str) -> Rule:
    """One place up or down in its decision list: its dimension's, or its tag's for a rule
    that adds or removes a tag. The rules' priorities are renumbered 10, 20, 30… on the way
    (a tie decided by id becomes an order one sees), and the whole set re-runs once
    afterwards (a job)."""
    _admin(actor)
    if direction not in DIRECTIONS:
        raise ValidationError({"direction": [_("只能上移（up）或下移（down）")]})
    with transaction.atomic():
        rules = list(_decision_list(rule).select_for_update().order_by("priority", "id"))
        moved = _swap(rules, rule.pk, direction)
        for index, row in enumerate(rules, start=1):
            if row.priority != index * 10:
                before, row.priority = row.priority, index * 10
                row.version += 1
                row.updated_by = actor
                row.save(update_fields=["priority", "version", "updated_by", "updated_at"])
                log_change(actor=actor, action="reorder", instance=row, origin=origin,
                           changes={"priority": [before, row.priority]})
        _rerun(actor, origin)
    return moved


def _decision_list(rule: Rule) -> Any:
    """The rules deciding with `rule` (read again: the caller's copy may be stale)."""
    found = Rule.objects.filter(pk=rule.pk).values("tag_id", "value__dimension_id").first()
    if found is None:
        raise Http404
    if found["tag_id"] is not None:
        return Rule.objects.filter(tag_id=found["tag_id"])
    return Rule.objects.filter(value__dimension_id=found["value__dimension_id"])


# --- shared ------------------------------------------------------------------------------


def _update(actor: User, origin: str, current: Any, clean: dict[str, Any]) -> Any:
    changes = {field: [getattr(current, field), value] for field, value in clean.items()
               if getattr(current, field) != value}
    if not changes:
        return current
    for field, value in clean.items():
        setattr(current, field, value)
    current.version += 1
    current.save()
    log_change(actor=actor, action="update", instance=current, origin=origin, changes=changes)
    return current


def _swap(rows: list[Any], pk: int, direction: str) -> Any:
    index = next((i for i, row in enumerate(rows) if row.pk == pk), None)
    if index is None:
        raise Http404
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows):  # the first going up (the last going down) stays
        rows[index], rows[other] = rows[other], rows[index]
    return rows[other if 0 <= other < len(rows) else index]


def _move(actor: User, origin: str, rows: list[Any], pk: int, direction: str) -> Any:
    """Swap a row with its neighbour and renumber positions 10, 20, 30…, logging each move."""
    if direction not in DIRECTIONS:
        raise ValidationError({"direction": [_("只能上移（up）或下移（down）")]})
    moved = _swap(rows, pk, direction)
    for index, row in enumerate(rows, start=1):
        if row.position != index * 10:
            before, row.position = row.position, index * 10
            row.save(update_fields=["position"])
            log_change(actor=actor, action="reorder", instance=row, origin=origin,
                       changes={"position": [before, row.position]})
    return moved
