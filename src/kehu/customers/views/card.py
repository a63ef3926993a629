"""The customer card: everything on one page, plus transfer and sharing.

Thin like every view: parse input, call a selector or a service, render.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.accounts.selectors import user_get_active, users_active
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.cards import card_panels
from kehu.core.errors import ValidationError
from kehu.core.views import (
    display_phone,
    flash_errors,
    redirect,
    web_view,
)
from kehu.customers import selectors, services
from kehu.customers.choices import ShareLevel
from kehu.customers.duplicates import duplicates_of
from kehu.customers.forms import (
    ContactForm,
    custom_field_label,
)
from kehu.customers.models import Customer
from kehu.customers.reveal import may_reveal, reveal_check, reveal_value
from kehu.customers.scoping import CHANGE, MANAGE, customer_ids_for
from kehu.customers.views.common import WEB, card_contacts

# --- the card -----------------------------------------------------------------


@web_view
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(viewer=request.user, pk=pk)
    audit.record(request, Action.VIEWED, customer_id=customer.pk, label=customer.name)
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
    if can_write and customer.owner_id is None:
        # Nobody's customer (a pool's): a member reads it but changes it only once claimed.
        can_write = selectors.customer_allows(viewer=viewer, pk=customer.pk, action=CHANGE)
    values = selectors.custom_values_by_key(customer)
    hidden = getattr(customer, "masked_custom", set())
    custom = [(custom_field_label(f), _display(values.get(f.key)),
               f"custom.{f.key}" if f.key in hidden else "")
              for f in selectors.custom_fields_active()]
    context = {
        "customer": customer, "can_write": can_write, "custom": custom,
        "phones": [display_phone(p) for p in customer.phones],
        "contacts": card_contacts(viewer, customer.pk),
        "transfers": selectors.transfer_history(viewer=viewer, customer_id=customer.pk),
        "masked": getattr(customer, "is_masked", False),
    }
    context["reveal"] = (context["masked"] or bool(hidden)) and may_reveal(viewer)
    if can_write:
        context["contact_form"] = ContactForm()
    if selectors.customer_allows(viewer=viewer, pk=customer.pk, action=MANAGE):
        context["users"] = users_active()
        context["shares"] = selectors.share_list(viewer=viewer, customer_id=customer.pk)
        context["share_levels"] = ShareLevel.choices
        context["can_manage"] = True
        if not context["masked"]:
            context["duplicates"] = _merge_candidates(viewer, customer, context["contacts"])
    return context


@web_view
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """显示完整号码: GET asks for the reason (a small form in place of the button), POST
    shows the one value and records the reveal (customers.reveal)."""
    source = request.POST if request.method == "POST" else request.GET
    try:
        index = int(source.get("index") or 0)
        contact = int(source["contact"]) if source.get("contact") else None
    except ValueError as exc:
        raise ValidationError({"index": [_("不是数字")]}) from exc
    context = {"pk": pk, "field": source.get("field", ""), "index": index, "contact": contact}
    if request.method != "POST":
        reveal_check(viewer=request.user, customer_id=pk)
        return render(request, "customers/partials/reveal.html", context)
    try:
        context["value"] = reveal_value(viewer=request.user, customer_id=pk,
                                        field=context["field"], index=index, contact_id=contact,
                                        reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        if "reason" not in getattr(exc, "message_dict", {}):
            raise
        context.update(errors=exc.message_dict["reason"], reason=request.POST.get("reason", ""))
    if context["field"] == "phones" and context.get("value"):
        context["value"] = display_phone(context["value"])
    return render(request, "customers/partials/reveal.html", context)


def _merge_candidates(viewer: Any, customer: Customer, contacts: list) -> list:
    """Probable duplicates the viewer may merge this customer into (合并到…): the create
    form's own check (two index lookups), only those she may manage as well."""
    values = {f: getattr(customer, f) for f in ("kind", "name", "city", "phones", "emails",
                                                 "credit_code", "id_number")}
    found = duplicates_of(viewer=viewer, values=values, exclude=customer.pk,
                          contacts=[{"phones": c.phones, "email": c.email} for c in contacts])
    ids = customer_ids_for(viewer, [c.customer_id for c in found if c.name], MANAGE)
    return [c for c in found if c.customer_id in ids]


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
