"""The settings area (设置): one link in the top bar for admins, a side menu of the sections
apps register, and the custom fields, schedules and pipelines pages inside it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core import settings_menu
from kehu.history.models import Pipeline

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def nav_link(html: str, label: str) -> str:
    """The top bar's <a> for `label` (empty when there is none)."""
    nav = html[html.index('<nav class="nav"'):html.index("</nav>")]
    found = re.search(rf'<a [^>]*>{label}</a>', nav)
    return found.group(0) if found else ""


OURS = ("自定义字段", "销售流程", "计划任务")  # other apps' sections may sit between them


def side_menu(html: str, only: tuple[str, ...] | None = None) -> list[str]:
    menu = html[html.index('<nav class="settings-menu"'):]
    menu = menu[:menu.index("</nav>")]
    labels = re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', menu)
    return [label for label in labels if only is None or label in only]


def current_in_menu(html: str) -> list[str]:
    menu = html[html.index('<nav class="settings-menu"'):]
    return re.findall(r'aria-current="page">([^<]+)</a></li>', menu[:menu.index("</nav>")])


def test_an_admin_finds_every_section_behind_one_settings_link(root):
    admin = browser_of(root)
    home = admin.get(reverse("customers:list")).content.decode()
    assert 'href="/settings/"' in nav_link(home, "设置")
    assert "aria-current" not in nav_link(home, "设置")
    assert nav_link(home, "自定义字段") == ""  # it moved into the settings area

    index = admin.get(reverse("settings:index")).content.decode()
    assert side_menu(index, only=OURS) == ["自定义字段", "销售流程", "计划任务"]
    assert 'aria-current="page"' in nav_link(index, "设置")


@pytest.mark.parametrize(("url", "section"), [
    (lambda: reverse("customers:fields"), "自定义字段"),
    (lambda: reverse("customers:field_create"), "自定义字段"),
    (lambda: reverse("jobs:schedules"), "计划任务"),
    (lambda: reverse("history:pipelines"), "销售流程"),
    (lambda: reverse("history:pipeline", args=[Pipeline.objects.get().pk]), "销售流程"),
])
def test_each_settings_page_lights_up_its_section_and_the_top_link(root, url, section):
    html = browser_of(root).get(url()).content.decode()
    assert current_in_menu(html) == [section]
    assert 'aria-current="page"' in nav_link(html, "设置")
    assert "aria-current" not in nav_link(html, "客户")


def test_a_sales_rep_sees_no_settings_link_and_gets_403(alice):
    rep = browser_of(alice)
    assert nav_link(rep.get(reverse("customers:list")).content.decode(), "设置") == ""
    assert rep.get(reverse("settings:index")).status_code == 403


def test_a_section_is_one_call_away(root, monkeypatch):
    """What the classification app does in its ready(): one line, and the menu has it."""
    monkeypatch.setattr(settings_menu, "_SECTIONS", dict(settings_menu._SECTIONS))
    settings_menu.register_settings_section("dimensions", "分类维度", "customers:trash", order=20)
    settings_menu.register_settings_section("everyone", "个人偏好", "customers:list", order=5,
                                            permission="can_write")
    menu = side_menu(browser_of(root).get(reverse("settings:index")).content.decode(),
                     only=("个人偏好", "分类维度", *OURS))
    assert menu == ["个人偏好", "自定义字段", "分类维度", "销售流程", "计划任务"]
    writers = settings_menu.settings_sections(has=lambda permission: permission == "can_write")
    assert [s.label for s in writers] == ["个人偏好"]
