"""The merge page as a manager uses it: from the duplicates page's link to the result and
back. (The browser story and screenshots: tests/browser/test_merge_story.py.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.customers import services
from kehu.customers.models import Customer, MergeRecord
from tests.customers import test_merge

# The service tests' two copies of 杭州西湖茶业 (and what they need).
twins, fields, catalogue = test_merge.twins, test_merge.fields, test_merge.catalogue

pytestmark = pytest.mark.django_db


def merge_url(a, b) -> str:
    return reverse("customers:merge") + f"?a={a.pk}&b={b.pk}"


def form(a, b, **choices) -> dict:
    return {"a": a.pk, "b": b.pk, "version_a": a.version, "version_b": b.version, **choices}


def test_the_page_shows_what_differs_and_what_will_move(mallory, login, twins):
    ours, theirs = twins
    page = login(mallory).get(merge_url(ours, theirs)).content.decode()
    assert 'name="short_name" value="duplicate" checked' in page  # ours has none
    assert 'name="phones" value="union" checked' in page
    assert 'name="custom.level" value="duplicate" checked' in page  # the newer copy's
    assert 'name="preference" value="survivor" checked' in page
    assert "联系人 <strong class=\"num\">1</strong>" in page.replace("</span> ", " ").replace(
        "<span>", "")


def test_a_bad_typed_value_is_shown_and_the_choices_are_kept(mallory, login, twins):
    ours, theirs = twins
    response = login(mallory).post(reverse("customers:merge"), form(
        ours, theirs, short_name="manual", **{"manual.short_name": "茶" * 101,
                                              "custom.level": "survivor"}))
    page = response.content.decode()
    assert response.status_code == 200 and "最多 100 个字符" in page
    assert 'name="custom.level" value="survivor" checked' in page
    assert not MergeRecord.objects.exists()


def test_merge_then_undo_from_the_result_page(mallory, login, twins):
    ours, theirs = twins
    client = login(mallory)
    response = client.post(reverse("customers:merge"), form(ours, theirs))
    merge = MergeRecord.objects.get()
    assert response["Location"] == reverse("customers:merge_detail", args=[merge.pk])
    assert "撤销合并" in client.get(response["Location"]).content.decode()
    assert Customer.objects.get(pk=theirs.pk).deleted_at is not None
    response = client.post(reverse("customers:merge_undo", args=[merge.pk]))
    assert response["Location"] == reverse("customers:detail", args=[theirs.pk])
    assert Customer.objects.get(pk=theirs.pk).deleted_at is None


def test_undo_after_an_edit_says_what_changed(mallory, login, twins):
    ours, theirs = twins
    client = login(mallory)
    client.post(reverse("customers:merge"), form(ours, theirs))
    merge = MergeRecord.objects.get()
    services.customer_update(actor=mallory, origin="manual", customer=ours, data={"notes": "新"})
    response = client.post(reverse("customers:merge_undo", args=[merge.pk]), follow=True)
    assert "在合并后被修改过" in response.content.decode()
    assert Customer.objects.get(pk=theirs.pk).deleted_at is not None


def test_a_stale_page_is_refused(mallory, login, twins):
    ours, theirs = twins
    client = login(mallory)
    stale = form(ours, theirs)
    services.customer_update(actor=mallory, origin="manual", customer=theirs, data={"notes": "新"})
    assert client.post(reverse("customers:merge"), stale).status_code == 409
    assert not MergeRecord.objects.exists()


def test_the_bin_says_where_a_merged_customer_went(mallory, login, twins):
    ours, theirs = twins
    client = login(mallory)
    client.post(reverse("customers:merge"), form(ours, theirs))
    merge = MergeRecord.objects.get()
    page = client.get(reverse("customers:trash")).content.decode()
    assert "已合并到" in page
    assert reverse("customers:merge_detail", args=[merge.pk]) in page


def test_undo_is_offered_only_to_who_may_undo(mallory, alice, anna, login, twins):
    ours, theirs = twins
    login(mallory).post(reverse("customers:merge"), form(ours, theirs))
    url = reverse("customers:merge_detail", args=[MergeRecord.objects.get().pk])
    assert "撤销合并" in login(mallory).get(url).content.decode()
    assert "撤销合并" not in login(alice).get(url).content.decode()  # bob's copy is not hers
    assert "撤销合并" not in login(anna).get(url).content.decode()  # read-only


def test_the_card_offers_to_merge_into_a_probable_duplicate(mallory, alice, login, twins):
    ours, theirs = twins
    page = login(mallory).get(reverse("customers:detail", args=[theirs.pk])).content.decode()
    assert "合并到…" in page and f"?a={ours.pk}&amp;b={theirs.pk}" in page
    # alice may not manage bob's copy: her card names no duplicate to merge into
    assert "合并到…" not in login(alice).get(reverse("customers:detail", args=[ours.pk])) \
        .content.decode()
