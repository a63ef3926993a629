"""The customer list: filters, sorting, columns, keyset pages and bulk transfer.

Thin like every view: parse input, call a selector or a service, render.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.accounts.selectors import user_get_active, users_active, users_in_scope
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.errors import ValidationError
from kehu.core.inputs import parse_ids
from kehu.core.pagination import Page
from kehu.core.views import (
    display_phone,
    error_messages,
    flash_errors,
    is_partial,
    redirect,
    render_page,
    safe_next,
    web_view,
)
from kehu.customers import selectors, services
from kehu.customers.builder import builder_data, condition_words
from kehu.customers.choices import CustomerKind, CustomFieldType, Industry
from kehu.customers.filters import SORTABLE, CustomerFilters
from kehu.customers.forms import (
    CUSTOM_FIELD_PREFIX,
    custom_field_label,
)
from kehu.customers.list_columns import Cell, ListColumn, list_columns
from kehu.customers.models import Customer, Segment
from kehu.customers.segments import may_publish, segment_list
from kehu.customers.views.common import WEB

# (key, header, sort field). The name column is always shown and always sortable.
COLUMNS = [
    ("kind", gettext_lazy("类型"), ""),
    ("industry", gettext_lazy("行业"), ""),
    ("region", gettext_lazy("地区"), ""),
    ("phone", gettext_lazy("电话"), ""),
    ("owner", gettext_lazy("负责人"), ""),
    ("tags", gettext_lazy("标签"), ""),
    ("source", gettext_lazy("来源"), ""),
    ("created_at", gettext_lazy("创建时间"), "created_at"),
    ("updated_at", gettext_lazy("更新时间"), "updated_at"),
]
DEFAULT_HIDDEN_COLUMNS = ("source", "created_at")


@dataclass
class Row:
    """One line of the customer table: the customer, its choice labels and list-column custom values."""

    customer: Customer
    phone: str
    custom: list[tuple[str, str]]
    kind: str
    industry: str
    source: str
    # Quick search: the name cut around the matched part, or why else the row was found.
    name_parts: tuple[str, str, str] | None = None
    why: str = ""
    extra: list[tuple[str, list[Cell]]] = dataclasses.field(default_factory=list)  # registered columns


# How the list says why a search found a row other than by its name ("联系人：张三").
MATCH_LABELS = {
    "short_name": gettext_lazy("简称"), "pinyin": gettext_lazy("拼音"),
    "initials": gettext_lazy("首字母"), "phone": gettext_lazy("电话"),
    "email": gettext_lazy("邮箱"), "contact": gettext_lazy("联系人"),
    "contact_phone": gettext_lazy("联系人电话"), "contact_email": gettext_lazy("联系人邮箱"),
    "wechat": gettext_lazy("微信"), "contact_wechat": gettext_lazy("联系人微信"),
}


# The choice fields shown per row. Their labels are looked up in dicts built once per page:
# `get_industry_display()` hashes every (lazy) choice label on each call, which made 1,470
# gettext calls and 80 % of a 50-row page's time (81 ms p50 against 31 ms before).
LABELLED_FIELDS = ("kind", "industry", "source")


# --- the list -----------------------------------------------------------------


@web_view
def customer_list(request: HttpRequest) -> HttpResponse:
    filters, problems = _filters_from(request)
    page = _page(request, filters, problems)
    if filters.q and not request.GET.get("cursor"):  # a search, recorded once (not per page)
        audit.record(request, Action.SEARCHED, label=filters.q,
                     details={"q": filters.q, "shown": len(page.items)})
    custom_fields = selectors.custom_fields_active()  # once a page: the filters and the export use them too
    list_fields = [f for f in custom_fields if f.show_in_list]
    extra = list_columns()
    rows = _rows(page.items, list_fields, filters.q)
    _add_registered_cells(rows, extra)
    context = {
        "custom_fields": custom_fields,
        "filters": filters, "page": page, "problems": problems,
        "rows": rows,
        "list_fields": [(f.key, custom_field_label(f)) for f in list_fields],
        "columns": _columns(filters) + [{"key": c.key, "label": c.label} for c in extra],
        "default_hidden": " ".join([*DEFAULT_HIDDEN_COLUMNS, *(c.key for c in extra if c.hidden)]),
        "sort_links": _sort_links(filters), "page_size": settings.KEHU_PAGE_SIZE,
        "next_url": _url(filters, cursor=page.next_cursor) if page.next_cursor else "",
        "prev_url": _url(filters, cursor=page.prev_cursor) if page.prev_cursor else "",
        "first_url": _url(filters) if request.GET.get("cursor") else "",
        "can_write": access_for(request.user).can_write,
    }
    if not is_partial(request):
        choices = _filter_choices(request, custom_fields)
        context.update(choices)
        context.update(_builder(request, filters, choices, custom_fields))
    return render_page(request, "customers/list.html", "customers/partials/results.html", context)


def _filters_from(request: HttpRequest) -> tuple[CustomerFilters, list[str]]:
    """Parse the filters; a bad one is dropped and reported instead of failing the page.

    A segment the viewer may not open is a 404 (segment_get); one whose condition no longer
    parses (a custom field it names was deactivated) is reported and left out."""
    params = request.GET.copy()
    try:
        filters, problems = CustomerFilters.from_params(params), []
    except ValidationError as exc:
        for key in exc.error_dict:  # "filter.all.1.value" is the filter= parameter's
            params.pop(key.split(".")[0], None)
        filters, problems = CustomerFilters.from_params(params), error_messages(exc)
    try:
        filters.resolve(viewer=request.user)
    except ValidationError as exc:
        problems.extend(error_messages(exc))
        filters.segment = None
    return filters, problems


def _page(request: HttpRequest, filters: CustomerFilters, problems: list[str]) -> Page:
    cursor = request.GET.get("cursor") or None
    limit = settings.KEHU_PAGE_SIZE
    try:
        return selectors.customer_list(viewer=request.user, filters=filters, cursor=cursor,
                                       limit=limit)
    except ValidationError as exc:  # a stale or hand-edited cursor: start from the first page
        problems.extend(error_messages(exc))
        return selectors.customer_list(viewer=request.user, filters=filters, limit=limit)


def _rows(customers: list[Customer], list_fields: list, q: str = "") -> list[Row]:
    labels = {name: {value: str(label) for value, label in Customer._meta.get_field(name).flatchoices}
              for name in LABELLED_FIELDS}
    return [_row(c, list_fields, labels, q) for c in customers]


def _why(customer: Customer, q: str) -> dict[str, Any]:
    """The name cut around the term when it matched there, else a line saying what matched."""
    matched = getattr(customer, "matched", None)
    if not matched:
        return {}
    if matched["field"] == "name":
        at = customer.name.lower().find(q.strip().lower())
        if at >= 0:
            end = at + len(q.strip())
            return {"name_parts": (customer.name[:at], customer.name[at:end], customer.name[end:])}
        return {}
    text = f"{matched['contact']} {matched['text']}" if matched.get("contact") else matched["text"]
    label = MATCH_LABELS.get(matched["field"], matched["field"])
    return {"why": _("%(field)s：%(value)s") % {"field": label, "value": text}}


def _row(customer: Customer, list_fields: list, labels: dict[str, dict[str, str]],
         q: str = "") -> Row:
    values = selectors.custom_values_by_key(customer)
    cells = []
    for definition in list_fields:
        value = values.get(definition.key)
        text = "、".join(map(str, value)) if isinstance(value, list) else str(value or "")
        cells.append((definition.key, text))
    phone = display_phone(customer.phones[0]) if customer.phones else ""
    shown = {name: labels[name].get(getattr(customer, name), getattr(customer, name))
             for name in LABELLED_FIELDS}
    return Row(customer=customer, phone=phone, custom=cells, **shown, **_why(customer, q))


def _url(filters: CustomerFilters, **extra: Any) -> str:
    params = {**filters.as_params(), **{k: v for k, v in extra.items() if v}}
    return "?" + urlencode(params) if params else "?"


def _sort_links(filters: CustomerFilters) -> dict[str, dict[str, str]]:
    """For each sortable column: the link that sorts by it, and the current direction."""
    current, descending = filters.sort.lstrip("-"), filters.sort.startswith("-")
    links = {}
    for field in SORTABLE:
        if field == current:
            new = field if descending else f"-{field}"
            direction = "desc" if descending else "asc"
        else:  # names read best A→Z, dates newest first
            new, direction = (field if field == "name" else f"-{field}"), ""
        links[field] = {"url": _url(filters, sort=new), "dir": direction}
    return links


def _add_registered_cells(rows: list[Row], columns: list[ListColumn]) -> None:
    """Other apps' columns (list_columns.py): one query each for the page's customers."""
    ids = [row.customer.pk for row in rows]
    loaded = [(column.key, column.load(ids) if ids else {}) for column in columns]
    for row in rows:
        row.extra = [(key, cells.get(row.customer.pk, [])) for key, cells in loaded]


def _columns(filters: CustomerFilters) -> list[dict[str, Any]]:
    links = _sort_links(filters)
    return [{"key": key, "label": label, "sort": links.get(sort)} for key, label, sort in COLUMNS]


def _filter_choices(request: HttpRequest, custom_fields: list) -> dict[str, Any]:
    filter_fields = [
        {"key": f.key, "param": CUSTOM_FIELD_PREFIX + f.key, "label": custom_field_label(f),
         "type": f.field_type, "choices": f.choices,
         "value": request.GET.get(CUSTOM_FIELD_PREFIX + f.key, "")}
        for f in custom_fields
        if f.field_type != CustomFieldType.TEXT or f.show_in_list
    ]
    return {
        "kinds": CustomerKind.choices, "industries": Industry.choices,
        "owners": users_in_scope(request.user), "tags": selectors.tags_in_scope(viewer=request.user),
        "filter_fields": filter_fields, "transfer_users": users_active(),
    }


def _builder(request: HttpRequest, filters: CustomerFilters, choices: dict[str, Any],
             custom_fields: list) -> dict[str, Any]:
    """The filter builder's fields, the active condition in words, and the segments to pick."""
    viewer = request.user
    segments = list(segment_list(viewer=viewer))
    active = next((s for s in segments if s.pk == filters.segment), None)
    initial = filters.condition and json.loads(filters.condition)
    if active and not initial:  # start the builder from the segment, to refine it
        initial = active.condition
    words = condition_words(filters.parsed, viewer=viewer) if filters.parsed else ""
    if active:
        words = condition_words(filters.resolve(viewer=viewer), viewer=viewer)
    clear = {k: v for k, v in filters.as_params().items() if k not in ("filter", "segment")}
    return {
        "builder": builder_data(initial=initial, owners=choices["owners"],
                                tags=choices["tags"], custom_fields=custom_fields),
        "segments": segments, "active_segment": active, "condition_words": words,
        "clear_condition_url": "?" + urlencode(clear), "may_publish": may_publish(viewer),
        "segment_visibilities": Segment.VISIBILITIES,
    }


@require_POST
@web_view
def customer_bulk_transfer(request: HttpRequest) -> HttpResponse:
    back = safe_next(request, reverse("customers:list"))
    ids = request.POST.getlist("ids")
    if not ids:
        messages.error(request, _("请先勾选客户并选择接收人"))
        return redirect(back)
    try:
        moved = services.customer_transfer(actor=request.user, origin=WEB,
                                           customer_ids=parse_ids(ids, field="ids"),
                                           to_user=request.POST.get("to_user"),
                                           reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(back)
    messages.success(request, _("已把 %(count)d 个客户转移给 %(user)s") % {
        "count": moved, "user": user_get_active(request.POST.get("to_user")).label})
    return redirect(back)
