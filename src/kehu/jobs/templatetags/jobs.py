"""Template filters for job pages: durations and rates people read at a glance."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """"2 小时 5 分", "3 分 20 秒", "8 秒" (and English through the catalogue)."""
    if value is None:
        return "—"
    seconds = max(int(value.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d 小时 %(m)d 分") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d 分 %(s)d 秒") % {"m": minutes, "s": secs}
    return _("%(s)d 秒") % {"s": secs}


@register.filter
def per_second(rate: float | None) -> str:
    if rate is None:
        return ""
    return _("%(rate)s 个/秒") % {"rate": f"{rate:,.1f}" if rate < 100 else f"{rate:,.0f}"}
