"""Every API operation, called by every kind of person, answers with the expected status.

The table below is the authorization contract of the API. A meta-test fails when an
operation is registered on the NinjaAPI without a row here, so a new endpoint cannot
ship without saying who may call it. To add one: add a row to MATRIX with the
statuses for (owner, teammate, outsider, manager, analyst, admin[, anonymous]) and,
when needed, a body and a setup. Path parameters are filled in from `World`.

The record under test is always alice's customer (and its contact); alice is the owner,
bob her teammate, charlie an outsider, mallory their manager, anna the analyst, root admin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from kehu.config.api import api
from kehu.customers import services
from tests.api.conftest import Caller
from tests.history.api_matrix import HISTORY_MATRIX, seed_history
from tests.people import alices_customer_create, kept_for_the_module, people_create

pytestmark = pytest.mark.django_db

PEOPLE = ("owner", "teammate", "outsider", "manager", "analyst", "admin", "anonymous")


@dataclass
class World:
    """The people and the records every call is made against."""

    people: dict[str, Any]
    customer: Any
    contact: Any
    history: dict[str, Any] = field(default_factory=dict)  # ids of history records, keys

    def path_params(self) -> dict[str, Any]:
        return {"customer_id": self.customer.pk, "contact_id": self.contact.pk,
                "user_id": self.people["admin"].pk, **self.history}


@dataclass(frozen=True)
class Case:
    expected: dict[str, int]
    body: Callable[[World], Any] | None = None
    setup: Callable[[World], None] | None = None


def case(owner: int, teammate: int, outsider: int, manager: int, analyst: int, admin: int,
         anonymous: int = 401, **extra: Any) -> Case:
    statuses = (owner, teammate, outsider, manager, analyst, admin, anonymous)
    return Case(dict(zip(PEOPLE, statuses, strict=True)), **extra)


def _delete_customer(world: World) -> None:
    services.customer_delete(actor=world.people["owner"], origin="manual", customer=world.customer)


def _share_with_admin(world: World) -> None:
    services.customer_share(actor=world.people["owner"], origin="manual", customer=world.customer,
                            user=world.people["admin"])


def _second_customer(world: World) -> None:
    world.history["dup"] = services.customer_create(
        actor=world.people["owner"], origin="manual", data={"kind": "company", "name": "矩阵客户副本"}).pk


def _task(owner: Any, customer: Any) -> int:
    from kehu.followup.services import task_create

    return task_create(actor=owner, origin="manual", customer=customer.pk,
                       data={"title": "矩阵任务", "due_date": "2026-12-10"}).pk


def _vip() -> int:
    from kehu.classification.models import DimensionValue

    return DimensionValue.objects.get(dimension__key="value_tier", key="vip").pk


def _classification_ids(admin: Any) -> dict[str, Any]:
    """A spare value nothing uses and a rule of the value tier, for the settings routes."""
    from kehu.classification.models import Dimension
    from kehu.classification.services import rule_save
    from kehu.classification.settings_services import value_save

    tier = Dimension.objects.get(key="value_tier")
    spare = value_save(actor=admin, origin="manual", dimension=tier, data={"label": "矩阵值"})
    rule = rule_save(actor=admin, origin="manual", rerun=False,
                     data={"name": "矩阵规则", "value": _vip(), "priority": 1})
    return {"dimension_id": tier.pk, "dimension_key": tier.key, "value_id": spare.pk,
            "rule_id": rule.pk}


def _merged_pair(owner: Any) -> int:
    from kehu.customers.merging import customer_merge

    a, b = (services.customer_create(actor=owner, origin="manual",
                                     data={"kind": "company", "name": name}) for name in "甲乙")
    return customer_merge(actor=owner, origin="manual", survivor=a, duplicate=b).pk


def _team_segment(owner: Any) -> int:
    from kehu.customers.segments import segment_save

    return segment_save(actor=owner, origin="manual", data={
        "name": "浙江", "visibility": "team",
        "condition": {"field": "province", "op": "in", "value": ["浙江省"]}}).pk


def _pool_ids(admin: Any, department: Any) -> dict[str, Any]:
    """华东公海 for alice's department, with a rule (the pool routes; no customer in it)."""
    from kehu.pool.services import pool_save, rule_save

    pool = pool_save(actor=admin, origin="manual", data={"name": "华东公海",
                                                          "departments": [department.pk]})
    rule = rule_save(actor=admin, origin="manual", pool=pool, data={"idle_days": 30})
    return {"pool_id": pool.pk, "pool_rule_id": rule.pk, "department_id": department.pk}


