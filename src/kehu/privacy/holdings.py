"""What Kehu holds on a person, table by table: the one list that access requests export
and erasures anonymise (个人信息权利请求, docs/architecture.md "Data-subject requests").

A `Holding` names a customer-bound model, its free-text fields and its JSON fields. An
erasure of a whole customer replaces each non-empty text with 已删除 and each JSON value with
{"erased": true}; an erasure of one contact does that to the rows of the contact
(`contact_field`) and, in the customer's other rows, replaces only the contact's own values
(its name, phones, e-mail). Rows, amounts, dates and choices stay, so counts and totals do
not move.

Apps register their holdings: the ones below privacy here (`register_builtin`), the ones above
(transfer, classification, pool, followup) from their AppConfig.ready — a lower app cannot
import a higher one. Whatever is not a plain text field (files on disk, rows that name a
customer by id rather than by key) is an `Eraser`: fn(target). The test
tests/privacy/test_holdings_cover_every_model.py fails on a customer-bound model with text
that is neither a holding nor listed there as holding nothing personal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _

REDACTED = "已删除"


@dataclass(frozen=True)
class Holding:
    model: str  # "app_label.Model"
    title: object  # the section's name in the export
    text: tuple[str, ...] = ()
    json: tuple[str, ...] = ()
    customer_field: str = "customer_id"
    contact_field: str | None = None

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)


@dataclass(frozen=True)
class Target:
    """What one erasure removes: a whole customer (`whole`), or some of its contacts."""

    customer_id: int
    contact_ids: tuple[int, ...]  # the erased contacts (all of the customer's when whole)
    whole: bool
    terms: tuple[str, ...]  # the person's own values: names, phones, e-mails, ids


# fn(target) -> how many things it erased; runs in the erasure's transaction.
Eraser = Callable[[Target], int]

_HOLDINGS: dict[str, Holding] = {}
_ERASERS: dict[str, Eraser] = {}


def register_holding(holding: Holding) -> None:
    _HOLDINGS[holding.model] = holding


def register_eraser(name: str, fn: Eraser) -> None:
    _ERASERS[name] = fn


def holdings() -> list[Holding]:
    return list(_HOLDINGS.values())


def erasers() -> dict[str, Eraser]:
    return dict(_ERASERS)


def register_builtin() -> None:
    """The holdings of the apps privacy stands on (customers, history, its own ledger).
    The customer row, its contacts, custom values, keys and attachments are erased by
    erasure.py itself: they are cleared, not redacted."""
    for holding in (
        Holding("customers.OwnershipTransfer", _("转移记录"), text=("reason",)),
        Holding("customers.CustomerQuality", _("数据质量"), json=("problems",)),
        Holding("history.Communication", _("沟通记录"),
                text=("subject", "content", "outcome", "next_step"), contact_field="contact_id"),
        Holding("history.Order", _("订单"), text=("notes",)),
        # Its choices (channel, time of day) stay: a choice names no one.
        Holding("history.Preference", _("需求与偏好"), text=("pain_points",)),
        Holding("history.Need", _("需求"), text=("content",)),
        Holding("history.Opportunity", _("商机"), text=("title", "close_reason")),
        Holding("history.Survey", _("满意度调查"), text=("comment",), contact_field="contact_id"),
        Holding("history.Ticket", _("投诉与工单"), text=("subject", "content", "resolution")),
        Holding("privacy.Consent", _("同意记录"),
                text=("contact_name", "note", "withdrawal_note"), contact_field="contact_id"),
    ):
        register_holding(holding)
