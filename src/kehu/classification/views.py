"""Classification pages: the card's panel (and a person's override), the RFM grid."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.classification import selectors, services
from kehu.classification.models import Dimension, DimensionValue
from kehu.core.errors import ValidationError
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.views import flash_errors, redirect, render_page, web_view

WEB = Origin.MANUAL


def panel_context(request: HttpRequest, customer: Any) -> dict[str, Any]:
    """What the "客户分类" panel on the card needs (registered in apps.ready)."""
    found = selectors.customer_placements(viewer=request.user, customer_id=customer.pk)
    return {"classification": {**found, "can_write": access_for(request.user).can_write}}


@web_view
@require_POST
def override(request: HttpRequest, customer_id: int, dimension_id: int) -> HttpResponse:
    """Set a value by hand, or give the decision back to the rules (empty value)."""
    dimension = get_object_or_404(Dimension, pk=dimension_id, is_active=True)
    try:
        value = _chosen_value(dimension, request.POST.get("value"))
        services.class_override(actor=request.user, origin=WEB, customer_id=customer_id,
                                dimension=dimension, value=value)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已手动设置“%(d)s”") % {"d": dimension.name} if value else
                         _("“%(d)s”已交回规则决定") % {"d": dimension.name})
    return redirect(reverse("customers:detail", args=[customer_id]) + "#panel-classification")


def _chosen_value(dimension: Dimension, raw: str | None) -> DimensionValue | None:
    """The value picked in the panel's menu; none (empty) gives the decision back."""
    pk = parse_id(raw, field="value", required=False)
    if pk is None:
        return None
    return get_object_or_404(DimensionValue, pk=pk, dimension=dimension)


@web_view
def rfm_grid(request: HttpRequest) -> HttpResponse:
    """The 5×5 R × F grid of the viewer's customers; each cell opens the list behind it."""
    grid = selectors.rfm_grid(viewer=request.user)
    top = max((c["customers"] for c in grid["cells"]), default=0) or 1
    for cell in grid["cells"]:
        cell["heat"] = round(cell["customers"] / top, 2)
        cell["url"] = _list_url([{"field": "rfm.r", "op": "eq", "value": cell["r"]},
                                 {"field": "rfm.f", "op": "eq", "value": cell["f"]}])
    for segment in grid["segments"]:
        segment["url"] = _list_url([{"field": "rfm.segment", "op": "in",
                                     "value": [segment["segment"]]}])
    return render_page(request, "classification/rfm.html", "classification/rfm.html",
                       {"grid": grid, "scores": [5, 4, 3, 2, 1], "columns": [1, 2, 3, 4, 5]})


def _list_url(leaves: list[dict[str, Any]]) -> str:
    condition = json.dumps({"all": leaves}, ensure_ascii=False, separators=(",", ":"))
    return reverse("customers:list") + "?" + urlencode({"filter": condition})
