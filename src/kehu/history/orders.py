"""Products and orders (交易历史): the catalogue, single orders and bulk pushes from an ERP.

Amounts are Decimals quantized to 0.01: line amount = quantity × unit price − discount,
order total = the sum of its lines.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.models import ChangeLog
from kehu.core.records import record_create, record_delete, record_update
from kehu.core.signals import announce_customers_changed
from kehu.customers.scoping import CHANGE, customer_for, customer_ids_for
from kehu.history import cleaning
from kehu.history.models import Order, OrderLine, Product, ProductCategory

if TYPE_CHECKING:
    from kehu.customers.models import Customer

MAX_INGEST = 1000

# --- products -----------------------------------------------------------------


@transaction.atomic
def product_save(
    *, actor: User, data: dict[str, Any], origin: str, product: Product | None = None
) -> Product:
    """Create or change a catalogue item (admins and managers only); category by name."""
    if not can_manage_catalogue(actor):
        raise PermissionDenied(_("只有管理员和经理可以维护产品目录"))
    values = cleaning.clean_product(data, partial=product is not None)
    if "category" in values:
        name = values.pop("category")
        values["category_id"] = ProductCategory.objects.get_or_create(name=name)[0].pk if name else None
    sku_taken = Product.objects.filter(sku=values.get("sku")).exclude(pk=getattr(product, "pk", None))
    if "sku" in values and sku_taken.exists():
        raise ValidationError({"sku": [_("SKU“%(sku)s”已存在") % {"sku": values["sku"]}]})
    if product is None:
        return record_create(actor=actor, instance=Product(**values), origin=origin,
                             summary={"sku": [None, values["sku"]]})
    current = Product.objects.select_for_update().get(pk=product.pk)
    return record_update(actor=actor, instance=current, values=values, origin=origin)


def can_manage_catalogue(actor: User) -> bool:
    """Admins, and roles given the catalogue permission (the built-in manager)."""
    return access_for(actor).manages_catalogue


def products_by_ref(refs: list[Any]) -> dict[Any, Product]:
    """{id: product, sku: product} for every reference, in one query."""
    ids = {cleaning.as_id(r) for r in refs
           if isinstance(r, int) or (isinstance(r, str) and r.strip().isdigit())} - {None}
    skus = {str(r).strip() for r in refs if isinstance(r, str)}
    if not ids and not skus:
        return {}
    found: dict[Any, Product] = {}
    for product in Product.objects.filter(Q(pk__in=ids) | Q(sku__in=skus)):
        found[product.pk] = product
        found[product.sku] = product
    return found


def _line_refs(lines: Any) -> list[Any]:
    if not isinstance(lines, list | tuple):
        return []
    refs = []
    for line in lines:
        if isinstance(line, dict) and line.get("product") not in (None, ""):
            product = line["product"]
            refs.append(product.pk if hasattr(product, "pk") else product)
    return refs


# --- orders ---------------------------------------------------------------------


@transaction.atomic
def order_create(
    *, actor: User, customer: Customer | int, data: dict[str, Any], origin: str
) -> Order:
    customer = customer_for(actor, customer, CHANGE, lock=True)
    header, lines, total = clean_order(data, partial=False)
    _check_numbers_free([header], prefix=None)
    header["number"] = header.get("number") or new_order_number(header["ordered_on"])
    order = Order(customer=customer, total=total, **header)
    with _numbers_guard([header]):
        record_create(actor=actor, instance=order, origin=origin,
                      summary={"number": order.number, "total": str(total)})
    OrderLine.objects.bulk_create(OrderLine(order=order, **line) for line in lines)
    return order


@transaction.atomic
def order_update(
    *, actor: User, order: Order, data: dict[str, Any], origin: str,
    expected_version: int | None = None,
) -> Order:
    """Change the header; when `lines` is given, they replace the order's lines and its total."""
    header, lines, total = clean_order(data, partial=True)
    for field in ("number", "ordered_on", "status"):
        if field in header and not header[field]:
            raise ValidationError({field: [_("必填")]})
    if lines is not None:
        header["total"] = total

    def clean(current: Order) -> dict[str, Any]:
        _check_numbers_free([header], prefix=None, exclude=current.pk)
        return header

    def replace_lines(current: Order) -> dict[str, Any]:
        if lines is None:
            return {}
        OrderLine.objects.filter(order=current).delete()
        OrderLine.objects.bulk_create(OrderLine(order=current, **line) for line in lines)
        return {"lines": len(lines)}

    current = Order.objects.get_for(actor, order, CHANGE, lock=True)
    with _numbers_guard([header], exclude=current.pk):
        return record_update(actor=actor, instance=current, values=clean,
                             after_save=replace_lines, origin=origin,
                             expected_version=expected_version)


