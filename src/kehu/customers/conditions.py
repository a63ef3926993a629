"""Conditions: the one filter definition for picking customers (see docs/architecture.md).

A condition is JSON — a leaf {"field", "op", "value"} or a group {"all": [...]} /
{"any": [...]} — checked whole by `parse_condition` (every bad part named by its path)
and compiled by `condition_q` to a Q on Customer. Fields live in a registry: this module
registers the customer's own columns and its custom fields; other apps register theirs
(history: the figures) with `register_condition_field`. Scope is not a condition's
business: callers apply it on top of the gate's queryset.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.cleaning import clean_date, clean_decimal
from kehu.customers.choices import CompanySize, CustomerKind, CustomFieldType, Industry, Source
from kehu.customers.models import Customer, CustomField, CustomValue

MAX_DEPTH, MAX_LEAVES = 4, 50
OPERATORS: dict[str, tuple[str, ...]] = {
    "choice": ("in", "not_in", "empty", "not_empty"),
    "text": ("eq", "ne", "in", "contains", "starts", "empty", "not_empty"),
    "number": ("eq", "gt", "gte", "lt", "lte", "between"),
    "date": ("after", "before", "between", "within_days", "older_than_days", "empty",
             "not_empty"),
    "tags": ("any", "all", "none"),
    "owner": ("in", "not_in"),
    "region": ("in", "not_in"),  # codes of the official list (customers/regions)
}
NO_VALUE = ("empty", "not_empty")


@dataclass(frozen=True)
class ConditionField:
    """A field conditions may test: its kind (which operators), and how a test becomes a Q.

    `build(op, value, viewer)` gets a value already cleaned for the kind (a list for
    in/not_in/any/all/none, a pair for between, a date, a Decimal, an int of days).
    """

    key: str
    label: Any
    kind: str
    build: Callable[[str, Any, Any], Q]
    choices: tuple[tuple[str, Any], ...] = field(default=())


_REGISTRY: dict[str, ConditionField] = {}
# Apps whose fields are rows an admin adds (classification's dimensions) register a
# provider, asked each time the fields are listed, as the custom fields are read below.
_PROVIDERS: list[Callable[[], list[ConditionField]]] = []


def register_condition_field(definition: ConditionField) -> None:
    _REGISTRY[definition.key] = definition


def register_condition_provider(provider: Callable[[], list[ConditionField]]) -> None:
    _PROVIDERS.append(provider)


def condition_fields(custom_fields: list[CustomField] | None = None) -> dict[str, ConditionField]:
    """Every field a condition may name: the registered ones and the active custom fields
    (`custom_fields` when the caller has read them already)."""
    fields = dict(_REGISTRY)
    active = CustomField.objects.filter(is_active=True) if custom_fields is None else custom_fields
    for custom in active:
        if not custom.sensitive:  # no segment, rule or filter decides on 敏感个人信息
            fields[f"cf.{custom.key}"] = _custom_field(custom)
    for provider in _PROVIDERS:
        fields.update((definition.key, definition) for definition in provider())
    return fields


# --- parsing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    field: ConditionField
    op: str
    value: Any


@dataclass(frozen=True)
class Group:
    kind: str  # "all" | "any"
    children: tuple[Any, ...]


def parse_condition(data: Any, *, fields: dict[str, ConditionField] | None = None) -> Group | Leaf:
    """The condition `data` (a dict, or its JSON text), checked whole: a ValidationError
    naming every bad part by its path ("all.1.value") otherwise. `fields`: the caller's
    `condition_fields()`, when it parses many conditions (listing them reads the database)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ValidationError({"filter": [_("不是有效的 JSON：%(why)s") % {"why": exc}]}) from exc
    errors: dict[str, list[str]] = {}
    leaves = [0]
    node = _parse(data, "", 1, condition_fields() if fields is None else fields, errors, leaves)
    if leaves[0] > MAX_LEAVES:
        errors.setdefault("filter", []).append(_("条件太多（最多 %(n)d 条）") % {"n": MAX_LEAVES})
    if errors:
        raise ValidationError(errors)
    return node


def _parse(data: Any, path: str, depth: int, fields: dict, errors: dict, leaves: list) -> Any:
    here = path or "filter"
    if not isinstance(data, dict):
        errors.setdefault(here, []).append(_("应是一个条件或条件组"))
        return None
    groups = [k for k in ("all", "any") if k in data]
    if groups:
        kind = groups[0]
        items = data[kind]
        if len(groups) > 1 or set(data) - {kind} or not isinstance(items, list) or not items:
            errors.setdefault(here, []).append(
                _("条件组应是 {\"all\": [...]} 或 {\"any\": [...]}，且不能为空"))
            return None
        if depth > MAX_DEPTH:
            errors.setdefault(here, []).append(_("条件组最多嵌套 %(n)d 层") % {"n": MAX_DEPTH})
            return None
        prefix = f"{path}." if path else ""
        return Group(kind, tuple(_parse(item, f"{prefix}{kind}.{i}", depth + 1, fields, errors,
                                        leaves) for i, item in enumerate(items)))
    leaves[0] += 1
    return _leaf(data, path, fields, errors)


