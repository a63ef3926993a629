"""Erasing a person from the audit trail and the change log without breaking `verify`.

An erasure (个人信息删除, privacy.erasure) must leave no trace of the person's name, phones or
e-mails — the trail included — yet the trail must stay tamper-evident. Both hold because the
erasure itself is a chained entry (`erased`) that pins what it changed:

- **Audit entries** about the person are rewritten in place (label → "已删除客户 #id",
  details → `{"erased": true}`; an entry that only mentions one of the person's values, a
  search for the name, gets that value replaced). Their digests stay as they were, so the
  next entry still chains to them; what verification can no longer recompute — the digest
  from the old content — the `erased` entry replaces with a MAC over (the predecessor's
  digest, the entry as rewritten, its digest). `verify` checks that MAC instead for those
  ids: a later change to a rewritten entry, or deleting the entry before it, still breaks.
- **Change-log rows** of the person get `changes` → `{"erased": true}` (the action, the
  model and the time stay). A sealed range they sit in would no longer match its seal, so
  the `erased` entry records the range's new count and SHA-256, and `verify` checks the
  seal against the newest such figure.

`verify` reads the overrides of every `erased` entry since the anchor first (a handful of
rows); a forged `erased` entry fails its own digest when the walk reaches it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import JSONField, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from kehu.audit import chain
from kehu.audit.keys import audit_key
from kehu.audit.models import Action, AuditEntry
from kehu.audit.sealing import _range, rows_hash
from kehu.core.models import ChangeLog

ERASED_DETAILS = {"erased": True}
MASK = "***"


def redacted_mac(previous: str, entry: AuditEntry) -> str:
    """The MAC an `erased` entry keeps for an entry it rewrote (see the module's docstring)."""
    message = (b"redacted\n" + previous.encode("ascii") + b"\n" + chain.canonical(entry)
               + b"\n" + entry.digest.encode("ascii"))
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def scrub(value: Any, terms: Sequence[str]) -> Any:
    """`value` with every occurrence of each term replaced by ***, through dicts and lists."""
    if isinstance(value, str):
        for term in terms:
            value = value.replace(term, MASK)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, terms) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, terms) for v in value]
    return value


def matching(rows: QuerySet, fields: Iterable[str], terms: Sequence[str]) -> QuerySet:
    """The rows whose text or JSON fields contain any term. JSON is compared as text (on
    PostgreSQL `contains` would mean JSON containment), in both forms it may be stored in:
    as is, and with \\uXXXX escapes (Django's encoder on SQLite)."""
    terms = [t for t in terms if t]
    if not terms:
        return rows.none()
    names: list[str] = []
    for field in fields:
        if isinstance(rows.model._meta.get_field(field), JSONField):
            rows = rows.annotate(**{f"_{field}_text": Cast(field, TextField())})
            names.append(f"_{field}_text")
        else:
            names.append(field)
    query = Q()
    for term in terms:
        for form in {term, json.dumps(term)[1:-1]}:
            for name in names:
                query |= Q(**{f"{name}__contains": form})
    return rows.filter(query)


def redact_audit(*, customer_ids: Sequence[int], terms: Sequence[str],
                 label: str) -> dict[str, str]:
    """Rewrite the entries about these customers and those naming any term; returns
    {entry id: redacted MAC} for the `erased` entry. Runs in the caller's transaction, under
    the chain's head lock (so no entry is appended between the rewrite and its MAC)."""
    # The text scan reads the whole trail (1.1 s a million entries for five terms, SQLite,
    # measured with sqlite3 on this machine): done before the head lock, which every request
    # recording an entry waits for; under the lock only the entries appended since.
    upto = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = set(matching(AuditEntry.objects.filter(pk__lte=upto), ["label", "details"], terms)
              .values_list("pk", flat=True))
    chain.lock_head()
    ids |= set(matching(AuditEntry.objects.filter(pk__gt=upto), ["label", "details"], terms)
               .values_list("pk", flat=True))
    ids |= set(AuditEntry.objects.filter(customer_id__in=list(customer_ids))
               .values_list("pk", flat=True))
    rows = list(AuditEntry.objects.filter(pk__in=ids).exclude(action=Action.ERASED)
                .order_by("pk"))
    macs: dict[str, str] = {}
    for entry in rows:
        if entry.customer_id in customer_ids:
            entry.label = label % {"id": entry.customer_id}
            entry.details = dict(ERASED_DETAILS)
        else:
            entry.label, entry.details = scrub(entry.label, terms), scrub(entry.details, terms)
        chain.normalise(entry)
        AuditEntry.objects.filter(pk=entry.pk).update(label=entry.label, details=entry.details)
        previous = (AuditEntry.objects.filter(pk__lt=entry.pk).order_by("-pk")
                    .values_list("digest", flat=True).first())
        if previous is None:
            previous = chain.lock_head().anchor_digest
        macs[str(entry.pk)] = redacted_mac(previous, entry)
    return macs


def redact_changes(erase_ids: Sequence[int], *, scrub_customer: int | None = None,
                   terms: Sequence[str] = ()) -> tuple[int, dict[str, dict[str, Any]]]:
    """Set `changes` of the `erase_ids` rows to {"erased": true}, and scrub the terms out of
    the other rows of `scrub_customer`; returns how many rows changed and the new figures
    of each seal whose range holds one of them, {seal entry id: {"rows", "sha256"}}."""
    ids = set(erase_ids)
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        ChangeLog.objects.filter(pk__in=ordered[start:start + 500]).update(
            changes=ERASED_DETAILS)
    if scrub_customer is not None:
        mentions = matching(ChangeLog.objects.filter(customer_id=scrub_customer), ["changes"],
                            terms).exclude(pk__in=ordered)
        for row in mentions:
            ChangeLog.objects.filter(pk=row.pk).update(changes=scrub(row.changes, terms))
            ids.add(row.pk)
    return len(ids), _reseal(sorted(ids))


def _reseal(ids: list[int]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    seals = AuditEntry.objects.filter(action=Action.SEALED, details__first__lte=ids[-1],
                                      details__last__gte=ids[0]).order_by("pk")
    figures: dict[str, dict[str, Any]] = {}
    for seal in seals:
        first, last = seal.details["first"], seal.details["last"]
        if any(first <= pk <= last for pk in ids):
            count, digest = rows_hash(_range(first, last))
            figures[str(seal.pk)] = {"rows": count, "sha256": digest}
    return figures


def record_erasure(*, actor: Any, customer_id: int | None, label: str,
                   details: dict[str, Any]) -> AuditEntry:
    from kehu.audit.services import record

    return record(actor, Action.ERASED, customer_id=customer_id, label=label, details=details)


def overrides(after: int) -> tuple[dict[int, str], dict[int, dict[str, Any]]]:
    """What the `erased` entries since the anchor pinned: ({entry id: redacted MAC},
    {seal entry id: {"rows", "sha256"}}), the newest figure of each seal winning."""
    redacted: dict[int, str] = {}
    reseals: dict[int, dict[str, Any]] = {}
    for details in (AuditEntry.objects.filter(action=Action.ERASED, pk__gt=after)
                    .order_by("pk").values_list("details", flat=True)):
        redacted.update({int(k): v for k, v in (details.get("redacted") or {}).items()})
        reseals.update({int(k): v for k, v in (details.get("resealed") or {}).items()})
    return redacted, reseals


def erased_label() -> str:
    return _("已删除客户 #%(id)s")
