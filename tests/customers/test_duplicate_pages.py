"""The nightly finder stores the probable duplicates; each rep sees the pairs of her own
customers, merges one or says "不是重复", and the next run remembers her answer."""

from __future__ import annotations

import pytest

from kehu.customers.jobs import DEDUP_JOB
from kehu.customers.models import DuplicatePair
from kehu.jobs.services import job_start, run_here

pytestmark = pytest.mark.django_db


def run_finder(actor):
    job = run_here(job_start(actor=actor, origin="manual", kind=DEDUP_JOB, queued=False))
    assert job.status == "done", job.error
    return job


def test_reps_see_their_own_pairs_and_a_dismissed_pair_stays_dismissed(
        alice, charlie, root, make_customer, client):
    tea = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    copy = make_customer(alice, name="西湖茶业(杭州)有限责任公司")
    other = make_customer(alice, name="宁波港口物流有限公司")
    again = make_customer(alice, name="港口物流（宁波）有限公司")
    make_customer(charlie, name="深圳南山电子有限公司")
    make_customer(charlie, name="南山电子（深圳）有限公司")
    run_finder(root)
    assert DuplicatePair.objects.count() == 3

    client.force_login(alice)
    page = client.get("/customers/duplicates/").content.decode()
    assert "2 对可能重复" in page and tea.name in page and copy.name in page
    assert "南山" not in page  # charlie's pair is neither shown nor counted
    assert f"/customers/merge/?a={tea.pk}&amp;b={copy.pk}" in page

    pair = DuplicatePair.objects.get(a_id=other.pk, b_id=again.pk)
    assert client.post(f"/customers/duplicates/{pair.pk}/dismiss/").status_code == 302
    run_finder(root)  # the next night
    pair = DuplicatePair.objects.get(a_id=other.pk, b_id=again.pk)
    assert pair.status == "dismissed" and pair.dismissed_by == alice
    page = client.get("/customers/duplicates/").content.decode()
    assert "1 对可能重复" in page and other.name not in page


def test_only_an_admin_starts_the_finder_from_the_page(alice, root, client):
    client.force_login(alice)
    assert client.post("/customers/duplicates/scan/").status_code == 403
    client.force_login(root)
    started = client.post("/customers/duplicates/scan/")
    assert started.status_code == 302 and "/jobs/" in started["Location"]
