"""The change log (core.models.ChangeLog: every field-level before / after) made
tamper-evident without a second copy: every few minutes a `sealed` audit entry records a
SHA-256 over a range of change-log rows (id, time, actor, origin, action, model, object,
customer, changes — as the database gives them back). The entry itself is in the HMAC
chain, so `verify` re-reads each sealed range and any row changed, deleted or inserted in
it since shows as a broken seal.

Rows are sealed once they are SEAL_LAG old, so a transaction that took an id and commits a
little later is not left out of a range already sealed (PostgreSQL hands out ids before
commit). Cost: none per request; one read of the new rows per run (job `audit.seal`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from kehu.audit import chain
from kehu.audit.models import Action, AuditEntry
from kehu.core.models import ChangeLog

SEAL_LAG = timedelta(minutes=10)
SEAL_BATCH = 2000
FIELDS = ("id", "at", "actor_id", "origin", "action", "model", "object_id", "customer_id",
          "changes")


def _moment(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rows_hash(rows: Iterable[tuple]) -> tuple[int, str]:
    """(count, SHA-256) of change-log rows as tuples in FIELDS order, in id order."""
    digest, count = hashlib.sha256(), 0
    for row in rows:
        values = dict(zip(FIELDS, row, strict=True))
        values["at"] = _moment(values["at"])
        digest.update(json.dumps(values, sort_keys=True, ensure_ascii=False, default=str,
                                 separators=(",", ":")).encode("utf-8") + b"\n")
        count += 1
    return count, digest.hexdigest()


def _range(first: int, last: int) -> Iterable[tuple]:
    return (ChangeLog.objects.filter(pk__gte=first, pk__lte=last).order_by("pk")
            .values_list(*FIELDS).iterator(chunk_size=2000))


def seal_changes(*, now: datetime | None = None, batch: int = SEAL_BATCH) -> int:
    """Seal the change-log rows written before now − SEAL_LAG that no seal covers yet, a
    batch per entry; returns how many rows were sealed."""
    cutoff, sealed = (now or chain.now()) - SEAL_LAG, 0
    while True:
        with transaction.atomic():
            head = chain.lock_head()
            ids = list(ChangeLog.objects.filter(pk__gt=head.sealed_id, at__lt=cutoff)
                       .order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                return sealed
            first, last = head.sealed_id + 1, ids[-1]
            count, digest = rows_hash(_range(first, last))
            chain_record(first, last, count, digest)
            head = chain.lock_head()
            head.sealed_id = last
            head.mac = chain.head_mac(head)
            head.save(update_fields=["sealed_id", "mac"])
            sealed += count


def chain_record(first: int, last: int, count: int, digest: str) -> AuditEntry:
    from kehu.audit.services import record

    return record(None, Action.SEALED, label=_("变更日志 #%(a)s–#%(b)s") % {"a": first, "b": last},
                  details={"first": first, "last": last, "rows": count, "sha256": digest})


def check_seal(entry: AuditEntry, resealed: dict | None = None) -> str:
    """Empty when the change-log rows the `sealed` entry covers are as they were sealed —
    or as a later erasure left them (`resealed`, its figures: redaction.py) — else what
    is wrong."""
    first, last = entry.details["first"], entry.details["last"]
    expected = resealed or entry.details
    count, digest = rows_hash(_range(first, last))
    if count != expected["rows"]:
        return (f"change-log rows #{first}–#{last}: {expected['rows']} sealed, {count} "
                f"now (deleted or inserted by hand)")
    if digest != expected["sha256"]:
        return f"change-log rows #{first}–#{last} changed since they were sealed"
    return ""
