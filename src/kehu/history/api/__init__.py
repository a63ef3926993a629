"""The history API: communications, products, orders, needs, preferences, opportunities,
pipelines, surveys, tickets, and each customer's timeline and summary figures.

One module per record kind; the list / create / detail / change / delete operations every
kind shares are one declarative pattern (`records`), the schemas and serializers are
shared modules. Thin like every endpoint: parse, call one service or selector, serialize.
A record attached to a customer is visible exactly when its customer is; writes pass a
bare `Model(pk=...)` and the services decide 404 / 403 through the scoping gate.
"""

from __future__ import annotations

from ninja import Router

from kehu.history.api import communications, customer, feedback, opportunities, orders

router = Router(tags=["history"])
for module in (customer, communications, orders, feedback, opportunities):
    module.register(router)
