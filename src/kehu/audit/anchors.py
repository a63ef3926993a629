"""Anchors: the chain head written outside the database, so rolling the database back does
not pass for an intact chain.

The head row carries a MAC, so nobody without the key can forge one — but an old head row,
restored together with the entries before it, has a valid MAC and `verify` would pass while
everything after it is gone. So each seal run (every 10 minutes, `audit.seal`) appends the
head — "time last-id digest" — to a file outside the database (KEHU_AUDIT_ANCHOR_FILE;
default `<data dir>/audit/anchors.log`; point it at another disk or an append-only mount to
keep it out of reach of whoever holds the database). `verify` then checks every anchor: an
entry the file knows must still be there with the same digest, and the head may not be
older than the newest anchor. Anchors older than the retention's anchor are skipped (those
entries were pruned on purpose, and the prune is itself in the chain).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from kehu.audit.models import AuditEntry, AuditHead


@dataclass(frozen=True)
class Anchor:
    at: str
    last_id: int
    digest: str


def anchor_file() -> Path:
    configured = getattr(settings, "KEHU_AUDIT_ANCHOR_FILE", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit" / "anchors.log"


def anchor_write(head: AuditHead, at: str) -> None:
    """Append the head (nothing when the chain is empty or unchanged since the last line)."""
    if not head.last_id:
        return
    anchors = anchors_read()
    if anchors and anchors[-1].last_id == head.last_id:
        return
    path = anchor_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as file:
        file.write(f"{at} {head.last_id} {head.digest}\n")
        file.flush()
        os.fsync(file.fileno())


def anchor_now() -> None:
    """Write the current head (the seal job and `kehu audit seal` call this)."""
    from kehu.audit.chain import HEAD_PK, now

    head = AuditHead.objects.filter(pk=HEAD_PK).first()
    if head is not None:
        anchor_write(head, now().strftime("%Y-%m-%dT%H:%M:%SZ"))


def anchors_read() -> list[Anchor]:
    path = anchor_file()
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            found.append(Anchor(parts[0], int(parts[1]), parts[2]))
    return found


def anchors_check(head: AuditHead) -> tuple[int, str] | None:
    """(entry id, why) for the first anchor the database no longer matches, else None."""
    anchors = [a for a in anchors_read() if a.last_id > head.anchor_id]
    if not anchors:
        return None
    newest = max(anchors, key=lambda a: a.last_id)
    if newest.last_id > head.last_id:
        return newest.last_id, (f"the chain ends at #{head.last_id} but was at #{newest.last_id} "
                                f"on {newest.at} (anchor file): entries were removed and an "
                                "older head restored")
    digests: dict[int, str] = {}
    ids = [a.last_id for a in anchors]
    # 52,560 anchors a year: a retention past 15 months names more ids than PostgreSQL takes
    # in one query (65,535 parameters)
    for start in range(0, len(ids), 500):
        digests.update(AuditEntry.objects.filter(pk__in=ids[start:start + 500])
                       .values_list("pk", "digest"))
    for anchor in anchors:
        if digests.get(anchor.last_id) != anchor.digest:
            return anchor.last_id, f"entry #{anchor.last_id} differs from its anchor of {anchor.at}"
    return None


def anchors_set_aside(reason: str) -> Path | None:
    """A deliberate restore rolls the chain back on purpose: the anchors of the abandoned
    timeline are kept beside the file (for whoever investigates) and verification starts
    afresh from the restored head."""
    path = anchor_file()
    if not path.exists():
        return None
    from kehu.audit.chain import now

    kept = path.with_name(f"{path.name}.{reason}-{now().strftime('%Y%m%dT%H%M%SZ')}")
    path.rename(kept)
    return kept