def _leaf(data: dict, path: str, fields: dict, errors: dict) -> Leaf | None:
    prefix = f"{path}." if path else ""
    if set(data) - {"field", "op", "value"}:
        errors.setdefault(path or "filter", []).append(
            _("条件只能有 field、op、value：%(keys)s") % {"keys": ", ".join(sorted(map(str, data)))})
        return None
    definition = fields.get(str(data.get("field", "")))
    if definition is None:
        errors.setdefault(f"{prefix}field", []).append(
            _("没有这个字段：%(field)s") % {"field": data.get("field")})
        return None
    op = data.get("op")
    if op not in OPERATORS[definition.kind]:
        errors.setdefault(f"{prefix}op", []).append(_("%(field)s 可用：%(ops)s") % {
            "field": definition.label, "ops": "、".join(OPERATORS[definition.kind])})
        return None
    try:
        value = _value(definition, op, data.get("value"))
    except ValidationError as exc:
        errors.setdefault(f"{prefix}value", []).extend(exc.messages)
        return None
    return Leaf(definition, op, value)


def _value(definition: ConditionField, op: str, raw: Any) -> Any:
    if op in NO_VALUE:
        return None
    if op in ("in", "not_in", "any", "all", "none"):
        items = raw if isinstance(raw, list) else [raw]
        items = [i for i in items if i not in (None, "")]
        if not items or len(items) > 200:
            raise ValidationError(_("需要 1 到 200 个值"))
        return [_one(definition, op, item) for item in items]
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValidationError(_("需要两个值：[从, 到]"))
        return tuple(_one(definition, op, item) for item in raw)
    if raw in (None, "", []):
        raise ValidationError(_("必填"))
    return _one(definition, op, raw)


def _one(definition: ConditionField, op: str, raw: Any) -> Any:
    if op in ("within_days", "older_than_days"):
        return _days(raw)
    if definition.kind == "number":
        return clean_decimal(raw)
    if definition.kind == "date":
        day = clean_date(raw)
        if day is None:
            raise ValidationError(_("必填"))
        return day
    if definition.kind == "owner":
        return raw if raw == "me" else _id(raw)
    if definition.kind == "region":
        from kehu.customers.regions.index import current

        if str(raw) not in current().by_code:
            raise ValidationError(_("“%(value)s” 不是区划代码") % {"value": raw})
        return str(raw)
    if definition.kind == "choice" and definition.choices:
        allowed = {str(v) for v, _label in definition.choices}
        if str(raw) not in allowed:
            raise ValidationError(_("“%(value)s” 不是可选值") % {"value": raw})
    if not isinstance(raw, str | int | float | Decimal):
        raise ValidationError(_("“%(value)s” 不是文字") % {"value": raw})
    text = str(raw).strip()
    if len(text) > 200:
        raise ValidationError(_("不能超过 200 个字"))
    return text


def _days(raw: Any) -> int:
    try:
        days = int(str(raw).strip())
    except ValueError as exc:
        raise ValidationError(_("天数应是整数")) from exc
    if not 0 <= days <= 36500:
        raise ValidationError(_("天数应在 0 到 36500 之间"))
    return days


def _id(raw: Any) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError as exc:
        raise ValidationError(_("“%(value)s” 不是编号") % {"value": raw}) from exc
    if not 0 < value < 2**63:
        raise ValidationError(_("“%(value)s” 不是编号") % {"value": raw})
    return value


# --- compiling ----------------------------------------------------------------------------


def condition_q(node: Group | Leaf, *, viewer: Any) -> Q:
    """The Q on Customer that `node` (from `parse_condition`) means."""
    if isinstance(node, Leaf):
        return node.field.build(node.op, node.value, viewer)
    parts = [condition_q(child, viewer=viewer) for child in node.children]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if node.kind == "all" else combined | part
    return combined


def column_q(column: str) -> Callable[[str, Any, Any], Q]:
    """The test of a plain column of Customer (text, choice or date)."""
    def build(op: str, value: Any, viewer: Any) -> Q:
        return compare(column, op, value)
    return build