@transaction.atomic
def order_delete(
    *, actor: User, order: Order, origin: str, expected_version: int | None = None
) -> None:
    current = Order.objects.get_for(actor, order, CHANGE, lock=True)
    record_delete(actor=actor, instance=current, origin=origin, expected_version=expected_version)


def new_order_number(day) -> str:
    """SO20240501-3F9A2C1B: readable date, random tail (unique constraint catches the 1-in-4e9)."""
    return f"SO{day:%Y%m%d}-{secrets.token_hex(4).upper()}"


def clean_order(data: dict[str, Any], *, partial: bool, prefix: str = "lines"):
    """(header, lines or None, total or None), collecting header and line errors together."""
    errors: dict[str, list[str]] = {}
    header: dict[str, Any] = {}
    try:
        header = cleaning.clean_order_header(data, partial=partial)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    lines, total = None, None
    if "lines" in data or not partial:
        try:
            products = products_by_ref(_line_refs(data.get("lines")))
            lines, total = cleaning.clean_order_lines(data.get("lines"), products, prefix=prefix)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return header, lines, total


NUMBER_FIELDS = ("number", "external_number")


def number_taken(number: str) -> str:
    """What a clash with an existing order answers, whoever's order it is.

    Numbers are unique across the company, so a clash cannot be hidden; but the answer
    is the same whether the other order is on this customer or another, in the actor's
    scope or not — it never says where the order is (which would be an oracle for orders
    out of scope). A rep who can see the other order finds it by its number in their own
    lists; the message says the number is taken and what to do.
    """
    return _("单号“%(number)s”不能使用：已有订单使用这个单号（不一定在你的查看范围内），"
             "请换一个单号") % {"number": number}


def _check_numbers_free(headers: list[dict[str, Any]], *, prefix: str | None,
                        exclude: int | None = None, rows: list[int] | None = None) -> None:
    """Order numbers and external numbers are unique; `rows` maps each header to its row
    number in the batch. One query per kind of number."""
    errors = {}
    repeated = {"number": _("订单号在本批中重复"), "external_number": _("外部单号在本批中重复")}
    for field in NUMBER_FIELDS:
        wanted: dict[str, int] = {}
        for index, header in zip(rows or range(len(headers)), headers, strict=True):
            number = header.get(field)
            if number and number in wanted:
                errors[f"{prefix}.{index}.{field}"] = [repeated[field]]
            elif number:
                wanted[number] = index
        if not wanted:
            continue
        taken = (Order.objects.filter(**{f"{field}__in": wanted}).exclude(pk=exclude)
                 .values_list(field, flat=True))
        for number in taken:
            key = field if prefix is None else f"{prefix}.{wanted[number]}.{field}"
            errors[key] = [number_taken(number)]
    if errors:
        raise ValidationError(errors)


