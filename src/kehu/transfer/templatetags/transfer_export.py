"""`{% export_form filters %}` on the customer list: the export button and column chooser.

A tag of the transfer app, so the customer list (a layer below) shows the button without
importing the export: the tag renders nothing for a role that may not export.
"""

from __future__ import annotations

from typing import Any

from django import template

from kehu.accounts.policy import access_for
from kehu.transfer.export.columns import customer_columns

register = template.Library()


@register.inclusion_tag("transfer/export/form.html", takes_context=True)
def export_form(context: dict[str, Any], filters: Any, custom_fields: Any = None) -> dict[str, Any]:
    user = context["request"].user
    if not access_for(user).may_export:
        return {"shown": False}
    columns = customer_columns(definitions=custom_fields)
    return {"shown": True, "columns": [(c.key, c.header) for c in columns],
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("transfer/export/filter.html", takes_context=True)
def export_filter(context: dict[str, Any], filters: Any) -> dict[str, Any]:
    """The list's filter as hidden inputs of #export-form, rendered with the results so that
    an HTMX swap of the results keeps the export in step with what the list shows."""
    shown = access_for(context["request"].user).may_export
    params = filters.as_params()
    params["sort"] = filters.sort
    return {"shown": shown, "hidden": sorted(params.items())}
