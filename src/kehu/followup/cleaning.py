"""Turning what people type into plans, tasks and calendar days, every error at once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from kehu.core.cleaning import Collector, choice_cleaner, clean_bool, int_between, text_cleaner
from kehu.core.errors import ValidationError
from kehu.followup.models import ESCALATION_TIERS, CalendarDay, TaskKind
from kehu.followup.talking import unknown_names
from kehu.history.choices import Channel
from kehu.history.cleaning import clean_required_date

MAX_CADENCE = 365


def _choices(name: str, pairs: Any) -> type[models.TextChoices]:
    """The model's own (value, label) pairs as a TextChoices (for `choice_cleaner` and the
    forms), so the values and words are written once, in the model."""
    return models.TextChoices(name, [(str(value).upper(), (value, label)) for value, label in pairs])


# The kinds a person adds (plan tasks come from plans).
PersonTaskKind = _choices("PersonTaskKind", [(kind.value, kind.label)
                                             for kind in (TaskKind.MANUAL, TaskKind.REMINDER)])
DayKind = _choices("DayKind", CalendarDay.KINDS)


def _required(cleaner: Any) -> Any:
    def clean(value: Any) -> Any:
        cleaned = cleaner(value)
        if cleaned in (None, ""):
            raise ValidationError(_("必填"))
        return cleaned

    return clean


def clean_cadence(value: Any) -> int:
    return int_between(1, MAX_CADENCE, message=_("应为 1 到 %(max)d 之间的整数（天）") % {
        "max": MAX_CADENCE})(value)


ESCALATION_FIELDS = tuple(column for _key, column, _label in ESCALATION_TIERS)
MAX_ESCALATION = 365


def clean_escalation(data: dict[str, Any]) -> dict[str, int]:
    """Days overdue before a task escalates, per tier: 0 (never) to 365; every error at once."""
    days = int_between(0, MAX_ESCALATION, message=_(
        "应为 0 到 %(max)d 之间的整数（天），0 表示不升级") % {"max": MAX_ESCALATION})
    collector = Collector()
    for name in ESCALATION_FIELDS:
        collector.run(name, days, data.get(name, ""))
    return collector.result()


def clean_points(value: Any) -> str:
    text = text_cleaner(2000)(value)
    unknown = unknown_names(text)
    if unknown:
        raise ValidationError(_("未知的占位符：%(names)s") % {
            "names": "、".join("{" + n + "}" for n in unknown)})
    return text


def plan_collector(data: dict[str, Any]) -> Collector:
    """name, cadence_days, channel, talking_points, is_active, collected: the service adds
    the errors of the target and the assignee (it knows who is asking), then `result()`."""
    collector = Collector()
    collector.run("name", _required(text_cleaner(100)), data.get("name"))
    collector.run("cadence_days", clean_cadence, data.get("cadence_days"))
    collector.run("channel", choice_cleaner(Channel), data.get("channel"))
    collector.run("talking_points", clean_points, data.get("talking_points"))
    collector.run("is_active", clean_bool, data.get("is_active", True))
    return collector


_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def clean_time(value: Any) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.time):
        return value
    match = _TIME.fullmatch(str(value).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValidationError(_("“%(value)s” 不是时间（例如 09:30）") % {"value": value})
    return dt.time(int(match[1]), int(match[2]))


def clean_task(data: dict[str, Any]) -> dict[str, Any]:
    """kind (manual | reminder), title, notes, channel, due_date, due_time."""
    collector = Collector()
    collector.run("kind", choice_cleaner(PersonTaskKind, required=True),
                  data.get("kind") or PersonTaskKind.MANUAL)
    collector.run("title", _required(text_cleaner(200)), data.get("title"))
    collector.run("notes", text_cleaner(2000), data.get("notes"))
    collector.run("channel", choice_cleaner(Channel), data.get("channel"))
    collector.run("due_date", clean_required_date, data.get("due_date"))
    collector.run("due_time", clean_time, data.get("due_time"))
    return collector.result()


def clean_calendar_day(data: dict[str, Any]) -> dict[str, Any]:
    collector = Collector()
    collector.run("date", clean_required_date, data.get("date"))
    collector.run("kind", choice_cleaner(DayKind, required=True), data.get("kind"))
    collector.run("name", text_cleaner(50), data.get("name"))
    return collector.result()
