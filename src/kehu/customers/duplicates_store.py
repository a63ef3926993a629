"""The stored duplicate pairs: the nightly job (`customers.jobs`) writes them, the
duplicates page reads them within the reader's scope and marks a pair "不是重复"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.errors import PermissionDenied
from kehu.core.masking import mask_value
from kehu.core.records import log_change
from kehu.customers.duplicates import Pair
from kehu.customers.models import Customer, CustomerKey, DuplicatePair
from kehu.customers.scoping import CHANGE
from kehu.customers.selectors import mask_for
from kehu.customers.sensitive import CUSTOMER_SENSITIVE

KEY_MASKS = {"phone": "phone", "email": "email"}  # a match key's mask kind (else ID-like)


def pairs_store(pairs: Iterable[Pair], *, now: Any) -> dict[str, int]:
    """Replace the open pairs with `pairs`; a dismissed pair keeps its status (and score)."""
    found = {(p.a, p.b): p for p in pairs}
    with transaction.atomic():
        dismissed = set(DuplicatePair.objects.filter(status=DuplicatePair.DISMISSED)
                        .values_list("a_id", "b_id"))
        DuplicatePair.objects.filter(status=DuplicatePair.OPEN).delete()
        fresh = [DuplicatePair(a_id=p.a, b_id=p.b, score=p.score, reasons=p.reasons,
                               found_at=now) for key, p in found.items() if key not in dismissed]
        DuplicatePair.objects.bulk_create(fresh, batch_size=1000)
    return {"pairs": len(found), "open": len(fresh), "dismissed": len(found) - len(fresh)}


@dataclass
class PairView:
    """A stored pair as the duplicates page shows it: both customers within scope."""

    pk: int
    a: Any
    b: Any
    score: float
    reasons: list[str]


def duplicate_pair_list(*, viewer: User, limit: int = 100) -> tuple[list[PairView], int]:
    """The open pairs whose customers are both live and in `viewer`'s scope, best first
    (scope inside the query: another rep's pair is never counted nor shown); and how many."""
    visible = Customer.objects.visible_to(viewer).values("pk")
    pairs = DuplicatePair.objects.filter(status=DuplicatePair.OPEN, a_id__in=visible,
                                         b_id__in=visible).order_by("-score", "a_id", "b_id")
    total = pairs.count()
    chosen = list(pairs[:limit])
    ids = {i for p in chosen for i in (p.a_id, p.b_id)}
    customers = list(Customer.objects.visible_to(viewer).filter(pk__in=ids).select_related("owner"))
    mask_for(viewer, customers, CUSTOMER_SENSITIVE)  # as the list shows them (the pool's too)
    by_id = {c.pk: c for c in customers}
    shown = [p for p in chosen if p.a_id in by_id and p.b_id in by_id]
    keys = keys_of([pk for pk, c in by_id.items() if getattr(c, "is_masked", False)])
    return [PairView(p.pk, by_id[p.a_id], by_id[p.b_id], p.score,
                     masked_reasons(p.reasons, keys.get(p.a_id, []) + keys.get(p.b_id, [])))
            for p in shown], total


def keys_of(customer_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The match keys (kind, value) of these customers: what a stored reason may name."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pk, kind, value in CustomerKey.objects.filter(customer_id__in=sorted(customer_ids)) \
            .values_list("customer_id", "kind", "value"):
        found[pk].append((kind, value))
    return found


def masked_reasons(reasons: list[str], keys: list[tuple[str, str]]) -> list[str]:
    """A pair's stored reasons ("电话相同：+8613812345678") as a viewer who sees one of its
    customers masked may read them: every key value of theirs masked as the card masks it.
    The finder wrote them in words, for everyone, once a night; the mask is the reader's."""
    masked = []
    for reason in reasons:
        for kind, value in sorted(keys, key=lambda key: -len(key[1])):
            reason = reason.replace(value, mask_value(KEY_MASKS.get(kind, "id"), value))
        masked.append(reason)
    return masked


def duplicate_pair_dismiss(*, actor: User, origin: str, pair_id: int) -> None:
    """Mark a pair "不是重复" (both customers must be in the actor's scope, else 404)."""
    if not access_for(actor).can_write:
        raise PermissionDenied(_("你只有查看权限"))
    pair = DuplicatePair.objects.filter(pk=pair_id, status=DuplicatePair.OPEN).first()
    visible = Customer.objects.visible_to(actor, CHANGE)
    if pair is None or visible.filter(pk__in=(pair.a_id, pair.b_id)).count() != 2:
        raise Http404
    pair.status, pair.dismissed_by = DuplicatePair.DISMISSED, actor
    pair.save(update_fields=["status", "dismissed_by"])
    log_change(actor=actor, action="dismiss_duplicate", instance=pair, origin=origin,
               customer_id=pair.a_id, changes={"a": pair.a_id, "b": pair.b_id})
