"""The suite's people (see tests/conftest.py), and a world kept for a whole test module.

The fixtures in conftest.py make each person per test; `people_create` makes all of them at
once for a module-scoped world. `kept_for_the_module` holds such a world in a transaction
of its own that every test's transaction nests in (a savepoint), so each test starts from
the same rows and its writes roll back, and the module's rows go when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import transaction
from django.test import override_settings

from kehu.accounts.services import department_path, user_create
from kehu.customers import services as customer_services

T = TypeVar("T")


def mallory_create(east: Any) -> Any:
    return user_create(username="mallory", role_code="manager", department=east,
                       display_name="Mallory 经理", password="mallory-pass-123")[0]


def alice_create(east: Any, mallory: Any) -> Any:
    return user_create(username="alice", role_code="sales", department=east, manager=mallory,
                       display_name="Alice 王", password="alice-pass-123")[0]


def bob_create(east: Any, mallory: Any) -> Any:
    return user_create(username="bob", role_code="sales", department=east, manager=mallory,
                       display_name="Bob 李", password="bob-pass-123")[0]


def charlie_create(south: Any) -> Any:
    return user_create(username="charlie", role_code="sales", department=south,
                       display_name="Charlie 张", password="charlie-pass-123")[0]


def anna_create() -> Any:
    return user_create(username="anna", role_code="analyst", display_name="Anna 赵",
                       password="anna-pass-123")[0]


def root_create() -> Any:
    return user_create(username="root", role_code="admin", display_name="Root",
                       password="root-pass-123")[0]


def alices_customer_create(alice: Any) -> Any:
    return customer_services.customer_create(actor=alice, origin="manual", data={
        "kind": "company", "name": "杭州西湖茶业有限公司", "phones": ["13812345678"],
        "emails": ["buyer@xihu-tea.cn"], "credit_code": "91110000802100433B"})


def people_create() -> dict[str, Any]:
    """alice, bob, charlie, mallory, anna and root, made as the fixtures make them."""
    east, south = department_path("总部/华东区"), department_path("总部/华南区")
    mallory = mallory_create(east)
    return {"alice": alice_create(east, mallory), "bob": bob_create(east, mallory),
            "charlie": charlie_create(south), "mallory": mallory, "anna": anna_create(),
            "root": root_create()}


@contextmanager
def kept_for_the_module(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """What `build` makes (the database open, passwords hashed fast) stays for the module's
    tests and is rolled back after the last one."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        with django_db_blocker.unblock(), override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            made = build()
        yield made
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
