"""The kanban's per-card pieces, written once per page rather than once per card: with 20
cards in each of 6 columns, the stage picker's loop and two URL reversals per card were most
of the page (a profile at 20,000 demo customers: 120 of the board's ~190 ms went to template
rendering — 14,500 number localisations and 1,360 `reverse` calls a view). Each piece is
kept in the render's bottom context (one page), so an include per card reuses it."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()


def _page_cache(context: Any) -> dict[Any, Any]:
    # dicts[0] lives as long as the whole render; includes push and pop above it.
    return context.render_context.dicts[0].setdefault("history_board", {})


@register.simple_tag(takes_context=True)
def stage_options(context: Any, stages: list[Any], selected: int) -> SafeString:
    """The "移到" picker's options, the card's own stage selected."""
    cache = _page_cache(context)
    key = ("options", selected)
    if key not in cache:
        cache[key] = format_html_join("", '<option value="{}"{}>{}</option>', (
            (s.pk, " selected" if s.pk == selected else "", s.name) for s in stages))
    return cache[key]


@register.simple_tag(takes_context=True)
def move_url(context: Any, pk: int, owner: int | None = None) -> str:
    """history:move for card `pk`, `?owner=` kept (the board re-renders with its filter)."""
    cache = _page_cache(context)
    if "move" not in cache:
        cache["move"] = reverse("history:move", args=[2**62]).replace(str(2**62), "{}")
    url = cache["move"].format(int(pk))
    return f"{url}?owner={int(owner)}" if owner else url
