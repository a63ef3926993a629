"""The one writer of `CustomerKey`: customers' normalised match keys (phones, e-mails,
credit code, ID number — the customer's own and its contacts').

Keys in the clear are set-based SQL, one statement per call, so the same function serves a
service writing one customer, the import writing a batch, the demo loader writing an id
range and the backfill migration over 1,000,000 customers. Values are read from the stored
columns, which the cleaning path already normalised (E.164 phones, e-mails, upper-case
codes); e-mails are lower-cased here once more so a key never depends on how it was typed.

Keys of encrypted kinds (`customers.encryption`: ID numbers always, phones, e-mails and
WeChat ids when chosen) cannot be computed in SQL: their columns are read through the
model (which opens them) and their blind indexes inserted in one statement per call.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from kehu.core.inserts import insert_rows
from kehu.customers.encryption import encrypted_kinds, id_number_column, stored_key
from kehu.customers.models import Contact, Customer, CustomerKey

KINDS = ("phone", "email", "credit_code", "id_number", "wechat")

# {cond_c}: the condition on the customer row `c`; {cond_t}: on the contact row `t`.
_SELECTS = {
    "phone": """
SELECT c.id, 'phone', j.value FROM customers_customer c, {phones_c} WHERE {cond_c} AND j.value <> ''
UNION SELECT t.customer_id, 'phone', j.value FROM customers_contact t, {phones_t}
      WHERE {cond_t} AND j.value <> ''""",
    "email": """
SELECT c.id, 'email', lower(j.value) FROM customers_customer c, {emails_c}
      WHERE {cond_c} AND j.value <> ''
UNION SELECT t.customer_id, 'email', lower(t.email) FROM customers_contact t
      WHERE {cond_t} AND t.email <> ''""",
    "credit_code": """
SELECT c.id, 'credit_code', upper(c.credit_code) FROM customers_customer c
      WHERE {cond_c} AND c.credit_code <> ''""",
}


def keys_refresh(customer_ids: Iterable[int]) -> None:
    """Rebuild the keys of these customers (after any write to them or their contacts)."""
    ids = sorted({int(i) for i in customer_ids})
    if len(ids) > 1 and ids[-1] - ids[0] == len(ids) - 1:
        # One id range (an import batch's new customers): a range condition, where 2,000
        # ids in IN lists cost the ORM's reading of the encrypted kinds 40,000 lookup
        # resolutions (profiled, 20,000 rows).
        keys_refresh_range(ids[0], ids[-1])
        return
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
    sealed = encrypted_kinds()
    parts = [sql for kind, sql in _SELECTS.items() if kind not in sealed]
    select = "\nUNION".join(parts).format(
        phones_c=elements.format("c.phones"), phones_t=elements.format("t.phones"),
        emails_c=elements.format("c.emails"),
        cond_c=f"c.id {condition}", cond_t=f"t.customer_id {condition}")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM customers_customerkey WHERE customer_id {condition}", params)
        if parts:  # `params` once for each time `select` names the condition
            cursor.execute(f"INSERT INTO customers_customerkey (customer_id, kind, value) {select}",
                           params * select.count(condition))
    _insert_blind(condition, params, sealed)


def _insert_blind(condition: str, params: list[int], sealed: frozenset[str]) -> None:
    """The keys of encrypted kinds: read through the models (opened), stored blind."""
    if not id_number_column():  # a backfill of an older migration: no ID numbers yet
        sealed = sealed - {"id_number"}
    if not sealed:
        return
    if condition.startswith("BETWEEN"):
        own = Customer.objects.filter(id__gte=params[0], id__lte=params[1])
        contacts = Contact.objects.filter(customer_id__gte=params[0], customer_id__lte=params[1])
    else:
        own = Customer.objects.filter(id__in=params)
        contacts = Contact.objects.filter(customer_id__in=params)
    keys: set[tuple[int, str, str]] = set()
    if sealed == {"id_number"}:  # the default: one query, of the people holding one
        own = own.exclude(id_number="")
    columns = ("pk", "phones", "emails", "wechat") + (("id_number",) if id_number_column() else ())
    for pk, phones, emails, wechat, *id_number in own.values_list(*columns):
        keys |= _blind(pk, sealed, phones, emails, wechat, id_number[0] if id_number else "")
    if sealed != {"id_number"}:
        for pk, phones, email, wechat in contacts.values_list("customer_id", "phones", "email",
                                                              "wechat"):
            keys |= _blind(pk, sealed, phones, [email], wechat, "")
    if keys:
        insert_rows(CustomerKey, ["customer_id", "kind", "value"], sorted(keys))


def _blind(pk: int, sealed: frozenset[str], phones, emails, wechat: str,
           id_number: str) -> set[tuple[int, str, str]]:
    values = {"phone": phones or [], "email": [e for e in emails or [] if e],
              "wechat": [wechat] if wechat else [], "id_number": [id_number] if id_number else []}
    return {(pk, kind, stored_key(kind, value)) for kind in sealed for value in values[kind]
            if value}