def compare(column: str, op: str, value: Any) -> Q:
    """`column` tested by `op` — the operators every kind shares, for any lookup path."""
    if op in ("eq",):
        return Q(**{column: value})
    if op == "ne":
        return ~Q(**{column: value})
    if op == "in":
        return Q(**{f"{column}__in": value})
    if op == "not_in":
        return ~Q(**{f"{column}__in": value})
    if op == "contains":
        return Q(**{f"{column}__icontains": value})
    if op == "starts":
        return Q(**{f"{column}__istartswith": value})
    if op in ("empty", "not_empty"):
        blank = Q(**{f"{column}__isnull": True}) | Q(**{column: ""})
        return blank if op == "empty" else ~blank
    if op in ("gt", "gte", "lt", "lte"):
        return Q(**{f"{column}__{op}": value})
    if op in ("after", "before"):
        return Q(**{f"{column}__{'gt' if op == 'after' else 'lt'}": value})
    if op == "between":
        return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    if op == "within_days":
        return Q(**{f"{column}__gte": _days_ago(value)})
    if op == "older_than_days":
        return Q(**{f"{column}__lt": _days_ago(value)})
    raise ValueError(op)


def date_q(column: str) -> Callable[[str, Any, Any], Q]:
    """A datetime column tested by days (a date value means that local day's start)."""
    def build(op: str, value: Any, viewer: Any) -> Q:
        if op in ("empty", "not_empty"):
            return Q(**{f"{column}__isnull": op == "empty"})
        if isinstance(value, tuple):
            value = (_start(value[0]), _start(value[1] + dt.timedelta(days=1)))
            return Q(**{f"{column}__gte": value[0], f"{column}__lt": value[1]})
        return compare(column, op, _start(value) if isinstance(value, dt.date) else value)
    return build


def _days_ago(days: int) -> dt.datetime:
    return _start(timezone.localdate() - dt.timedelta(days=days))


def _start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _owner(op: str, value: list, viewer: Any) -> Q:
    # No viewer (rules run as the system over every customer): "me" is nobody.
    ids = [getattr(viewer, "pk", None) if v == "me" else v for v in value]
    return compare("owner_id", op, ids)


def _tags(op: str, value: list, viewer: Any) -> Q:
    links = Customer.tags.through.objects
    if op == "all":
        q = Q()
        for name in value:
            q &= Exists(links.filter(customer_id=OuterRef("pk"), tag__name=name))
        return q
    found = Exists(links.filter(customer_id=OuterRef("pk"), tag__name__in=value))
    return found if op == "any" else ~found


def _custom_field(custom: CustomField) -> ConditionField:
    kind = {CustomFieldType.NUMBER: "number", CustomFieldType.DATE: "date",
            CustomFieldType.CHOICE: "choice", CustomFieldType.MULTI_CHOICE: "choice"}.get(
        custom.field_type, "text")
    column = custom.value_column

    def build(op: str, value: Any, viewer: Any) -> Q:
        values = CustomValue.objects.filter(customer_id=OuterRef("pk"), field=custom)
        if op in NO_VALUE:
            exists = Exists(values.exclude(**{f"{column}__isnull": True}))
            return ~exists if op == "empty" else exists
        if op in ("ne", "not_in"):
            return ~Exists(values.filter(compare(column, "eq" if op == "ne" else "in", value)))
        if kind == "date" and op in ("within_days", "older_than_days"):
            day = timezone.localdate() - dt.timedelta(days=value)
            return Exists(values.filter(**{f"{column}__{'gte' if op == 'within_days' else 'lt'}": day}))
        return Exists(values.filter(compare(column, op, value)))

    options = tuple((o, o) for o in custom.choices or ()) if kind == "choice" else ()
    return ConditionField(f"cf.{custom.key}", custom.label, kind, build, options)


def _register_customer_fields() -> None:
    for key, label, choices in (("kind", gettext_lazy("客户类型"), CustomerKind.choices),
                                ("industry", gettext_lazy("行业"), Industry.choices),
                                ("company_size", gettext_lazy("公司规模"), CompanySize.choices),
                                ("source", gettext_lazy("客户来源"), Source.choices)):
        register_condition_field(ConditionField(key, label, "choice", column_q(key),
                                                tuple(choices)))
    for key, label in (("name", gettext_lazy("客户名称")), ("province", gettext_lazy("省份")),
                       ("city", gettext_lazy("城市")), ("district", gettext_lazy("区县"))):
        register_condition_field(ConditionField(key, label, "text", column_q(key)))
    register_condition_field(ConditionField("owner", gettext_lazy("负责人"), "owner", _owner))
    register_condition_field(ConditionField("tags", gettext_lazy("标签"), "tags", _tags))
    for key, label in (("created_at", gettext_lazy("创建时间")),
                       ("updated_at", gettext_lazy("更新时间"))):
        register_condition_field(ConditionField(key, label, "date", date_q(key)))


_register_customer_fields()
