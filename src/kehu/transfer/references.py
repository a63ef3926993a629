"""Which customer a row of an order or communication sheet belongs to.

A history sheet names its customer by 客户统一社会信用代码, 客户电话 or 客户 (the name);
the run's match keys say which to try first (default: credit code, phone, name — the
most certain first). The first kind that finds exactly one customer decides; a kind
that finds two refuses the row naming both (never a guess); none found refuses it with
one message for "no such customer" and "not yours", so an import never reveals whose a
name or a number is. Lookups go through the gate (CHANGE) a batch at a time
(`customers.bulk.customer_references`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.customers.bulk import customer_references
from kehu.customers.normalizers import normalize_credit_code, normalize_phone, split_phone_cell
from kehu.transfer.rows import RowShape

REF_FIELDS = {"credit_code": "customer.credit_code", "phone": "customer.phone", "name": "customer"}
REF_ORDER = ("credit_code", "phone", "name")  # the most certain first
REF_LABELS = {"credit_code": "统一社会信用代码", "phone": "电话", "name": "名称"}


@dataclass(frozen=True)
class CustomerRef:
    """The customer a row names: kind -> normalised value, in the run's priority order."""

    keys: dict[str, str]
    shown: str  # how the row names it, for messages


class CustomerResolver:
    """Resolves the customer references of a batch for `actor`."""

    def __init__(self, *, actor: User, shape: RowShape, match: list[str]) -> None:
        self.actor, self.shape = actor, shape
        self.order = [k for k in (match or REF_ORDER) if k in REF_FIELDS
                      and REF_FIELDS[k] in shape.columns]
        self.found: dict[tuple[str, str], dict[int, str]] = {}

    def reference(self, values: dict[str, Any], errors: dict[str, list[str]]) -> CustomerRef | None:
        """The row's reference, normalised; a malformed phone or code is the row's error."""
        keys: dict[str, str] = {}
        for kind in self.order:
            raw = str(values.get(REF_FIELDS[kind], "") or "").strip()
            if not raw:
                continue
            try:
                keys[kind] = _normalise(kind, raw)
            except ValidationError as exc:
                errors.setdefault(REF_FIELDS[kind], []).extend(exc.messages)
        if not keys and not errors:
            errors.setdefault("customer", []).append(_("没有填写客户（名称、电话或统一社会信用代码）"))
            return None
        shown = str(values.get("customer") or values.get("customer.credit_code")
                    or values.get("customer.phone") or "")
        return CustomerRef(keys, shown) if keys else None

    def load(self, refs: list[CustomerRef]) -> None:
        """Look up every reference of a batch at once."""
        self.found = customer_references(actor=self.actor, refs=[
            (kind, value) for ref in refs for kind, value in ref.keys.items()])

    def resolve(self, ref: CustomerRef) -> tuple[int, str] | tuple[None, str]:
        """(customer id, name), or (None, why not)."""
        for kind, value in ref.keys.items():
            hits = self.found.get((kind, value), {})
            if len(hits) == 1:
                return next(iter(hits.items()))
            if len(hits) > 1:
                names = "、".join(f"“{name}”(#{pk})" for pk, name in sorted(hits.items())[:5])
                return None, _("按%(key)s匹配到多个客户：%(names)s；请填写统一社会信用代码或电话区分") % {
                    "key": _(REF_LABELS[kind]), "names": names}
        return None, _("找不到客户“%(name)s”（不存在，或不在你可以修改的范围内）") % {"name": ref.shown}

    def column(self) -> str:
        """The header(s) naming the customer, for a problem's column."""
        return "、".join(self.shape.header_of(REF_FIELDS[k]) for k in self.order)


def _normalise(kind: str, raw: str) -> str:
    if kind == "credit_code":
        return normalize_credit_code(raw)
    if kind == "phone":
        numbers = split_phone_cell(raw)
        return normalize_phone(numbers[0]) if numbers else ""
    return raw