def _into_pool(world: World) -> None:
    from kehu.pool.services import pool_release

    pool_release(actor=world.people["owner"], origin="manual", customer=world.customer.pk)


EVERYONE = case(200, 200, 200, 200, 200, 200)
READ_ONE = case(200, 404, 404, 200, 200, 200)
CHANGE_ONE = case(200, 404, 404, 200, 403, 200)
DELETE_ONE = case(204, 404, 404, 204, 403, 204)

MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/me"): EVERYONE,
    ("GET", "/customers"): EVERYONE,
    ("POST", "/customers"): case(201, 201, 201, 201, 403, 201,
                                 body=lambda w: {"kind": "company", "name": "矩阵客户"}),
    # A check, not a write: the analyst may ask too; out-of-scope matches are only counted.
    ("POST", "/customers/duplicates"): case(200, 200, 200, 200, 200, 200,
                                            body=lambda w: {"kind": "company", "name": "杭州"}),
    ("POST", "/customers/transfer"): case(
        200, 404, 404, 200, 403, 200,
        body=lambda w: {"ids": [w.customer.pk], "to_user": w.people["teammate"].pk}),
    ("GET", "/customers/{customer_id}"): READ_ONE,
    ("PATCH", "/customers/{customer_id}"): case(*CHANGE_ONE.expected.values(),
                                                body=lambda w: {"city": "杭州"}),
    ("DELETE", "/customers/{customer_id}"): DELETE_ONE,
    ("POST", "/customers/{customer_id}/restore"): case(*CHANGE_ONE.expected.values(),
                                                       setup=_delete_customer),
    # 显示完整号码: only a role that may reveal (built in: the admin); the gate's 404 first.
    ("POST", "/customers/{customer_id}/reveal"): case(
        403, 404, 404, 403, 403, 200, body=lambda w: {"field": "phones", "reason": "核实身份"}),
    ("POST", "/customers/{customer_id}/shares"): case(
        201, 404, 404, 201, 403, 201, body=lambda w: {"user": w.people["admin"].pk}),
    ("DELETE", "/customers/{customer_id}/shares/{user_id}"): case(
        *DELETE_ONE.expected.values(), setup=_share_with_admin),
    ("GET", "/customers/{customer_id}/contacts"): READ_ONE,
    ("POST", "/customers/{customer_id}/contacts"): case(201, 404, 404, 201, 403, 201,
                                                        body=lambda w: {"name": "矩阵联系人"}),
    # Merging needs MANAGE on both customers; undo, MANAGE on the survivor and the duplicate.
    ("POST", "/customers/{customer_id}/merge"): case(201, 404, 404, 201, 403, 201,
                                                     setup=lambda w: _second_customer(w),
                                                     body=lambda w: {"duplicate": w.history["dup"]}),
    ("POST", "/merges/{merge_id}/undo"): case(200, 404, 404, 200, 403, 200),
    # Segments: anyone lists and saves their own; alice's team segment is seen in her
    # department tree (bob, mallory), its customers are always the caller's own.
    ("GET", "/segments"): EVERYONE,
    ("POST", "/segments"): case(201, 201, 201, 201, 201, 201, body=lambda w: {
        "name": "矩阵分群", "condition": {"field": "province", "op": "eq", "value": "浙江省"}}),
    ("GET", "/segments/{segment_id}/customers"): case(200, 200, 404, 200, 404, 404),
    # Classification: a customer's RFM and places follow the customer; the grid and a rule's
    # preview are everyone's own customers (scope inside: tests/classification).
    ("GET", "/customers/{customer_id}/rfm"): READ_ONE,
    ("GET", "/customers/{customer_id}/classification"): READ_ONE,
    ("GET", "/analytics/rfm"): EVERYONE,
    # Data quality: the summary is everyone's own scope; one customer's follows the customer;
    # "信息已核实" needs the right to change it.
    ("GET", "/quality"): EVERYONE,
    ("GET", "/customers/{customer_id}/quality"): READ_ONE,
    ("POST", "/customers/{customer_id}/quality/verify"): case(201, 404, 404, 201, 403, 201),
    ("POST", "/classification/rules/preview"): case(200, 200, 200, 200, 200, 200, body=lambda w: {
        "name": "矩阵规则", "value": _vip(), "condition": None}),
    # The settings: everyone reads the standards, admins change them; an override follows
    # the customer (tests/api/test_classification_settings_api.py).
    ("GET", "/classification/dimensions"): EVERYONE,
    ("POST", "/classification/dimensions"): case(403, 403, 403, 403, 403, 201,
                                                 body=lambda w: {"name": "矩阵维度"}),
    ("PATCH", "/classification/dimensions/{dimension_id}"): case(
        403, 403, 403, 403, 403, 200, body=lambda w: {"name_en": "Tier"}),
    ("POST", "/classification/dimensions/{dimension_id}/values"): case(
        403, 403, 403, 403, 403, 201, body=lambda w: {"label": "矩阵新值"}),
    ("PATCH", "/classification/values/{value_id}"): case(403, 403, 403, 403, 403, 200,
                                                         body=lambda w: {"label": "矩阵值改"}),
    ("DELETE", "/classification/values/{value_id}"): case(403, 403, 403, 403, 403, 204),
    ("GET", "/classification/rules"): EVERYONE,
    ("POST", "/classification/rules"): case(403, 403, 403, 403, 403, 201, body=lambda w: {
        "name": "矩阵新规则", "value": _vip()}),
    ("PATCH", "/classification/rules/{rule_id}"): case(403, 403, 403, 403, 403, 200,
                                                       body=lambda w: {"name": "改", "value": _vip()}),
    ("DELETE", "/classification/rules/{rule_id}"): case(403, 403, 403, 403, 403, 204),
    ("PUT", "/customers/{customer_id}/classification/{dimension_key}"): case(
        *CHANGE_ONE.expected.values(), body=lambda w: {"value": "vip"}),
    ("DELETE", "/customers/{customer_id}/classification/{dimension_key}"): CHANGE_ONE,
    # Follow-up: my day is everyone's own; a task follows its customer (tests/followup).
    ("GET", "/followup/today"): EVERYONE,
    ("GET", "/followup/coverage"): EVERYONE,
    ("POST", "/followup/tasks"): case(201, 404, 404, 201, 403, 201, body=lambda w: {
        "customer": w.customer.pk, "title": "矩阵任务", "due_date": "2026-12-10"}),
    ("POST", "/followup/tasks/{task_id}/log"): case(201, 404, 404, 201, 403, 201,
                                                    body=lambda w: {"subject": "矩阵跟进"}),
    # The pool (tests/pool): 华东公海 serves alice's department (alice, bob, mallory); the
    # customer is released into it first. Its previous owner may not claim it back yet
    # (422), the analyst sees it but is no member (403); managers and admins assign.
    ("GET", "/pool/customers"): EVERYONE,
    ("POST", "/pool/customers/{customer_id}/claim"): case(422, 200, 404, 200, 403, 200,
                                                          setup=_into_pool),
    ("POST", "/pool/customers/{customer_id}/assign"): case(
        403, 403, 404, 200, 403, 200, setup=_into_pool,
        body=lambda w: {"to_user": w.people["teammate"].pk}),
    ("POST", "/customers/{customer_id}/release"): case(200, 404, 404, 200, 403, 200),
    ("GET", "/pool/pools"): case(403, 403, 403, 403, 403, 200),
    ("POST", "/pool/pools"): case(403, 403, 403, 403, 403, 201, body=lambda w: {
        "name": "矩阵公海", "departments": [w.history["department_id"]]}),
    ("GET", "/pool/pools/{pool_id}"): case(403, 403, 403, 403, 403, 200),
    ("PATCH", "/pool/pools/{pool_id}"): case(403, 403, 403, 403, 403, 200, body=lambda w: {
        "name": "华东公海", "departments": [w.history["department_id"]], "daily_claims": 3}),
    ("DELETE", "/pool/pools/{pool_id}"): case(403, 403, 403, 403, 403, 204),
    ("POST", "/pool/pools/{pool_id}/rules"): case(403, 403, 403, 403, 403, 201,
                                                  body=lambda w: {"idle_days": 60}),
    ("PATCH", "/pool/pools/{pool_id}/rules/{pool_rule_id}"): case(
        403, 403, 403, 403, 403, 200, body=lambda w: {"idle_days": 45}),
    ("DELETE", "/pool/pools/{pool_id}/rules/{pool_rule_id}"): case(403, 403, 403, 403, 403, 204),
    # The consent ledger (tests/privacy): reading follows the customer; granting and
    # withdrawing need the right to change it. alice's customer holds a live marketing grant.
    ("GET", "/customers/{customer_id}/consents"): READ_ONE,
    ("POST", "/customers/{customer_id}/consents"): case(201, 404, 404, 201, 403, 201, body=lambda w: {
        "purpose": "analysis", "notice_version": "隐私政策 v3", "channel": "phone"}),
    ("POST", "/customers/{customer_id}/consents/{consent_id}/withdraw"): case(
        200, 404, 404, 200, 403, 200, body=lambda w: {"note": "客户来电要求"}),
    ("GET", "/contacts"): EVERYONE,
    ("GET", "/contacts/{contact_id}"): READ_ONE,
    ("PATCH", "/contacts/{contact_id}"): case(*CHANGE_ONE.expected.values(),
                                              body=lambda w: {"title": "总监"}),
    ("DELETE", "/contacts/{contact_id}"): DELETE_ONE,
}

