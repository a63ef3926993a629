"""Panels on the customer card (客户卡片) that other apps contribute.

The customers app renders the card; history, follow-ups and analytics add
their panels here (in their AppConfig.ready) instead of editing its template.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class CardPanel:
    key: str
    title: Any  # a lazy translation string
    template: str  # rendered with the card's context plus what `context` returns
    context: Callable[[HttpRequest, Any], dict[str, Any]]
    order: int = 100


_PANELS: dict[str, CardPanel] = {}


def register_card_panel(panel: CardPanel) -> None:
    _PANELS[panel.key] = panel


def card_panels() -> list[CardPanel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.key))
