"""Contacts, edited inline on the card.

Thin like every view: parse input, call a selector or a service, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from kehu.core.errors import ValidationError, VersionConflict
from kehu.core.versions import parse_version
from kehu.core.views import (
    attach_errors,
    conflict_message,
    flash_errors,
    is_partial,
    redirect,
    web_view,
)
from kehu.customers import selectors, services
from kehu.customers.forms import (
    ContactForm,
    contact_initial,
)
from kehu.customers.scoping import CHANGE
from kehu.customers.views.common import WEB, card_contacts

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
        "customer": customer, "contacts": card_contacts(request.user, customer_id),
        "can_write": True, "contact_form": ContactForm(), "flash": message})
    return reswap(retarget(response, "#contacts"), "outerHTML")
