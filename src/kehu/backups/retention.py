"""Which scheduled backups to keep: the newest of each of the last N days that have one,
and the newest of each of the last M ISO weeks — the union; every other one goes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.utils import timezone

NAME = re.compile(r"^kehu-(\d{8}-\d{6})\.tar\.gz$")


def stamp_of(path: Path) -> dt.datetime | None:
    match = NAME.match(path.name)
    if not match:
        return None  # not ours (a file someone put there): never deleted
    naive = dt.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")  # noqa: DTZ007 (local wall time)
    return timezone.make_aware(naive)


def to_keep(stamps: list[dt.datetime], *, daily: int, weekly: int) -> set[dt.datetime]:
    newest_first = sorted(stamps, reverse=True)
    keep: set[dt.datetime] = set()
    for count, bucket in ((daily, lambda s: s.date()),
                          (weekly, lambda s: s.isocalendar()[:2])):
        seen: list[object] = []
        for stamp in newest_first:
            key = bucket(timezone.localtime(stamp))
            if key not in seen:
                if len(seen) == count:
                    break
                seen.append(key)
                keep.add(stamp)
    return keep


def prune(folder: Path, *, daily: int, weekly: int) -> list[Path]:
    """Delete the scheduled backups retention does not keep; returns what went."""
    ours = {p: s for p in folder.glob("kehu-*.tar.gz") if (s := stamp_of(p))}
    keep = to_keep(list(ours.values()), daily=daily, weekly=weekly)
    gone = sorted(p for p, s in ours.items() if s not in keep)
    for path in gone:
        path.unlink(missing_ok=True)
    return gone
