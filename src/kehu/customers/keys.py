"""The one writer of `CustomerKey`: customers' normalised match keys (phones, e-mails,
credit code — the customer's own and its contacts').

Set-based SQL, one statement per call, so the same function serves a service writing one
customer, the import writing a batch, the demo loader writing an id range and the
backfill migration over 1,000,000 customers. Values are read from the stored columns,
which the cleaning path already normalised (E.164 phones, e-mails, upper-case codes);
e-mails are lower-cased here once more so a key never depends on how it was typed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

KINDS = ("phone", "email", "credit_code")

# {cond_c}: the condition on the customer row `c`; {cond_t}: on the contact row `t`.
_SELECT = """
SELECT c.id, 'phone', j.value FROM customers_customer c, {phones_c} WHERE {cond_c} AND j.value <> ''
UNION SELECT t.customer_id, 'phone', j.value FROM customers_contact t, {phones_t}
      WHERE {cond_t} AND j.value <> ''
UNION SELECT c.id, 'email', lower(j.value) FROM customers_customer c, {emails_c}
      WHERE {cond_c} AND j.value <> ''
UNION SELECT t.customer_id, 'email', lower(t.email) FROM customers_contact t
      WHERE {cond_t} AND t.email <> ''
UNION SELECT c.id, 'credit_code', upper(c.credit_code) FROM customers_customer c
      WHERE {cond_c} AND c.credit_code <> ''
"""


def keys_refresh(customer_ids: Iterable[int]) -> None:
    """Rebuild the keys of these customers (after any write to them or their contacts)."""
    ids = sorted({int(i) for i in customer_ids})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        _rebuild(f"IN ({marks})", chunk)


def keys_refresh_range(first: int, last: int) -> None:
    """Rebuild the keys of customers first..last (ids; the demo loader, the backfill)."""
    _rebuild("BETWEEN %s AND %s", [first, last])


def _rebuild(condition: str, params: list[int]) -> None:
    elements = ("jsonb_array_elements_text({0}) AS j(value)" if connection.vendor == "postgresql"
                else "json_each({0}) AS j")
    select = _SELECT.format(
        phones_c=elements.format("c.phones"), phones_t=elements.format("t.phones"),
        emails_c=elements.format("c.emails"),
        cond_c=f"c.id {condition}", cond_t=f"t.customer_id {condition}")
    # The placeholders of `select` in order: 5 customer/contact conditions.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM customers_customerkey WHERE customer_id {condition}", params)
        cursor.execute(f"INSERT INTO customers_customerkey (customer_id, kind, value) {select}",
                       params * 5)
