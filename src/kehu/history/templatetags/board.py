"""The kanban's cards, written in Python with the pieces shared by every card made once per
page: with 20 cards in each of 6 columns, the template's per-card lookups were most of the
page (a profile at 20,000 demo customers: 120 of the board's ~190 ms went to template
rendering — 14,500 number localisations and 1,360 `reverse` calls a view; at 1,000,000
customers on PostgreSQL, after the stage picker and the move URL were made once per page,
the 126 cards still took 22 of a department manager's 113 ms, load 3.5). Each shared piece
is kept in the render's bottom context (one page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import floatformat
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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


CARD = """<li class="h-card" draggable="true" data-opportunity="{pk}" data-version="{version}" \
data-move-url="{url}">
  <strong>{title}</strong>
  <span>{customer}</span>
  <span class="h-card__meta">{currency} {amount}{meta}</span>
  <form class="h-card__move" method="post" action="{url}">
    {csrf}<input type="hidden" name="version" value="{version}">
    <label><span class="visually-hidden">{move_to}</span>
      <select name="stage">{options}</select></label>
    <button type="submit" class="btn btn-small">{move}</button>
  </form>
</li>"""


@register.simple_tag(takes_context=True)
def board_cards(context: Any, page: Any, stages: list[Any], owner: int | None) -> SafeString:
    """One column's page of cards: title, customer, amount, close date, owner, and the
    "移到" form that moves a card without dragging (phones, keyboards)."""
    cache = _page_cache(context)
    if "card" not in cache:
        cache["card"] = {"csrf": mark_safe(CsrfTokenNode().render(context)),  # noqa: S308 -- Django's own tag
                         "move_to": gettext("移到"), "move": gettext("移动")}
    shared = cache["card"]
    return mark_safe("".join(_card(context, o, stages, owner, shared) for o in page.items))  # noqa: S308 -- format_html parts


def _card(context: Any, o: Any, stages: list[Any], owner: int | None,
          shared: dict[str, Any]) -> str:
    meta = format_html(" · {}", o.expected_close.isoformat()) if o.expected_close else ""
    if o.owner:
        meta = format_html("{} · {}", meta, o.owner)
    return format_html(CARD, pk=int(o.pk), version=int(o.version),
                       url=move_url(context, o.pk, owner), title=o.title,
                       customer=o.customer.name, currency=o.currency,
                       amount=floatformat(o.amount, "2g"), meta=meta,
                       options=stage_options(context, stages, o.stage_id), **shared)