@contextmanager
def _numbers_guard(headers: list[dict[str, Any]], *, prefix: str | None = None,
                   exclude: int | None = None, rows: list[int] | None = None) -> Iterator[None]:
    """Write in a savepoint: a number a concurrent request took after our check is refused
    like any taken number (a ValidationError), not a unique-constraint error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        _check_numbers_free(headers, prefix=prefix, exclude=exclude, rows=rows)
        raise


# --- bulk ingestion from an ERP or a shop -----------------------------------------


@transaction.atomic
def orders_ingest(
    *, actor: User, orders: list[dict[str, Any]], origin: str
) -> dict[str, Any]:
    """Create many orders in one call, idempotent by `external_number`.

    Orders whose external number already exists (on the same customer) are reported,
    not duplicated and not changed. The batch is all-or-nothing: one bad row and
    nothing is written; the error names each bad row ("orders.17.lines.0.product").
    """
    if not access_for(actor).can_write:
        raise PermissionDenied(_("你只有查看权限"))
    if not isinstance(orders, list) or len(orders) > MAX_INGEST:
        raise ValidationError({"orders": [_("请提交一个订单列表，每次最多 %(n)d 条") % {"n": MAX_INGEST}]})
    batch = _IngestBatch(actor, orders)
    batch.validate()
    created = batch.write(origin)
    return {
        "created": len(created),
        "existing": len(batch.existing),
        "created_ids": [o.pk for o in created],
        "existing_ids": [batch.existing[n] for n in batch.existing_order],
    }


class _IngestBatch:
    """Validates a batch with a fixed number of queries, then writes it in bulk."""

    def __init__(self, actor: User, rows: list[dict[str, Any]]):
        self.actor = actor
        self.rows = [r if isinstance(r, dict) else {} for r in rows]
        self.errors: dict[str, list[str]] = {}
        self.valid: list[tuple[int, dict[str, Any], list[dict[str, Any]], Decimal]] = []
        self.existing: dict[str, int] = {}
        self.existing_order: list[str] = []
        self.valid_rows: list[int] = []  # the batch row number of each entry of self.valid

    def validate(self) -> None:
        customers = self._writable_customers()
        products = products_by_ref([ref for row in self.rows for ref in _line_refs(row.get("lines"))])
        known = self._known_external_numbers()
        seen: set[str] = set()
        for index, row in enumerate(self.rows):
            self._validate_row(index, row, customers, products, known, seen)
        if not self.errors:
            try:
                _check_numbers_free([v[1] for v in self.valid], prefix="orders",
                                    rows=self.valid_rows)
            except ValidationError as exc:
                self.errors.update(exc.message_dict)
        if self.errors:
            raise ValidationError(self.errors)

    def _validate_row(self, index, row, customers, products, known, seen) -> None:
        prefix = f"orders.{index}"
        errors: dict[str, list[str]] = {}
        customer_id = _int_or_none(row.get("customer"))
        if customer_id not in customers:
            errors[f"{prefix}.customer"] = [_("客户不存在或你无权编辑")]
        external = str(row.get("external_number") or "").strip()
        if not external:
            errors[f"{prefix}.external_number"] = [_("批量导入时外部单号必填")]
        elif external in seen:
            errors[f"{prefix}.external_number"] = [_("外部单号在本批中重复")]
        seen.add(external)
        if external in known and not errors:
            self._existing(prefix, external, known[external], customer_id, errors)
            if not errors:
                return
        try:
            header = cleaning.clean_order_header(row, partial=False)
            lines, total = cleaning.clean_order_lines(row.get("lines"), products,
                                                      prefix=f"{prefix}.lines")
        except ValidationError as exc:
            errors.update({k if k.startswith(prefix) else f"{prefix}.{k}": v
                           for k, v in exc.message_dict.items()})
        if errors:
            self.errors.update(errors)
        else:
            self.valid.append((customer_id, header, lines, total))
            self.valid_rows.append(index)

    def _existing(self, prefix, external, found, customer_id, errors) -> None:
        order_id, owner_customer = found
        if owner_customer != customer_id:
            errors[f"{prefix}.external_number"] = [number_taken(external)]
        else:
            self.existing[external] = order_id
            self.existing_order.append(external)

    def _writable_customers(self) -> set[int]:
        ids = {_int_or_none(r.get("customer")) for r in self.rows} - {None}
        return customer_ids_for(self.actor, ids, CHANGE)

    def _known_external_numbers(self) -> dict[str, tuple[int, int]]:
        numbers = {str(r.get("external_number") or "").strip() for r in self.rows} - {""}
        rows = Order.objects.filter(external_number__in=numbers)
        return {n: (pk, c) for n, pk, c in rows.values_list("external_number", "pk", "customer_id")}

    def write(self, origin: str) -> list[Order]:
        now = timezone.now()
        orders = [
            Order(customer_id=customer_id, total=total, created_by=self.actor, origin=origin,
                  created_at=now, updated_at=now,
                  **{**header, "number": header.get("number") or new_order_number(header["ordered_on"])})
            for customer_id, header, _lines, total in self.valid
        ]
        with _numbers_guard([header for _c, header, _l, _t in self.valid], prefix="orders",
                            rows=self.valid_rows):
            created = Order.objects.bulk_create(orders, batch_size=500)
        OrderLine.objects.bulk_create(
            [OrderLine(order=order, **line) for order, (_c, _h, lines, _t) in zip(created, self.valid,
                                                                                  strict=True)
             for line in lines], batch_size=1000)
        ChangeLog.objects.bulk_create(
            [ChangeLog(actor=self.actor, action="create", model=Order._meta.label_lower,
                       object_id=o.pk, customer_id=o.customer_id, origin=origin,
                       changes={"number": o.number, "external_number": o.external_number,
                                "total": str(o.total)}) for o in created], batch_size=1000)
        announce_customers_changed(o.customer_id for o in created)
        return created


def _int_or_none(value: Any) -> int | None:
    return cleaning.as_id(value)
