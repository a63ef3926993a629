"""The settings area's menu (设置) for templates: who sees which section, which one is open.

The sections come from the registry in `core/settings_menu.py`; who is an admin is the
policy's answer (`access_for`), so this lives in accounts, the lowest layer that knows both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from kehu.accounts.policy import access_for
from kehu.core.settings_menu import SettingsSection, settings_sections

register = template.Library()


@dataclass(frozen=True)
class MenuItem:
    section: SettingsSection
    url: str
    current: bool


def menu_items(request: Any) -> list[MenuItem]:
    """The sections `request.user` may open; the one whose address starts the page's is current
    (the longest such prefix, so a field's edit page lights up 自定义字段)."""
    access = access_for(request.user)
    sections = settings_sections(
        has=lambda permission: access.is_admin or bool(getattr(access, permission)))
    urls = [section.url for section in sections]
    path = request.path
    current = max((url for url in urls if path.startswith(url)), key=len, default=None)
    return [MenuItem(section, url, url == current) for section, url in zip(sections, urls, strict=True)]


@register.simple_tag(takes_context=True)
def settings_menu_items(context: dict[str, Any]) -> list[MenuItem]:
    """`{% settings_menu_items as items %}`: empty for anyone with no section to open."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return menu_items(request)
