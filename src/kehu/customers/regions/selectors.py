"""What the division table holds now: reference data, the same for everyone signed in."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from kehu.accounts.models import User
from kehu.customers.regions.models import Region, RegionSource


def regions_info(*, viewer: User) -> dict[str, Any]:
    """The snapshot the table holds: its date, source, licence and counts per level
    (`viewer` by the rule for reads; every viewer gets the same answer)."""
    source = RegionSource.objects.first()
    counts = {level: 0 for level in (1, 2, 3)}
    counts.update(Region.objects.order_by().values("level").annotate(n=Count("code"))
                  .values_list("level", "n"))
    return {"as_of": source.as_of if source else "", "source": source.source if source else "",
            "licence": source.licence if source else "",
            "loaded_at": source.loaded_at if source else None,
            "provinces": counts[1], "cities": counts[2], "districts": counts[3],
            "total": sum(counts.values())}
