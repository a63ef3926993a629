"""`{% export_form filters %}` on the customer list: the export button, what to export
(the customers, their orders or communications) and the column chooser; `{% export_orders_form %}`
on the orders page.

Tags of the transfer app, so the customer list and the orders page (layers below) show
the button without importing the export: the tags render nothing for a role that may not
export.
"""

from __future__ import annotations

from typing import Any

from django import template

from kehu.accounts.policy import access_for
from kehu.transfer.export.columns import customer_columns
from kehu.transfer.export.services import TARGETS

register = template.Library()


@register.inclusion_tag("transfer/export/form.html", takes_context=True)
def export_form(context: dict[str, Any], filters: Any, custom_fields: Any = None) -> dict[str, Any]:
    user = context["request"].user
    if not access_for(user).may_export:
        return {"shown": False}
    columns = customer_columns(definitions=custom_fields)
    return {"shown": True, "columns": [(c.key, c.header) for c in columns],
            "targets": [(key, target.label) for key, target in TARGETS.items()],
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("transfer/export/filter.html", takes_context=True)
def export_filter(context: dict[str, Any], filters: Any) -> dict[str, Any]:
    """The list's filter as hidden inputs of #export-form, rendered with the results so that
    an HTMX swap of the results keeps the export in step with what the list shows."""
    shown = access_for(context["request"].user).may_export
    params = filters.as_params()
    params["sort"] = filters.sort
    return {"shown": shown, "hidden": sorted(params.items())}


@register.inclusion_tag("transfer/export/orders_form.html", takes_context=True)
def export_orders_form(context: dict[str, Any]) -> dict[str, Any]:
    """The orders page's export: its lines, of the status the page filters on."""
    return {"shown": access_for(context["request"].user).may_export,
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("transfer/export/filter.html", takes_context=True)
def export_order_filter(context: dict[str, Any], status: str) -> dict[str, Any]:
    """The orders page's status as a hidden input of #order-export-form, rendered with the
    rows so that an HTMX swap keeps the export in step with the page."""
    return {"shown": access_for(context["request"].user).may_export,
            "hidden": [("status", status)] if status else [], "form": "order-export-form"}
