"""The customer pages. Thin: parse input, call a selector or service, render.

Customer data is read only through `selectors` (which start from
`visible_to`), and every write goes through `services`; an out-of-scope
customer is a 404 exactly like a missing one, a read-only viewer gets 403.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.accounts.selectors import user_get_active, users_active, users_in_scope
from kehu.core.cards import card_panels
from kehu.core.errors import PermissionDenied, ValidationError, VersionConflict
from kehu.core.inputs import parse_ids
from kehu.core.models import Origin
from kehu.core.pagination import Page
from kehu.core.versions import parse_version
from kehu.core.views import (
    attach_errors,
    conflict_message,
    display_phone,
    error_messages,
    flash_errors,
    is_partial,
    redirect,
    render_page,
    safe_next,
    web_view,
)
from kehu.customers import cleaning, selectors, services
from kehu.customers.choices import CustomerKind, CustomFieldType, Industry, ShareLevel
from kehu.customers.filters import SORTABLE, CustomerFilters
from kehu.customers.forms import (
    CUSTOM_FIELD_PREFIX,
    ContactForm,
    CustomerForm,
    CustomFieldForm,
    contact_initial,
    custom_field_initial,
    custom_field_label,
    customer_initial,
    service_field,
)
from kehu.customers.models import Customer, CustomField
from kehu.customers.scoping import CHANGE, MANAGE

# (key, header, sort field). The name column is always shown and always sortable.
WEB = Origin.MANUAL  # provenance of every write made through these pages

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
    """One line of the customer table: the customer plus its list-column custom values."""

    customer: Customer
    phone: str
    custom: list[tuple[str, str]]


# --- the list -----------------------------------------------------------------


@web_view
def customer_list(request: HttpRequest) -> HttpResponse:
    filters, problems = _filters_from(request)
    page = _page(request, filters, problems)
    list_fields = [f for f in selectors.custom_fields_active() if f.show_in_list]
    context = {
        "filters": filters, "page": page, "problems": problems,
        "rows": [_row(c, list_fields) for c in page.items],
        "list_fields": [(f.key, custom_field_label(f)) for f in list_fields],
        "columns": _columns(filters), "default_hidden": " ".join(DEFAULT_HIDDEN_COLUMNS),
        "sort_links": _sort_links(filters), "page_size": settings.KEHU_PAGE_SIZE,
        "next_url": _url(filters, cursor=page.next_cursor) if page.next_cursor else "",
        "prev_url": _url(filters, cursor=page.prev_cursor) if page.prev_cursor else "",
        "first_url": _url(filters) if request.GET.get("cursor") else "",
        "can_write": access_for(request.user).can_write,
    }
    if not is_partial(request):
        context.update(_filter_choices(request))
    return render_page(request, "customers/list.html", "customers/partials/results.html", context)


def _filters_from(request: HttpRequest) -> tuple[CustomerFilters, list[str]]:
    """Parse the filters; a bad one is dropped and reported instead of failing the page."""
    params = request.GET.copy()
    try:
        return CustomerFilters.from_params(params), []
    except ValidationError as exc:
        for key in exc.error_dict:
            params.pop(key, None)
        return CustomerFilters.from_params(params), error_messages(exc)


def _page(request: HttpRequest, filters: CustomerFilters, problems: list[str]) -> Page:
    cursor = request.GET.get("cursor") or None
    limit = settings.KEHU_PAGE_SIZE
    try:
        return selectors.customer_list(viewer=request.user, filters=filters, cursor=cursor,
                                       limit=limit)
    except ValidationError as exc:  # a stale or hand-edited cursor: start from the first page
        problems.extend(error_messages(exc))
        return selectors.customer_list(viewer=request.user, filters=filters, limit=limit)


def _row(customer: Customer, list_fields: list) -> Row:
    values = selectors.custom_values_by_key(customer)
    cells = []
    for field in list_fields:
        value = values.get(field.key)
        text = "、".join(map(str, value)) if isinstance(value, list) else str(value or "")
        cells.append((field.key, text))
    phone = display_phone(customer.phones[0]) if customer.phones else ""
    return Row(customer=customer, phone=phone, custom=cells)


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


def _columns(filters: CustomerFilters) -> list[dict[str, Any]]:
    links = _sort_links(filters)
    return [{"key": key, "label": label, "sort": links.get(sort)} for key, label, sort in COLUMNS]


def _filter_choices(request: HttpRequest) -> dict[str, Any]:
    filter_fields = [
        {"key": f.key, "param": CUSTOM_FIELD_PREFIX + f.key, "label": custom_field_label(f),
         "type": f.field_type, "choices": f.choices,
         "value": request.GET.get(CUSTOM_FIELD_PREFIX + f.key, "")}
        for f in selectors.custom_fields_active()
        if f.field_type != CustomFieldType.TEXT or f.show_in_list
    ]
    return {
        "kinds": CustomerKind.choices, "industries": Industry.choices,
        "owners": users_in_scope(request.user), "tags": selectors.tags_in_scope(viewer=request.user),
        "filter_fields": filter_fields, "transfer_users": users_active(),
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


# --- the card -----------------------------------------------------------------


@web_view
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(viewer=request.user, pk=pk)
    context = _card_context(request, customer)
    context["panels"] = [
        {"key": p.key, "title": p.title,
         "html": mark_safe(render_to_string(  # noqa: S308 -- our own rendered template
             p.template, {**context, **p.context(request, customer)}, request=request))}
        for p in card_panels()
    ]
    return render(request, "customers/detail.html", context)


def _card_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    viewer = request.user
    can_write = access_for(viewer).can_write
    values = selectors.custom_values_by_key(customer)
    custom = [(custom_field_label(f), _display(values.get(f.key)))
              for f in selectors.custom_fields_active()]
    context = {
        "customer": customer, "can_write": can_write, "custom": custom,
        "phones": [display_phone(p) for p in customer.phones],
        "contacts": _contacts(viewer, customer.pk),
        "transfers": selectors.transfer_history(viewer=viewer, customer_id=customer.pk),
        "masked": getattr(customer, "is_masked", False),
    }
    if can_write:
        context["contact_form"] = ContactForm()
    if selectors.customer_allows(viewer=viewer, pk=customer.pk, action=MANAGE):
        context["users"] = users_active()
        context["shares"] = selectors.share_list(viewer=viewer, customer_id=customer.pk)
        context["share_levels"] = ShareLevel.choices
        context["can_manage"] = True
    return context


def _contacts(viewer: User, customer_id: int) -> list:
    contacts = selectors.contact_list(viewer=viewer, customer_id=customer_id)
    for contact in contacts:
        contact.phones_display = [display_phone(p) for p in contact.phones]
    return contacts


def _display(value: Any) -> str:
    """A custom value as text: lists joined, numbers without trailing zeros."""
    if isinstance(value, list):
        return "、".join(_display(v) for v in value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


@require_POST
@web_view
def customer_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.customer_transfer(actor=request.user, origin=WEB, customer_ids=[pk],
                                   to_user=request.POST.get("to_user"),
                                   reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(reverse("customers:detail", args=[pk]))
    to_user = user_get_active(request.POST.get("to_user"))
    messages.success(request, _("已转移给 %(user)s") % {"user": to_user.label})
    if selectors.customers_visible(viewer=request.user).filter(pk=pk).exists():
        return redirect(reverse("customers:detail", args=[pk]))
    return redirect(reverse("customers:list"))


@require_POST
@web_view
def customer_share(request: HttpRequest, pk: int) -> HttpResponse:
    back = redirect(reverse("customers:detail", args=[pk]) + "#sharing")
    user_id = request.POST.get("user")
    if request.POST.get("remove"):
        services.customer_unshare(actor=request.user, origin=WEB, customer=pk, user=user_id)
        messages.success(request, _("已取消共享"))
        return back
    try:
        share = services.customer_share(actor=request.user, origin=WEB, customer=pk, user=user_id,
                                        level=request.POST.get("level") or ShareLevel.VIEW,
                                        ends_on=request.POST.get("ends_on") or None)
    except ValidationError as exc:
        flash_errors(request, exc)
        return back
    messages.success(request, _("已共享给 %(user)s") % {"user": share.user.label})
    return back


# --- create, edit, delete -------------------------------------------------------


@web_view
def customer_create(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).can_write:
        raise PermissionDenied(_("你只有查看权限"))
    form = CustomerForm(request.POST or None, custom_fields=selectors.custom_fields_active(),
                        owners=users_in_scope(request.user),
                        initial={"kind": CustomerKind.COMPANY, "owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(actor=request.user, origin=WEB, data=form.service_data())
        except ValidationError as exc:
            attach_errors(form, exc, service_field)
        else:
            messages.success(request, _("已创建客户 %(name)s") % {"name": customer.name})
            return redirect(reverse("customers:detail", args=[customer.pk]))
    return render(request, "customers/form.html", {"form": form, "creating": True})


@web_view
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(viewer=request.user, pk=pk, action=CHANGE)
    form = CustomerForm(request.POST or None, custom_fields=selectors.custom_fields_active(),
                        masked=getattr(customer, "is_masked", False),
                        initial=customer_initial(customer))
    form.require_version()  # an edit names the version it was made from
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(actor=request.user, origin=WEB, customer=customer,
                                     data=form.service_data(),
                                     expected_version=form.cleaned_data.get("version"))
        except ValidationError as exc:
            attach_errors(form, exc, service_field)
        except VersionConflict:
            form.add_error(None, conflict_message())
        else:
            messages.success(request, _("已保存"))
            return redirect(reverse("customers:detail", args=[pk]))
    return render(request, "customers/form.html", {"form": form, "customer": customer})


@require_POST
@web_view
def customer_validate_field(request: HttpRequest) -> HttpResponse:
    """Inline check of one field on blur, with the very cleaner the services use."""
    name = (request.htmx.trigger_name if request.htmx else None) or request.POST.get("field", "")
    errors: list[str] = []
    if name in cleaning.CUSTOMER_FIELDS:
        raw = request.POST.get(name, "")
        value = [v for v in raw.splitlines() if v.strip()] if name in ("phones", "emails") else raw
        try:
            cleaning.clean_customer({name: value}, partial=True)
        except ValidationError as exc:
            errors = error_messages(exc)
    return render(request, "customers/partials/field_errors.html",
                  {"name": name, "errors": errors})


@web_view
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST moves to the recycle bin."""
    customer = selectors.customer_get(viewer=request.user, pk=pk, action=MANAGE)
    if request.method != "POST":
        return render(request, "customers/delete.html", {"customer": customer})
    version = parse_version(request.POST.get("version"))  # missing or junk: the 400 page
    try:
        services.customer_delete(actor=request.user, origin=WEB, customer=customer,
                                 expected_version=version)
    except VersionConflict as exc:
        flash_errors(request, exc)
        return redirect(reverse("customers:detail", args=[pk]))
    messages.success(request, _("已把 %(name)s 移到回收站") % {"name": customer.name})
    return redirect(reverse("customers:list"))


