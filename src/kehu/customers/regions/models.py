"""The official division list (行政区划) as a table: one row per province, city and county."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """One division of the GB/T 2260 list: a province (1), a city (2) or a county-level
    district (3), with the short name people write (广东, 深圳, 南山, 大理, 内蒙古).

    Loaded from the bundled snapshot by migration 0013 and replaced whole by
    `kehu regions update FILE`; the matcher reads it once per process (`regions.index`)."""

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    short_name = models.CharField(_("简称"), max_length=64, blank=True)
    # A code, not a foreign key: a snapshot is swapped in one transaction, rows of all
    # levels at once, and `snapshot.validate` has checked every parent exists.
    parent_code = models.CharField(max_length=6, blank=True, db_index=True)
    level = models.PositiveSmallIntegerField(_("级别"))

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RegionSource(models.Model):
    """The one row saying which snapshot the Region table holds: its date, where it came
    from and its licence, and when it was loaded (the matcher re-reads the table when the
    load time changes)."""

    as_of = models.CharField(max_length=32)
    source = models.TextField()
    licence = models.TextField(blank=True)
    loaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"regions as of {self.as_of}"
