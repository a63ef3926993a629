"""Creating, editing and deleting customers, the inline field check and the recycle bin.

Thin like every view: parse input, call a selector or a service, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.accounts.selectors import users_in_scope
from kehu.core.errors import PermissionDenied, ValidationError, VersionConflict
from kehu.core.versions import parse_version
from kehu.core.views import (
    attach_errors,
    conflict_message,
    error_messages,
    flash_errors,
    redirect,
    web_view,
)
from kehu.customers import cleaning, selectors, services
from kehu.customers.choices import CustomerKind
from kehu.customers.forms import (
    CustomerForm,
    customer_initial,
    service_field,
)
from kehu.customers.merge_selectors import merges_into
from kehu.customers.scoping import CHANGE, MANAGE
from kehu.customers.sensitive import sees_sensitive_pi
from kehu.customers.views.common import WEB
from kehu.customers.views.duplicates import form_candidates, must_confirm, warn_duplicates

# --- create, edit, delete -------------------------------------------------------


@web_view
def customer_create(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).can_write:
        raise PermissionDenied(_("你只有查看权限"))
    form = CustomerForm(request.POST or None, custom_fields=selectors.custom_fields_active(),
                        owners=users_in_scope(request.user),
                        initial={"kind": CustomerKind.COMPANY, "owner": request.user.pk})
    candidates = form_candidates(request) if request.method == "POST" and form.is_valid() else []
    if request.method == "POST" and form.is_valid() and not must_confirm(request, candidates):
        try:
            customer = services.customer_create(actor=request.user, origin=WEB, data=form.service_data())
        except ValidationError as exc:
            attach_errors(form, exc, service_field)
        else:
            messages.success(request, _("已创建客户 %(name)s") % {"name": customer.name})
            warn_duplicates(request, candidates)
            return redirect(reverse("customers:detail", args=[customer.pk]))
    return render(request, "customers/form.html", {
        "form": form, "creating": True, "duplicates": candidates,
        "confirm_duplicate": must_confirm(request, candidates)})


@web_view
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(viewer=request.user, pk=pk, action=CHANGE)
    form = CustomerForm(request.POST or None, custom_fields=selectors.custom_fields_active(),
                        masked=getattr(customer, "is_masked", False),
                        sensitive_editable=sees_sensitive_pi(request.user),
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
            warn_duplicates(request, form_candidates(request, exclude=customer.pk))
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
    merges = merges_into(viewer=request.user, duplicate_ids=[c.pk for c in customers])
    for customer in customers:  # the bin's pointer to where a merged customer went
        customer.merge = merges.get(customer.pk)
    return render(request, "customers/trash.html", {"customers": customers})


@require_POST
@web_view
def customer_restore(request: HttpRequest, pk: int) -> HttpResponse:
    customer = services.customer_restore(actor=request.user, origin=WEB, pk=pk)
    messages.success(request, _("已恢复 %(name)s") % {"name": customer.name})
    return redirect(reverse("customers:detail", args=[pk]))