MATRIX.update({op: case(*statuses, body=body) for op, (statuses, body) in HISTORY_MATRIX.items()})


def registered_operations() -> set[tuple[str, str]]:
    """(method, path) of every operation on the API, hidden ones included."""
    api.urls  # noqa: B018 -- binds the routers, as Django does when it loads the URLconf
    found = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = "/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
            full = re.sub(r"\{\w+:(\w+)\}", r"{\1}", full)  # {int:customer_id} -> {customer_id}
            for operation in path_view.operations:
                found.update((method.upper(), full) for method in operation.methods)
    return found


def test_every_registered_operation_has_a_row_in_the_matrix():
    operations = registered_operations()
    assert operations - set(MATRIX) == set(), "add these operations to MATRIX"
    assert set(MATRIX) - operations == set(), "these MATRIX rows match no operation"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One world for every operation: each test's transaction rolls back to it."""

    def build() -> World:
        users = people_create()
        return world_build(users, alices_customer_create(users["alice"]))

    with kept_for_the_module(django_db_blocker, build) as made:
        yield made


def world_build(users: dict[str, Any], customer: Any) -> World:
    alice, root = users["alice"], users["root"]
    contact = services.contact_create(actor=alice, origin="manual", customer=customer,
                                      data={"name": "陈采购"})
    people = {"owner": alice, "teammate": users["bob"], "outsider": users["charlie"],
              "manager": users["mallory"], "analyst": users["anna"], "admin": root,
              "anonymous": None}
    return World(people=people, customer=customer, contact=contact,
                 history={**seed_history(people, customer), "merge_id": _merged_pair(alice),
                          "segment_id": _team_segment(alice), **_classification_ids(root),
                          "task_id": _task(alice, customer), **_pool_ids(root, alice.department),
                          "consent_id": _consent(alice, customer)})