# --- recycle bin ------------------------------------------------------------------


@web_view
def trash(request: HttpRequest) -> HttpResponse:
    customers = selectors.customer_deleted_list(viewer=request.user)
    return render(request, "customers/trash.html", {
        "customers": customers, "can_write": access_for(request.user).can_write})


@require_POST
@web_view
def customer_restore(request: HttpRequest, pk: int) -> HttpResponse:
    customer = services.customer_restore(actor=request.user, origin=WEB, pk=pk)
    messages.success(request, _("已恢复 %(name)s") % {"name": customer.name})
    return redirect(reverse("customers:detail", args=[pk]))


# --- contacts (inline on the card) -----------------------------------------------------


@web_view
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(viewer=request.user, pk=pk, action=CHANGE)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(actor=request.user, origin=WEB, customer=customer,
                                    data=form.service_data())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return _contacts_saved(request, pk, _("已添加联系人"))
    return _contact_form(request, form, customer_id=pk, contact=None)


@web_view
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(viewer=request.user, pk=pk, action=CHANGE)
    masked = getattr(contact, "is_masked", False)
    form = ContactForm(request.POST or None, masked=masked, initial=contact_initial(contact))
    form.require_version()  # an edit names the version it was made from
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=request.user, origin=WEB, contact=contact, data=form.service_data(),
                                    expected_version=form.cleaned_data.get("version"))
        except ValidationError as exc:
            attach_errors(form, exc)
        except VersionConflict:
            form.add_error(None, conflict_message())
        else:
            return _contacts_saved(request, contact.customer_id, _("已保存联系人"))
    return _contact_form(request, form, customer_id=contact.customer_id, contact=contact)


