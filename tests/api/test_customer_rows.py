"""The API's customer list is built from plain rows (`selectors.customer_rows`), not model
instances (issue 15 item 4) — and answers byte for byte what the instance path answered.

The old answer is recomputed here as it was made before: `customer_list` (instances) and
`customer_dict` per instance as it was then, encoded as `json_response` did. A page holds what every finishing
step touches: tags, custom values of every type, a sensitive custom field (masked for all
but admins), phones and e-mails encrypted at rest, an ID number, a customer shared with
alice, and one in the pool (ownerless, masked by its rule); seen by the admin, a rep, her
manager, the masking analyst and a rep of another team; first pages, pages by cursor, a
tag filter, a sort and quick searches (each row then says why it matched).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.http import QueryDict

from kehu.accounts.models import User
from kehu.customers import selectors, services
from kehu.customers.filters import CustomerFilters
from kehu.customers.sensitive import SENSITIVE_MASK
from kehu.pool.services import pool_release, pool_save
from kehu.privacy.services import consent_grant

pytestmark = pytest.mark.django_db

HEALTH = "2 型糖尿病"


@pytest.fixture
def book(settings, east, root, alice, bob, charlie, make_customer):
    settings.KEHU_ENCRYPT_FIELDS = ["phones", "emails", "wechat"]
    for data in ({"key": "budget", "label": "预算", "field_type": "number"},
                 {"key": "since", "label": "合作开始", "field_type": "date"},
                 {"key": "lines", "label": "产品线", "field_type": "multi_choice",
                  "choices": ["茶叶", "茶具", "礼盒"]},
                 {"key": "level", "label": "等级", "field_type": "choice", "choices": ["A", "B"]},
                 {"key": "health", "label": "健康状况", "field_type": "text", "sensitive": True}):
        services.custom_field_save(actor=root, origin="manual", data=data)
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678", "057187654321"],
                  emails=["buyer@xihu-tea.cn"], wechat="xihu_tea_88", tags=["重点客户", "华东茶商"],
                  credit_code="91110000802100433B", custom={
                      "budget": "12.5", "since": "2024-03-01", "lines": ["茶叶", "礼盒"],
                      "level": "A"})
    person = make_customer(alice, kind="person", name="闫晓梅", phones=["13912345678"],
                           id_number="11010519491231002X", birthday="1949-12-31",
                           custom={"budget": "3"})
    consent_grant(actor=alice, origin="manual", customer=person, data={
        "purpose": "service", "legal_basis": "consent", "notice_version": "敏感信息告知 v1",
        "channel": "paper", "sensitive": True})
    services.customer_update(actor=root, origin="manual", customer=person,
                             data={"custom": {"health": HEALTH}})
    make_customer(bob, name="苏州园林设计有限公司", emails=["Design@Yuanlin.com"], tags=["华东茶商"])
    shared = make_customer(charlie, name="深圳前海科技有限公司", phones=["+8675512345678"],
                           tags=["华南渠道商"])
    services.customer_share(actor=charlie, origin="manual", customer=shared.pk, user=alice)
    pool_save(actor=root, origin="manual", data={  # 华东区's pool: alice, bob, mallory
        "name": "华东公海", "departments": [east.pk], "daily_claims": 2, "max_held": 3,
        "reclaim_wait_days": 30})
    released = make_customer(bob, name="无人负责的贸易公司", phones=["13600001111"])
    pool_release(actor=bob, origin="manual", customer=released.pk)  # ownerless, masked by rule
    return person


def old_answer(viewer, params: str, cursor: str | None = None, limit: int = 50) -> bytes:
    """The list as the API answered before rows: instances, serialised one by one by the
    serialiser and encoder of that time (kept here as they were)."""
    viewer = User.objects.get(pk=viewer.pk)  # as a request sees it (access is cached per object)
    filters = CustomerFilters.from_params(QueryDict(params))
    page = selectors.customer_list(viewer=viewer, filters=filters, cursor=cursor, limit=limit)
    body = {"items": [instance_dict(c) for c in page.items], "next_cursor": page.next_cursor,
            "prev_cursor": page.prev_cursor}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_default).encode()


def instance_dict(c) -> dict[str, Any]:
    """`customers.api.customer_dict` as it was when the list read instances (and the region's
    code, which the API has given since)."""
    owner = c.owner
    return {
        "id": c.pk, "kind": c.kind, "name": c.name, "short_name": c.short_name,
        "industry": c.industry, "company_size": c.company_size,
        "province": c.province, "city": c.city, "district": c.district,
        "region_code": c.region_code, "address": c.address,
        "phones": c.phones, "emails": c.emails, "wechat": c.wechat, "gender": c.gender,
        "birthday": c.birthday, "credit_code": c.credit_code,
        "id_number": c.id_number, "source": c.source,
        "owner": {"id": owner.pk, "name": owner.label} if owner else None,
        "tags": list(c.tag_names),
        "custom": {k: _custom_json(v) for k, v in selectors.custom_values_by_key(c).items()},
        "notes": c.notes, "masked": getattr(c, "is_masked", False), "origin": c.origin,
        "version": c.version, "created_at": c.created_at, "updated_at": c.updated_at,
        "matched": getattr(c, "matched", None),
    }


def _custom_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_custom_json(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


PARAMS = ["", "tag=华东茶商", "q=茶", "q=1381234", "q=buyer@xihu-tea.cn", "sort=name",
          "q=xh"]


@pytest.mark.parametrize("who", ["root", "alice", "mallory", "anna", "charlie"])
def test_every_page_is_the_same_bytes_as_the_instances_gave(who, book, request, api_as):
    viewer = request.getfixturevalue(who)
    caller = api_as(viewer)
    for params in PARAMS:
        answer = caller.client.get(f"/api/v1/customers?limit=50&{params}",
                                   headers=caller.headers)
        assert answer.status_code == 200, answer.content
        assert answer.content == old_answer(viewer, params), (who, params)


def test_pages_by_cursor_are_the_same_too(root, book, api_as):
    caller, cursor, pages = api_as(root), None, 0
    while True:
        path = "/api/v1/customers?limit=2" + (f"&cursor={cursor}" if cursor else "")
        answer = caller.client.get(path, headers=caller.headers)
        assert answer.content == old_answer(root, "", cursor=cursor, limit=2)
        cursor, pages = answer.json()["next_cursor"], pages + 1
        if not cursor:
            break
    assert pages == 3  # five customers, two a page


def test_the_page_holds_what_each_finishing_step_changes(book, root, alice, anna, api_as):
    """A guard on the fixture: the comparison above is only as good as what the page holds."""
    def items(viewer):
        return {c["name"]: c for c in api_as(viewer).get("/customers").json()["items"]}

    mine = items(alice)
    assert mine["闫晓梅"]["custom"]["health"] == SENSITIVE_MASK
    assert mine["深圳前海科技有限公司"]["owner"]["name"] == "Charlie 张"  # shared with her
    assert mine["杭州西湖茶业有限公司"]["custom"] == {
        "budget": 12.5, "since": "2024-03-01", "lines": ["茶叶", "礼盒"], "level": "A"}
    assert mine["杭州西湖茶业有限公司"]["tags"] == ["华东茶商", "重点客户"]
    assert items(root)["闫晓梅"]["custom"]["health"] == HEALTH
    assert items(root)["无人负责的贸易公司"]["owner"] is None
    assert mine["无人负责的贸易公司"]["phones"] == ["136****1111"]  # the pool's rule masks it
    masked = items(anna)["杭州西湖茶业有限公司"]
    assert masked["masked"] is True and masked["phones"][0] == "138****5678"
    assert items(anna)["闫晓梅"]["id_number"] == "1101**********002X"
