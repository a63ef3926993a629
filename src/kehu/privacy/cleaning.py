"""Turning what a person (a form, the API, a sheet) gives into a consent grant, every error
at once: the one validation path of the ledger (kehu.core.cleaning's Collector)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.selectors import user_get_active
from kehu.core.cleaning import Collector, choice_cleaner, clean_bool, text_cleaner
from kehu.core.errors import ValidationError
from kehu.history.cleaning import clean_datetime
from kehu.privacy.choices import Channel, LegalBasis, Purpose

# A grant recorded now may say it was given a little "in the future" by a clock apart.
CLOCK_SKEW = dt.timedelta(minutes=5)
FIELDS = ("contact", "purpose", "legal_basis", "notice_version", "channel", "sensitive",
          "granted_at", "collected_by", "note")



def _granted_at(value: Any) -> dt.datetime:
    moment = clean_datetime(value) or timezone.now()
    if moment > timezone.now() + CLOCK_SKEW:
        raise ValidationError(_("同意时间不能晚于现在"))
    return moment


def _collected_by(value: Any) -> Any:
    if value in (None, ""):
        return None
    user = user_get_active(value)
    if user is None:
        raise ValidationError(_("没有这个在职成员"))
    return user


def _contact_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**63):
        raise ValidationError(_("联系人应为编号"))
    return int(text)


def clean_grant(data: dict[str, Any]) -> dict[str, Any]:
    """The grant's values; a ValidationError naming every bad field otherwise. The contact's
    belonging to the customer is the service's check (it needs the customer)."""
    unknown = sorted(set(data) - set(FIELDS))
    collector = Collector()
    for name in unknown:
        collector.add_error(name, _("没有这个字段"))
    collector.run("contact", _contact_id, data.get("contact"))
    collector.run("purpose", choice_cleaner(Purpose, required=True), data.get("purpose"))
    collector.run("legal_basis", choice_cleaner(LegalBasis, required=True),
                  data.get("legal_basis", LegalBasis.CONSENT))
    collector.run("notice_version", text_cleaner(100, required=True), data.get("notice_version"))
    collector.run("channel", choice_cleaner(Channel, required=True), data.get("channel"))
    collector.run("sensitive", clean_bool, data.get("sensitive", False))
    collector.run("granted_at", _granted_at, data.get("granted_at"))
    collector.run("collected_by", _collected_by, data.get("collected_by"))
    collector.run("note", text_cleaner(255), data.get("note"))
    cleaned = collector.cleaned
    if cleaned.get("sensitive") and cleaned.get("legal_basis") not in (None, LegalBasis.CONSENT):
        collector.add_error("sensitive", _("敏感个人信息的单独同意只能以“同意”为法律依据"))
    return collector.result()


def clean_withdrawal_note(value: Any) -> str:
    try:
        return text_cleaner(255)(value)
    except ValidationError as exc:
        raise ValidationError({"note": exc.messages}) from exc
