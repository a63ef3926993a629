"""Marks of customers whose derived data (classes, quality scores) must be recomputed.

A mark table has `customer_id` (primary key) and `marked_at`. A writer marks the ids it
touched inside its own transaction (one upsert: atomic with the write, so a crash loses
neither or both); a job takes the oldest marks, recomputes, and clears only the marks it
read — one set again since by a newer write stays for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone


def marks_set(model: Any, ids: Iterable[int]) -> None:
    now = timezone.now()
    model.objects.bulk_create([model(customer_id=pk, marked_at=now) for pk in ids],
                              update_conflicts=True, unique_fields=["customer_id"],
                              update_fields=["marked_at"], batch_size=1000)


def marks_take(model: Any, limit: int = 500) -> tuple[list[int], Any]:
    """The oldest marked customers and the moment they were read."""
    read_at = timezone.now()
    ids = list(model.objects.filter(marked_at__lte=read_at).order_by("marked_at")
               .values_list("customer_id", flat=True)[:limit])
    return ids, read_at


def marks_clear(model: Any, ids: list[int], read_at: Any) -> None:
    """Clear the marks that were read; one set again since (a newer write) stays."""
    model.objects.filter(customer_id__in=ids, marked_at__lte=read_at).delete()
