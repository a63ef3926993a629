"""The hash chain: each entry's digest is HMAC-SHA256(key, previous digest + canonical JSON).

`append` is the only writer. It locks the head row (SELECT … FOR UPDATE; SQLite's IMMEDIATE
transactions already serialise writers) in the same transaction as the INSERT, so two
writers never chain to the same predecessor and id order is chain order. `verify` walks the
entries in id order from the anchor in batches and names the first that does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction

from kehu.audit.keys import audit_key
from kehu.audit.models import AuditEntry, AuditHead

BATCH = 2000
HEAD_PK = 1


def canonical(entry: AuditEntry) -> bytes:
    """The entry's content as bytes both databases give back identically (sorted keys, UTC
    time to the microsecond, the address as text)."""
    at = entry.at.astimezone(UTC) if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    body = {
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": entry.actor_id,
        "actor_name": entry.actor_name, "action": entry.action, "customer": entry.customer_id,
        "label": entry.label, "details": entry.details, "ip": entry.ip or None,
        "ua": entry.user_agent,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8")


def entry_digest(previous: str, entry: AuditEntry) -> str:
    return hmac.new(audit_key(), previous.encode("ascii") + b"\n" + canonical(entry),
                    hashlib.sha256).hexdigest()


def head_mac(head: AuditHead) -> str:
    text = (f"head:{head.last_id}:{head.digest}:{head.anchor_id}:{head.anchor_digest}:"
            f"{head.sealed_id}")
    return hmac.new(audit_key(), text.encode("ascii"), hashlib.sha256).hexdigest()


def lock_head() -> AuditHead:
    """The head row, locked until the caller's transaction ends (made on first use)."""
    head = AuditHead.objects.select_for_update().filter(pk=HEAD_PK).first()
    if head is None:
        head, _created = AuditHead.objects.get_or_create(pk=HEAD_PK)
        head = AuditHead.objects.select_for_update().get(pk=HEAD_PK)
    return head


def append(entry: AuditEntry) -> AuditEntry:
    """Chain and insert `entry` (its fields set, no digest yet) in the caller's transaction."""
    normalise(entry)
    with transaction.atomic():
        head = lock_head()
        entry.digest = entry_digest(head.digest, entry)
        entry.save(force_insert=True)
        head.last_id, head.digest = entry.pk, entry.digest
        head.mac = head_mac(head)
        head.save(update_fields=["last_id", "digest", "mac"])
    return entry


def normalise(entry: AuditEntry) -> AuditEntry:
    """Values as the database gives them back (JSON through its encoder), so the digest
    computed before the INSERT is the one verification recomputes from the row."""
    entry.details = json.loads(json.dumps(entry.details, ensure_ascii=False, default=str))
    if entry.at.tzinfo is None:
        entry.at = entry.at.replace(tzinfo=UTC)
    return entry


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    broken_id: int | None = None
    reason: str = ""
    sealed_rows: int = 0  # change-log rows checked against their seals


def _entries(after: int) -> Iterator[AuditEntry]:
    while True:
        batch = list(AuditEntry.objects.filter(pk__gt=after).order_by("pk")[:BATCH])
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].pk


def verify() -> Verdict:
    """Walk the chain from the anchor; the first entry whose digest does not follow from its
    predecessor is the broken one (changed, inserted, or the one after a deleted entry)."""
    head = AuditHead.objects.filter(pk=HEAD_PK).first()
    if head is None:
        if AuditEntry.objects.exists():
            first = AuditEntry.objects.order_by("pk").first()
            return Verdict(False, 0, first.pk, "no chain head")
        return Verdict(True, 0)
    if not hmac.compare_digest(head.mac or "", head_mac(head)) and head.last_id:
        return Verdict(False, 0, head.last_id, "the chain head was altered")
    from kehu.audit.redaction import overrides, redacted_mac
    from kehu.audit.sealing import check_seal

    redacted, reseals = overrides(head.anchor_id)  # what erasures rewrote (redaction.py)
    previous, count, last, sealed = head.anchor_digest, 0, head.anchor_id, 0
    for entry in _entries(head.anchor_id):
        if entry.pk > head.last_id:
            return Verdict(False, count, entry.pk, "inserted after the chain head")
        if entry.pk in redacted:
            if not hmac.compare_digest(redacted[entry.pk], redacted_mac(previous, entry)):
                return Verdict(False, count, entry.pk, _why(entry.pk, last) + " (erased entry)")
        elif not hmac.compare_digest(entry.digest, entry_digest(previous, entry)):
            return Verdict(False, count, entry.pk, _why(entry.pk, last))
        if entry.action == "sealed":
            problem = check_seal(entry, reseals.get(entry.pk))
            if problem:
                return Verdict(False, count, entry.pk, problem, sealed)
            sealed += entry.details["rows"]
        previous, count, last = entry.digest, count + 1, entry.pk
    if last != head.last_id or previous != head.digest:
        return Verdict(False, count, head.last_id, "entries at the end were deleted")
    from kehu.audit.anchors import anchors_check

    mismatch = anchors_check(head)
    if mismatch:
        return Verdict(False, count, mismatch[0], mismatch[1], sealed)
    return Verdict(True, count, sealed_rows=sealed)


def _why(pk: int, previous_pk: int) -> str:
    if pk != previous_pk + 1:
        return (f"changed or inserted by hand, or entries between #{previous_pk} and "
                f"#{pk} were deleted")
    return "changed or inserted by hand"


def now() -> datetime:
    return datetime.now(tz=UTC)
