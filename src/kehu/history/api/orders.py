"""Products (the catalogue) and orders, single and pushed in bulk from an ERP or a shop."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from kehu.api.inputs import payload_data
from kehu.api.responses import json_response
from kehu.api.schemas import READ_ERRORS, WRITE_ERRORS, PageParams
from kehu.history import selectors, services
from kehu.history.api import schemas as s
from kehu.history.api.records import (
    API,
    CUSTOMER,
    STATUS,
    RecordKind,
    one,
    page_of_kind,
)
from kehu.history.api.records import register as register_kind
from kehu.history.models import Order

ORDER = RecordKind(
    kind="order", plural="orders", model=Order, schema_in=s.OrderIn, schema_out=s.OrderOut,
    page=s.OrderPage, create=services.order_create, update=services.order_update,
    delete=services.order_delete, filters=(CUSTOMER, STATUS),
    create_doc="An order with its lines; amounts are checked against their columns.",
)


def register(router: Router) -> None:
    router.get("/products", response={200: s.ProductPage, **READ_ERRORS})(product_list)
    router.post("/products", response={201: s.ProductOut, **WRITE_ERRORS})(product_create)
    router.get("/products/{int:product_id}", response={200: s.ProductOut, **READ_ERRORS})(product_detail)
    router.patch("/products/{int:product_id}",
                 response={200: s.ProductOut, **WRITE_ERRORS})(product_update)
    router.post("/orders/bulk", response={200: s.BulkOrdersOut, **WRITE_ERRORS})(orders_bulk)
    register_kind(router, ORDER)


def product_list(
    request: HttpRequest, page: Query[PageParams], active: bool | None = None
) -> HttpResponse:
    """The catalogue (read for all; written by admins and roles that keep the catalogue)."""
    return page_of_kind(request, "product", page, active=active)


def product_create(request: HttpRequest, payload: s.ProductIn) -> HttpResponse:
    product = services.product_save(actor=request.auth, origin=API, data=payload_data(payload))
    return one(request, "product", product.pk, status=201)


def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    return one(request, "product", product_id)


def product_update(request: HttpRequest, product_id: int, payload: s.ProductIn) -> HttpResponse:
    product = selectors.record_get(viewer=request.auth, kind="product", pk=product_id)
    services.product_save(actor=request.auth, origin=API, data=payload_data(payload), product=product)
    return one(request, "product", product_id)


def orders_bulk(request: HttpRequest, payload: s.BulkOrdersIn) -> HttpResponse:
    """An ERP or shop pushes many orders at once: idempotent by `external_number`.

    All or nothing: one bad order and nothing is written; errors name the row
    (`orders.17.lines.0.product`). Orders already known are counted, not changed.
    """
    rows = [row.model_dump(exclude_unset=True) for row in payload.orders]
    return json_response(services.orders_ingest(actor=request.auth, orders=rows, origin=API))
