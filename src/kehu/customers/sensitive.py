"""Which customer and contact attributes hold personal or ID-like data, and how each is masked.

The one table behind every rule about sensitive values: the selectors mask these
attributes for a role that sees them masked (`selectors.mask_for`), the forms refuse
to save a masked value back, and quick search matches them for such a viewer only
on a complete value (`search.search_filter`), so that search cannot be used to
read back, a digit at a time, what the page shows as 138****5678. A field added
here is covered by all three. Besides the role, a registered rule masks some customers
for everyone but admins (`register_masked_customers`: the pool's, until claimed).

It lives in a module of its own, below selectors, filters and search, so that
each of them can read it without importing the others.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from kehu.accounts.models import User
from kehu.accounts.policy import access_for

# attribute -> mask kind ("phone", "email", or "id" for any other ID-like value)
CUSTOMER_SENSITIVE: Mapping[str, str] = {
    "phones": "phone", "emails": "email", "wechat": "id", "credit_code": "id", "id_number": "id",
}
CONTACT_SENSITIVE: Mapping[str, str] = {"phones": "phone", "email": "email", "wechat": "id"}


def masked_fields(viewer: User | None, table: Mapping[str, str]) -> dict[str, str]:
    """The part of `table` that `viewer` sees masked: all of it for a masking role, else none."""
    return dict(table) if access_for(viewer).masks_sensitive else {}


# Customers whose values everyone but admins sees masked whatever their role, registered by
# apps above customers (the pool: its customers until claimed). Each is
# fn(viewer, customer_ids) -> the ids among them to mask; it is asked only about customers
# without an owner, so a page of owned customers costs no query.
MaskRule = Callable[[User | None, Collection[int]], set[int]]
_MASKED_CUSTOMERS: list[MaskRule] = []


# And the same customers as a subquery for quick search, fn(viewer) -> QuerySet | None
# (None: it masks nothing the viewer sees — then the search's SQL is unchanged).
MaskQuery = Callable[[User | None], Any]
_MASKED_QUERIES: list[MaskQuery] = []


def register_masked_customers(fn: MaskRule, query: MaskQuery | None = None) -> None:
    if fn not in _MASKED_CUSTOMERS:
        _MASKED_CUSTOMERS.append(fn)
    if query is not None and query not in _MASKED_QUERIES:
        _MASKED_QUERIES.append(query)


def masked_customer_queries(viewer: User | None) -> list[Any]:
    """Subqueries of the customers a registered rule masks for `viewer` (none for admins or
    a masking role, who see everything masked or nothing): quick search matches them only
    on a complete value, as it does every customer for a masking role."""
    access = access_for(viewer)
    if access.is_admin or access.masks_sensitive:
        return []
    return [ids for fn in _MASKED_QUERIES if (ids := fn(viewer)) is not None]


def customers_masked_for(viewer: User | None, unowned_ids: Collection[int]) -> set[int]:
    """Of these ownerless customers, those `viewer` sees masked by a registered rule."""
    if not unowned_ids or not _MASKED_CUSTOMERS or access_for(viewer).is_admin:
        return set()
    found: set[int] = set()
    for fn in _MASKED_CUSTOMERS:
        found |= fn(viewer, unowned_ids)
    return found


# --- sensitive personal information (敏感个人信息, PIPL art. 28) in custom fields -------------
# A custom field an admin marks `sensitive` is stricter than the table above: every viewer
# but an admin sees SENSITIVE_MASK in its place (list, card, API, exports — the selectors
# mask it), a role with `may_reveal` may reveal one value with a reason (customers/reveal.py,
# audited); only admins write it, and only while the customer has a live separate consent
# (PIPL art. 29) — which the consent ledger (privacy, an app above this one) answers through
# `register_separate_consent`.
SENSITIVE_MASK = "＊＊＊＊"

SeparateConsent = Callable[[int], bool]  # customer id -> has a live separate consent
_SEPARATE_CONSENT: list[SeparateConsent] = []


def sees_sensitive_pi(viewer: User | None) -> bool:
    return access_for(viewer).is_admin


def register_separate_consent(fn: SeparateConsent) -> None:
    if fn not in _SEPARATE_CONSENT:
        _SEPARATE_CONSENT.append(fn)


def has_separate_consent(customer_id: int | None) -> bool:
    """Whether the customer has a live separate consent; without a ledger, never."""
    return customer_id is not None and any(fn(customer_id) for fn in _SEPARATE_CONSENT)


def mask_sensitive_custom(viewer: User | None, rows: list) -> None:
    """Replace the values of sensitive custom fields in rows read by `attach_tags_and_custom`
    (which notes each row's `sensitive_keys`) for a viewer who may not see them."""
    if sees_sensitive_pi(viewer):
        return
    for row in rows:
        hidden = [key for key in getattr(row, "sensitive_keys", ()) if key in row.custom]
        for key in hidden:
            value = row.custom[key]
            row.custom[key] = [SENSITIVE_MASK] if isinstance(value, list) else SENSITIVE_MASK
        row.masked_custom = set(hidden)
