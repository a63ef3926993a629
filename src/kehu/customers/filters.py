"""The one filter definition for customers: the web list, the API and exports all use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.inputs import parse_id
from kehu.customers.choices import CustomerKind, CustomFieldType, Industry
from kehu.customers.cleaning import clean_custom_value
from kehu.customers.conditions import condition_q, parse_condition
from kehu.customers.models import CustomField, CustomValue
from kehu.customers.search import search_filter
from kehu.customers.segments import segment_condition, segment_get
from kehu.customers.sensitive import CUSTOMER_SENSITIVE, masked_fields

SORTABLE = ("name", "created_at", "updated_at")
DEFAULT_SORT = "-updated_at"
CUSTOM_PREFIX = "cf_"


@dataclass
class CustomerFilters:
    """Parsed filters; build one with `from_params` from a query string or API arguments."""

    q: str = ""
    kind: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    owner: int | None = None
    tag: str = ""
    custom: dict[str, Any] = field(default_factory=dict)
    # The filter builder's condition (customers.conditions), as given (JSON text) and parsed.
    condition: str = ""
    parsed: Any = field(default=None, repr=False, compare=False)
    # A saved segment's id (customers.segments): resolved for the viewer by `resolve`, so a
    # segment the viewer may not open is a 404 and its members are within the viewer's scope.
    segment: int | None = None
    segment_parsed: Any = field(default=None, repr=False, compare=False)
    sort: str = DEFAULT_SORT
    # Whether the sort was asked for: a quick search without one is ranked (customers.ranking).
    sort_given: bool = False
    # The definitions behind `custom`, read once while parsing.
    custom_fields: dict[str, CustomField] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_params(cls, params: Any) -> CustomerFilters:
        get = params.get
        errors: dict[str, list[str]] = {}
        filters = cls(
            q=(get("q") or "").strip()[:100],
            kind=_one_of(get("kind"), CustomerKind.values, "kind", errors),
            industry=_one_of(get("industry"), Industry.values, "industry", errors),
            province=(get("province") or "").strip(),
            city=(get("city") or "").strip(),
            owner=_int(get("owner"), "owner", errors),
            tag=(get("tag") or "").strip(),
            sort=_sort(get("sort"), errors),
            sort_given=bool(get("sort")),
            segment=_int(get("segment"), "segment", errors),
        )
        filters.custom, filters.custom_fields = _custom(params, errors)
        filters.condition = (get("filter") or "").strip()
        if filters.condition:
            try:
                filters.parsed = parse_condition(filters.condition)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    name = key if key == "filter" else f"filter.{key}"
                    errors.setdefault(name, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        return filters

    @property
    def ranked(self) -> bool:
        """A quick search with no sort asked for lists the best matches first."""
        return bool(self.q) and not self.sort_given

    def apply(self, qs: QuerySet, *, viewer: User, search: bool = True) -> QuerySet:
        """`qs` narrowed by these filters, as `viewer` may search it.

        Quick search matches the fields `viewer` sees masked only on a complete value
        (see kehu.customers.search). Every other filter here compares a whole value
        (an exact kind, region, owner, tag name or custom value), never a part, so
        none of them can be used to read a masked value back piece by piece; a new
        filter that takes a part of a sensitive field must go through `search` too.
        With `search=False` the quick search is left to the caller (the ranked list).
        """
        simple = {"kind": self.kind, "industry": self.industry, "province": self.province,
                  "city": self.city, "owner_id": self.owner}
        qs = qs.filter(**{k: v for k, v in simple.items() if v not in ("", None)})
        if self.tag:
            qs = qs.filter(tags__name=self.tag)
        if self.q and search:
            qs = qs.filter(search_filter(self.q, masked=masked_fields(viewer, CUSTOMER_SENSITIVE)))
        for key, value in self.custom.items():
            definition = self.custom_fields.get(key) or CustomField.objects.get(key=key)
            matches = CustomValue.objects.filter(field=definition, **{definition.value_column: value})
            qs = qs.filter(pk__in=matches.values("customer_id"))
        if self.parsed is not None:
            qs = qs.filter(condition_q(self.parsed, viewer=viewer))
        if self.segment is not None:
            qs = qs.filter(condition_q(self.resolve(viewer=viewer), viewer=viewer))
        return qs

    def resolve(self, *, viewer: User) -> Any:
        """The segment's parsed condition, looked up as `viewer` may (Http404 otherwise; a
        ValidationError naming the segment when its condition no longer parses)."""
        if self.segment is None:
            return None
        if self.segment_parsed is None:
            self.segment_parsed = segment_condition(segment_get(viewer=viewer, pk=self.segment))
        return self.segment_parsed

    def as_params(self) -> dict[str, str]:
        """Back to query-string form (for links that keep the current filters)."""
        params = {k: str(v) for k, v in (
            ("q", self.q), ("kind", self.kind), ("industry", self.industry),
            ("province", self.province), ("city", self.city), ("owner", self.owner or ""),
            ("tag", self.tag), ("filter", self.condition), ("segment", self.segment or ""))
            if v}
        params.update({f"{CUSTOM_PREFIX}{k}": str(v) for k, v in self.custom.items()})
        if self.sort != DEFAULT_SORT or self.sort_given:
            params["sort"] = self.sort
        return params


def _custom(
    params: Any, errors: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, CustomField]]:
    wanted = {k[len(CUSTOM_PREFIX):]: params.get(k) for k in params
              if k.startswith(CUSTOM_PREFIX) and params.get(k) not in (None, "")}
    if not wanted:
        return {}, {}
    fields = {f.key: f for f in CustomField.objects.filter(key__in=wanted, is_active=True)}
    custom = {}
    for key, raw in wanted.items():
        if key not in fields:
            errors.setdefault(f"{CUSTOM_PREFIX}{key}", []).append(_("没有这个自定义字段"))
            continue
        definition = fields[key]
        if definition.sensitive:  # a filter would read the value back, one guess at a time
            errors.setdefault(f"{CUSTOM_PREFIX}{key}", []).append(_("敏感个人信息不能用作筛选条件"))
            continue
        try:
            value = clean_custom_value(definition, raw)
        except ValidationError as exc:
            errors.setdefault(f"{CUSTOM_PREFIX}{key}", []).extend(exc.messages)
            continue
        if definition.field_type == CustomFieldType.MULTI_CHOICE:
            value = value[0] if value else None
        custom[key] = value
    return custom, fields


def _one_of(value: str | None, allowed: list[str], name: str, errors: dict) -> str:
    value = (value or "").strip()
    if value and value not in allowed:
        errors.setdefault(name, []).append(_("“%(value)s” 不是可选值") % {"value": value})
        return ""
    return value


def _int(value: Any, name: str, errors: dict) -> int | None:
    """An id filter ("owner"): the shared id parser, so "abc", "²" and 2**64 are refused."""
    try:
        return parse_id(value, field=name, required=False)
    except ValidationError as exc:
        errors.setdefault(name, []).extend(exc.message_dict[name])
        return None


def _sort(value: str | None, errors: dict) -> str:
    if not value:
        return DEFAULT_SORT
    if value.lstrip("-") not in SORTABLE:
        errors.setdefault("sort", []).append(
            _("只能按 %(fields)s 排序") % {"fields": ", ".join(SORTABLE)})
        return DEFAULT_SORT
    return value
