"""The card's 同意记录 panel: the ledger, a grant form and a withdraw button per live grant.
Thin: the selectors scope, the services check and write. HTMX swaps the panel's `#consents`
block; without it the pages post and come back to the card."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.core.views import attach_errors, is_partial, redirect, web_view
from kehu.customers.scoping import CHANGE
from kehu.customers.selectors import contact_list, customer_allows, customer_get
from kehu.privacy import selectors, services
from kehu.privacy.forms import ConsentForm

WEB = Origin.MANUAL
PARTIAL = "privacy/partials/consents.html"


def _context(customer: Any, consents: list, form: ConsentForm | None = None,
             flash: str = "") -> dict[str, Any]:
    """The panel's own values; whether the viewer may write (`can_write`) and the customer's
    `contacts` are the card's (the panel is rendered inside the card's context)."""
    return {"consent": {"customer": customer, "rows": consents,
                        "states": selectors.states_for(consents), "form": form or ConsentForm(),
                        "flash": flash}}


def panel_context(request: HttpRequest, customer: Any) -> dict[str, Any]:
    """The card's panel: one query (the card has read the customer through the gate)."""
    return _context(customer, selectors.consents_on_card(customer=customer))


def _fresh(request: HttpRequest, customer: Any, form: ConsentForm | None = None,
           flash: str = "") -> dict[str, Any]:
    """The panel on its own (an HTMX swap), with what the card would have given it."""
    return {**_context(customer, selectors.consent_list(viewer=request.user, customer=customer.pk),
                       form, flash),
            "customer": customer,
            "can_write": customer_allows(viewer=request.user, pk=customer.pk, action=CHANGE),
            "contacts": contact_list(viewer=request.user, customer_id=customer.pk)}


def _panel(request: HttpRequest, customer_id: int, *, form: ConsentForm | None = None,
           flash: str = "", error: bool = False) -> HttpResponse:
    """The fresh panel for HTMX; else back to the card, the message said there."""
    if not is_partial(request):
        if flash:
            (messages.error if error else messages.success)(request, flash)
        return redirect(reverse("customers:detail", args=[customer_id]) + "#panel-consent")
    customer = customer_get(viewer=request.user, pk=customer_id)
    return render(request, PARTIAL, _fresh(request, customer, form, flash))


@web_view
def consent_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: the panel (HTMX) or the card at the panel."""
    customer_get(viewer=request.user, pk=customer_id)  # 404 out of scope
    return _panel(request, customer_id)


@require_POST
@web_view
def consent_grant(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get(viewer=request.user, pk=customer_id, action=CHANGE)
    form = ConsentForm(request.POST)
    try:
        services.consent_grant(actor=request.user, origin=WEB, customer=customer.pk,
                               data=form.service_data())
    except ValidationError as exc:
        if not is_partial(request):
            raise  # the small page naming every bad field (web_view)
        attach_errors(form, exc)
        return render(request, PARTIAL, _fresh(request, customer, form))
    return _panel(request, customer.pk, flash=_("已记录同意"))


@require_POST
@web_view
def consent_withdraw(request: HttpRequest, consent_id: int) -> HttpResponse:
    """撤回: one click, effective at once; a second click says it was done already."""
    done = services.consent_withdraw(actor=request.user, origin=WEB, consent=consent_id,
                                     note=request.POST.get("note", ""))
    return _panel(request, done.consent.customer_id, flash=done.message, error=not done.changed)
