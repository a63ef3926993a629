"""An admin shapes the sales pipeline in a real browser: 设置 → 销售流程, add a stage "方案评估"
at 40 %, move it up with the keyboard alone, and see the kanban's columns follow. The same
page on a phone: the settings menu stacked above, each stage a small card."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Screenshots for a person to look at; KEHU_SCREENSHOTS=/tmp/x puts them elsewhere too.
EXTRA = os.environ.get("KEHU_SCREENSHOTS")


@pytest.fixture(autouse=True)
def default_pipeline(builtin_roles, transactional_db) -> None:
    """A flush wipes what the data migrations made: the roles, then the standard pipeline."""
    from django.apps import apps

    importlib.import_module("kehu.history.migrations.0002_default_pipeline") \
        .create_default_pipeline(apps, None)


def log_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="客户", exact=True)).to_be_visible()


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / name), full_page=True)
    if EXTRA:
        Path(EXTRA).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(EXTRA) / name), full_page=True)


def column_titles(page: Page) -> list[str]:
    return [title.split(" ")[0] for title in
            page.locator("[data-board-columns] h2").all_inner_texts()]


def test_an_admin_adds_a_stage_and_moves_it_up_with_the_keyboard(browser, live_server, root, artifacts):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(page, live_server, "root", "root-pass-123")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    shot(page, artifacts, "settings-index-desktop.png")
    page.get_by_role("navigation", name="设置").get_by_role("link", name="销售流程").click()
    shot(page, artifacts, "pipelines-desktop.png")
    page.get_by_role("link", name="标准销售流程", exact=True).click()

    page.get_by_label("新阶段的名称").fill("方案评估")
    page.get_by_label("新阶段的赢率 %").fill("40")
    page.get_by_label("新阶段的赢率 %").press("Enter")
    expect(page.get_by_text("已添加阶段 方案评估")).to_be_visible()

    # Keyboard only: the up button keeps the focus after each move, so Enter twice is two moves.
    up = page.get_by_role("button", name="上移 方案评估")
    up.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="上移 方案评估")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="上移 方案评估")).to_be_focused()
    names = page.locator("tbody .stage-name input[type=text]").evaluate_all("els => els.map(e => e.value)")
    assert names == ["初步接洽", "需求确认", "方案评估", "方案报价", "商务谈判", "赢单", "输单"]
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置")) \
        .to_have_attribute("aria-current", "page")
    shot(page, artifacts, "pipeline-settings-desktop.png")

    page.get_by_role("link", name="查看看板").click()
    assert column_titles(page) == names

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    small = phone.new_page()
    log_in(small, live_server, "root", "root-pass-123")
    small.goto(page.url.replace("/history/board/", "/history/pipelines/"))
    expect(small.get_by_role("button", name="下移 方案评估")).to_be_visible()
    menu = small.get_by_role("navigation", name="设置").bounding_box()
    table = small.locator(".stage-table").bounding_box()
    assert menu["y"] + menu["height"] <= table["y"]  # the menu sits above, not beside
    # The top bar scrolls sideways on a phone; the open page's link is scrolled into sight.
    expect(small.get_by_role("navigation", name="主导航").get_by_role("link", name="设置")) \
        .to_be_in_viewport()
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(small, artifacts, "pipeline-settings-phone.png")
