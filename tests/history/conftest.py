"""History fixtures: a small catalogue and a contact on alice's customer."""

from __future__ import annotations

import pytest

from kehu.accounts.services import token_create
from kehu.customers import services as customer_services
from kehu.history import services
from tests.api.conftest import Caller


@pytest.fixture
def catalogue(root):
    """Three products in two categories, created by the admin."""
    return {
        sku: services.product_save(actor=root, origin="manual", data={
            "sku": sku, "name": name, "category": category, "unit_price": price})
        for sku, name, category, price in [
            ("TEA-LJ-250", "明前龙井 250g", "茶叶", "398.00"),
            ("TEA-PE-357", "普洱饼茶 357g", "茶叶", "268.50"),
            ("SET-GL-01", "玻璃茶具套装", "茶具", "159.90"),
        ]
    }


@pytest.fixture
def primary_contact(alice, alices_customer):
    return customer_services.contact_create(
        actor=alice, origin="manual", customer=alices_customer,
        data={"name": "陈经理", "phones": ["13900001111"], "is_primary": True})


@pytest.fixture
def api_as():
    """api_as(user) -> an API caller holding a fresh token of `user`."""
    return lambda user: Caller(token_create(user=user, name="test")[1])


def files_on_disk(root):
    """Every file under `root`, in order (none when it does not exist yet)."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
