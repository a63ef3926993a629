"""Sections of the settings area (设置) that apps contribute.

The settings area is one page with a side menu; each app adds its own screens to it
(custom fields, schedules, pipelines, classification) with one call in its
AppConfig.ready, instead of editing the menu's template:

    register_settings_section("fields", _("自定义字段"), "customers:fields", order=10)

Core knows no roles: a section names the permission that opens it (a flag of the access
policy, "is_admin" unless said), and the reader asks the caller whether the person has it
(accounts decides, `accounts/templatetags/settings_area.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class SettingsSection:
    key: str
    label: Any  # a lazy translation string
    url_name: str  # a route without arguments, e.g. "customers:fields"
    order: int = 100
    permission: str = "is_admin"  # the flag that opens it (admins open every section)
    description: Any = ""  # one line under the label on the settings index

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    @property
    def namespace(self) -> str:
        return self.url_name.rpartition(":")[0]


_SECTIONS: dict[str, SettingsSection] = {}


def register_settings_section(
    key: str, label: Any, url_name: str, order: int = 100, permission: str = "is_admin",
    description: Any = "",
) -> None:
    """Add (or replace, by key) a section of the settings menu."""
    _SECTIONS[key] = SettingsSection(key, label, url_name, order, permission, description)


def settings_sections(*, has: Callable[[str], bool]) -> list[SettingsSection]:
    """The sections the person may open (`has(permission)`), in menu order."""
    return sorted((s for s in _SECTIONS.values() if has(s.permission)),
                  key=lambda s: (s.order, s.key))
