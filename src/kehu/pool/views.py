"""Web pages of the pool: 公海 (the list inside the viewer's pools), 领取, 分配, 释放到公海,
and the card's 公海 panel. Thin: the selectors scope, the services check and write."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.selectors import users_in_scope
from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.core.pagination import Page
from kehu.core.views import (
    display_phone,
    error_messages,
    flash_errors,
    redirect,
    render_page,
    safe_next,
    web_view,
)
from kehu.customers.filters import CustomerFilters
from kehu.pool import selectors, services

WEB = Origin.MANUAL


def panel_context(request: HttpRequest, customer: Any) -> dict[str, Any]:
    """The card's 公海 panel: in a pool (claim, assign), or owned (release)."""
    state = selectors.customer_pool(viewer=request.user, customer=customer)
    return {"pool": {"state": state, "customer": customer,
                     "may_assign": state.entry is not None and services.may_assign(request.user),
                     "people": list(users_in_scope(request.user)) if state.entry else []}}


def _pool_id(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


@web_view
def pool_list(request: HttpRequest) -> HttpResponse:
    """公海: the customers of the viewer's pools, with the customer list's quick search and
    filters, keyset pages, masked until claimed."""
    problems: list[str] = []
    try:
        filters = CustomerFilters.from_params(request.GET)
    except ValidationError as exc:
        filters, problems = CustomerFilters(q=(request.GET.get("q") or "").strip()[:100]), \
            error_messages(exc)
    pool_id = _pool_id(request.GET.get("pool"))
    page = _page(request, filters, pool_id, problems)
    pools = selectors.pools_of(viewer=request.user)
    params = {**filters.as_params(), **({"pool": pool_id} if pool_id else {})}
    context = {"page": page, "filters": filters, "problems": problems, "pools": pools,
               "next_url": "?" + urlencode({**params, "cursor": page.next_cursor})
               if page.next_cursor else "",
               "pool_id": pool_id, "rows": [(c, display_phone(c.phones[0]) if c.phones else "")
                                            for c in page.items],
               "may_assign": services.may_assign(request.user),
               "people": list(users_in_scope(request.user)) if pools else []}
    return render_page(request, "pool/list.html", "pool/partials/results.html", context)


def _page(request: HttpRequest, filters: CustomerFilters, pool_id: int | None,
          problems: list[str]) -> Page:
    limit = settings.KEHU_PAGE_SIZE
    try:
        return selectors.pool_customers(viewer=request.user, filters=filters, pool_id=pool_id,
                                        cursor=request.GET.get("cursor") or None, limit=limit)
    except ValidationError as exc:  # a stale cursor: from the first page
        problems.extend(error_messages(exc))
        return selectors.pool_customers(viewer=request.user, filters=filters, pool_id=pool_id,
                                        limit=limit)


@web_view
@require_POST
def claim(request: HttpRequest, customer_id: int) -> HttpResponse:
    back = safe_next(request, reverse("pool:list"))
    try:
        customer = services.pool_claim(actor=request.user, origin=WEB, customer=customer_id)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(back)
    messages.success(request, _("已领取“%(name)s”") % {"name": customer.name})
    return redirect(reverse("customers:detail", args=[customer.pk]))


@web_view
@require_POST
def assign(request: HttpRequest, customer_id: int) -> HttpResponse:
    back = safe_next(request, reverse("pool:list"))
    try:
        customer = services.pool_assign(actor=request.user, origin=WEB, customer=customer_id,
                                        to_user=request.POST.get("to_user"),
                                        reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(back)
    messages.success(request, _("已分配“%(name)s”") % {"name": customer.name})
    return redirect(back)


@web_view
@require_POST
def release(request: HttpRequest, customer_id: int) -> HttpResponse:
    back = reverse("customers:detail", args=[customer_id])
    try:
        entry = services.pool_release(actor=request.user, origin=WEB, customer=customer_id,
                                      reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(back)
    messages.success(request, _("已释放到公海“%(pool)s”") % {"pool": entry.pool.name})
    return redirect(reverse("pool:list"))
