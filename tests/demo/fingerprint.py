"""What a demo run wrote, in a form that compares across runs and resumes.

Customers are named by their place in the run (`id - first_id`), so two runs that own
different id ranges still compare; orders by their number (which carries the order id:
compare runs that each start on a database without orders).
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from kehu.customers.models import Contact, Customer
from kehu.history.models import (
    Communication,
    Need,
    Opportunity,
    Order,
    OrderLine,
    Preference,
    Survey,
    Ticket,
)

HISTORY = (Order, OrderLine, Communication, Opportunity, Need, Preference, Survey, Ticket)


def fingerprint(first_id: int) -> dict[str, Any]:
    """Counts, and the rows that matter, of every demo record (customers from `first_id` on)."""
    def at(pk: int) -> int:
        return pk - first_id

    customers = [
        (at(c.pk), c.kind, c.name, c.phones, c.emails, c.owner.username, c.created_at,
         c.deleted_at, sorted(t.name for t in c.tags.all()))
        for c in Customer.objects.select_related("owner").prefetch_related("tags").order_by("pk")]
    contacts = [(at(customer), name, phones, primary) for customer, name, phones, primary in
                Contact.objects.order_by("customer_id", "pk")
                .values_list("customer_id", "name", "phones", "is_primary")]
    orders = [(at(customer), *rest) for customer, *rest in Order.objects.order_by("pk").values_list(
        "customer_id", "number", "ordered_on", "status", "total")]
    lines = list(OrderLine.objects.order_by("order_id", "pk").values_list(
        "order__number", "product__sku", "quantity", "amount"))
    calls = [(at(customer), *rest) for customer, *rest in Communication.objects.order_by("pk")
             .values_list("customer_id", "occurred_at", "subject")]
    deals = [(at(customer), *rest) for customer, *rest in Opportunity.objects.order_by("pk")
             .values_list("customer_id", "title", "amount", "stage__name")]
    counts = {"customers": len(customers), "contacts": len(contacts)} | {
        model.__name__: model.objects.count() for model in HISTORY}
    return {"counts": counts, "customers": customers, "contacts": contacts, "orders": orders,
            "lines": lines, "communications": calls, "opportunities": deals}


def wipe() -> None:
    """Remove the demo customers and everything hanging off them (the team stays)."""
    for model in HISTORY:
        model.objects.all().delete()
    Customer.objects.all().delete()


def index_definitions(models) -> list[tuple]:
    """Every index of these models' tables, as the database describes it."""
    tables = [model._meta.db_table for model in models]
    marks = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                           f"AND tbl_name IN ({marks})", tables)
        else:
            cursor.execute(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({marks})",
                           tables)
        return sorted(cursor.fetchall())