@require_POST
@web_view
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(viewer=request.user, pk=pk)
    version = parse_version(request.POST.get("version"))  # missing or junk: the 400 page
    try:
        services.contact_delete(actor=request.user, origin=WEB, contact=contact,
                                expected_version=version)
    except VersionConflict as exc:
        flash_errors(request, exc)
    return _contacts_saved(request, contact.customer_id, _("已删除联系人"))


def _contact_form(request: HttpRequest, form: ContactForm, *, customer_id: int,
                  contact: Any) -> HttpResponse:
    context = {"form": form, "customer_id": customer_id, "contact": contact}
    template = "customers/partials/contact_form.html" if is_partial(request) \
        else "customers/contact_page.html"
    return render(request, template, context)


def _contacts_saved(request: HttpRequest, customer_id: int, message: str) -> HttpResponse:
    """After a contact change: the fresh contacts section for HTMX, else back to the card."""
    if not is_partial(request):
        messages.success(request, message)
        return redirect(reverse("customers:detail", args=[customer_id]) + "#contacts")
    customer = selectors.customer_get(viewer=request.user, pk=customer_id)
    response = render(request, "customers/partials/contacts.html", {
        "customer": customer, "contacts": _contacts(request.user, customer_id),
        "can_write": True, "contact_form": ContactForm(), "flash": message})
    return reswap(retarget(response, "#contacts"), "outerHTML")


# --- custom field definitions (admins) ------------------------------------------------


def _require_admin(request: HttpRequest) -> None:
    if not access_for(request.user).is_admin:
        raise PermissionDenied(_("只有管理员可以定义自定义字段"))


@web_view
def custom_field_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "customers/fields.html", {"fields": CustomField.objects.all()})


@web_view
def custom_field_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_admin(request)
    field = get_object_or_404(CustomField, pk=pk) if pk else None
    initial = custom_field_initial(field) if field else {"is_active": True, "position": 0}
    form = CustomFieldForm(request.POST or None, editing=field is not None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.custom_field_save(actor=request.user, origin=WEB, data=form.service_data(),
                                               field=field)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("已保存字段 %(label)s") % {"label": saved.label})
            return redirect(reverse("customers:fields"))
    return render(request, "customers/field_form.html", {"form": form, "field": field})


@require_POST
@web_view
def custom_field_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (or reactivate) a field: its values stay, it leaves forms and filters."""
    _require_admin(request)
    field = get_object_or_404(CustomField, pk=pk)
    services.custom_field_save(actor=request.user, origin=WEB, data={"is_active": not field.is_active},
                               field=field)
    return redirect(reverse("customers:fields"))
