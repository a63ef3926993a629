"""Meta-tests over the app registry: no customer-bound model escapes the scoping gate.

A model is customer-bound when it reaches `customers.Customer` through foreign keys
(an order directly, an order line through its order, an attachment through its
communication). Each such model must have a scoped default manager whose
`customer_path` really leads to the customer, and none may be in Django's admin,
which knows nothing of scopes. A new model that forgets either fails here.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models

from kehu.customers.models import Customer
from kehu.customers.scoping import ScopedQuerySet

# Nothing is exempt today. (The change log carries a bare customer id, not a foreign key,
# and is read only through the customer's own history.)
NOT_CUSTOMER_DATA: set[str] = set()


def path_to_customer(model: type[models.Model], seen: frozenset = frozenset()) -> str | None:
    """The lookup path from `model` to Customer ("" for Customer itself), or None."""
    if model is Customer:
        return ""
    for field in model._meta.concrete_fields:
        target = getattr(field, "related_model", None)
        if not isinstance(field, models.ForeignKey) or target is None or target in seen:
            continue
        rest = path_to_customer(target, seen | {model})
        if rest is not None:
            return f"{field.name}__{rest}"
    return None


def customer_bound_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models()
            if path_to_customer(m) is not None and m._meta.label not in NOT_CUSTOMER_DATA]


def test_the_walk_finds_the_models_we_know():
    labels = {m._meta.label for m in customer_bound_models()}
    assert {"customers.Customer", "customers.Contact", "customers.CustomerShare",
            "history.Order", "history.OrderLine", "history.Attachment"} <= labels


@pytest.mark.parametrize("model", customer_bound_models(), ids=lambda m: m._meta.label)
def test_every_customer_bound_model_has_a_scoped_manager(model):
    queryset = model._default_manager.all()
    assert isinstance(queryset, ScopedQuerySet), f"{model._meta.label} needs a ScopedQuerySet manager"
    assert queryset.customer_path == path_to_customer(model)


@pytest.mark.parametrize("model", customer_bound_models(), ids=lambda m: m._meta.label)
def test_no_customer_bound_model_is_in_djangos_admin(model):
    assert model not in admin.site._registry, f"{model._meta.label} would bypass every scope"