def _consent(alice: Any, customer: Any) -> int:
    from kehu.privacy.services import consent_grant

    return consent_grant(actor=alice, origin="manual", customer=customer, data={
        "purpose": "marketing", "notice_version": "隐私政策 v3", "channel": "phone"}).pk


@pytest.mark.parametrize("operation", sorted(MATRIX), ids=" ".join)
def test_each_person_gets_the_expected_status(operation, world, api_as):
    method, path = operation
    case_ = MATRIX[operation]
    url = path.format(**world.path_params())
    callers = {name: api_as(user) for name, user in world.people.items()}
    wrong = {}
    for person in PEOPLE:
        status = _call_and_roll_back(callers[person], method, url, case_, world)
        if status != case_.expected[person]:
            wrong[person] = f"got {status}, expected {case_.expected[person]}"
    assert wrong == {}


def _call_and_roll_back(caller: Caller, method: str, url: str, case_: Case, world: World) -> int:
    """One call on a fresh copy of the world: whatever it changes is undone afterwards."""
    with transaction.atomic():
        if case_.setup:
            case_.setup(world)
        body = case_.body(world) if case_.body else None
        if method in ("POST", "PATCH") and body is None:
            body = {}
        # Changes must name a version (428 otherwise); "*" is the explicit "any version".
        status = caller.request(method, url, body, if_match="*").status_code
        transaction.set_rollback(True)
    return status
