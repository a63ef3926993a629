"""Replacing the division list with a newer snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.records import log_change
from kehu.core.signals import announce_customers_changed
from kehu.customers.regions import conditions, index, loading, snapshot
from kehu.customers.regions.models import Region, RegionSource
from kehu.customers.regions.selectors import regions_info


def regions_update(*, actor: User, origin: str, path: Path | str) -> dict[str, Any]:
    """Load a newer snapshot file (same format as the bundled one) into the Region table and
    match every customer's region text against it again — one transaction: a bad file, or
    a failure halfway, leaves the old list and the customers as they were.

    The backfill is raw SQL, so it announces the customers it changed, like every set-based
    writer: data quality re-validates them and classification re-runs their rules (each
    marks them in this transaction and starts its debounced refresh job after the commit)."""
    if not (actor.is_system or access_for(actor).is_admin):
        raise PermissionDenied(_("只有管理员可以更新行政区划"))
    new = snapshot.read(path)  # checked before anything is touched
    with transaction.atomic():
        _refuse_if_conditions_lose_codes(new)
        before = regions_info(viewer=actor)
        loading.snapshot_load(new, region_model=Region, source_model=RegionSource)
        changed = loading.customers_fill(index=index.RegionIndex(new.rows, as_of=new.as_of))
        announce_customers_changed(changed)
        after = regions_info(viewer=actor)
        log_change(actor=actor, action="regions_update", instance=RegionSource.objects.get(),
                   origin=origin, changes={"as_of": [before["as_of"], after["as_of"]],
                                           "regions": [before["total"], after["total"]],
                                           "customers_changed": len(changed)})
    index.forget()
    return {**after, "customers_changed": len(changed)}


def _refuse_if_conditions_lose_codes(new: snapshot.Snapshot) -> None:
    """A saved condition (a segment, a classification rule) naming a code the new list drops
    would stop parsing, and the jobs running it with it: those are changed first."""
    missing = conditions.saved_conditions_missing({row[0] for row in new.rows})
    if missing:
        raise ValidationError({"file": [
            _("%(what)s的条件用到了新版区划中没有的代码 %(codes)s，请先修改它") % {
                "what": what, "codes": "、".join(codes)} for what, codes in missing]})
