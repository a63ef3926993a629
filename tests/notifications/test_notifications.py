"""Notifications as people use them: the bell in the header, reading them, and links that
can only lead back into Kehu."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.notifications.models import Notification
from kehu.notifications.selectors import notification_get, notifications_for, unread_count
from kehu.notifications.services import notification_mark_read, notify

pytestmark = pytest.mark.django_db


def tell(person, title="客户“杭州西湖茶业”已转给你", link="/customers/", **extra):
    return notify(recipient=person, title=title, link=link, actor=None, origin=Origin.SYSTEM, **extra)


def test_the_header_shows_the_count_and_links_to_the_list(alice, bob, login, no_smtp):
    tell(alice)
    tell(alice, title="导出已完成")

    html = login(alice).get(reverse("customers:list")).content.decode()
    assert 'id="notification-bell"' in html
    assert f'href="{reverse("notifications:list")}"' in html
    assert 'aria-label="通知：2 条未读"' in html
    assert '<span class="bell-badge" aria-hidden="true">2</span>' in html
    assert f'href="{reverse("jobs:list")}"' in html  # 我的任务

    bobs = login(bob).get(reverse("customers:list")).content.decode()
    assert 'id="notification-bell"' in bobs
    assert "bell-badge" not in bobs


def test_the_count_is_one_query_per_page(alice, login, no_smtp):
    tell(alice)
    client = login(alice)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("notifications:list"))
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "notifications_notification" in q["sql"]]
    assert len(counts) == 1  # the badge, its label and the page heading share it


def test_the_bell_fragment_for_polling(alice, login, client, no_smtp):
    tell(alice)
    fragment = login(alice).get(reverse("notifications:bell"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.content.decode().startswith('<a id="notification-bell"')
    assert client.get(reverse("notifications:bell")).status_code == 204  # signed out: nothing to swap


def test_reading_one_opens_what_it_is_about(alice, login, no_smtp):
    notice = tell(alice, link="/customers/?q=%E8%8C%B6")
    other = tell(alice, title="另一条")
    client = login(alice)

    response = client.post(reverse("notifications:read", args=[notice.pk]))
    assert response.status_code == 302
    assert response.url == "/customers/?q=%E8%8C%B6"
    assert unread_count(alice) == 1

    stay = client.post(reverse("notifications:read", args=[other.pk]), {"stay": "1"})
    assert stay.url == reverse("notifications:list")
    assert unread_count(alice) == 0
    assert client.get(reverse("notifications:read", args=[other.pk])).status_code == 405


def test_read_all_marks_only_the_readers_own(alice, bob, login, no_smtp):
    for n in range(3):
        tell(alice, title=f"第 {n} 条")
    tell(bob, title="bob 的")

    page = login(alice).get(reverse("notifications:list")).content.decode()
    assert "全部标为已读" in page
    assert page.count("is-unread") == 3

    response = login(alice).post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert unread_count(alice) == 0
    assert unread_count(bob) == 1
    assert "全部标为已读" not in login(alice).get(reverse("notifications:list")).content.decode()


def test_nobody_marks_someone_elses_as_read(alice, bob, no_smtp):
    notice = tell(alice)
    assert notification_mark_read(actor=bob, notification_ids=[notice.pk]) == 0
    assert notification_mark_read(actor=bob, everything=True) == 0
    assert unread_count(alice) == 1
    for pk in (notice.pk, notice.pk + 1, "junk", 2**63):
        with pytest.raises(Http404):
            notification_get(bob, pk)
    assert notification_get(alice, notice.pk) == notice


@pytest.mark.parametrize("link", [
    "https://evil.example", "https://evil.example/customers/", "//evil.example/x",
    "/\\evil.example", "javascript:alert(1)", "customers/", "http:/evil.example", "/\t/evil.example",
    "/ /evil.example", "/\x00", "https:evil.example",
    "/" + "x" * 500,
])
def test_a_link_to_anywhere_but_this_site_is_refused(alice, link, no_smtp):
    with pytest.raises(ValidationError) as refused:
        tell(alice, link=link)
    assert "link" in refused.value.message_dict
    assert not Notification.objects.exists()


def test_a_bad_link_that_reached_the_table_is_not_followed(alice, login, no_smtp):
    notice = tell(alice)
    Notification.objects.filter(pk=notice.pk).update(link="https://evil.example")
    response = login(alice).post(reverse("notifications:read", args=[notice.pk]))
    assert response.url == reverse("notifications:list")


def test_who_cannot_read_gets_nothing(alice, no_smtp):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert tell(alice) is None
    assert not Notification.objects.exists()


def test_titles_are_one_line_and_fit(alice, no_smtp):
    notice = tell(alice, title="导出\n完成  " + "长" * 300)
    assert "\n" not in notice.title
    assert len(notice.title) == 200
    assert notice.title.endswith("…")
    with pytest.raises(ValidationError):
        tell(alice, title="   ")
    with pytest.raises(ValidationError):
        tell(alice, level="shouting")


def test_the_list_pages_newest_first(alice, login, no_smtp):
    for n in range(35):
        tell(alice, title=f"第{n:02d}条")
    first = notifications_for(alice)
    assert [n.title for n in first.items[:2]] == ["第34条", "第33条"]
    second = notifications_for(alice, cursor=first.next_cursor)
    assert [n.title for n in second.items] == [f"第{n:02d}条" for n in range(4, -1, -1)]

    client = login(alice)
    page = client.get(reverse("notifications:list"), {"cursor": first.next_cursor},
                      headers={"HX-Request": "true"}).content.decode()
    assert "第04条" in page and "<html" not in page  # the fragment for HTMX
    assert client.get(reverse("notifications:list"), {"cursor": "junk"}).status_code == 400
