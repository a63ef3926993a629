"""Consent states as fields of the one filter definition (customers/conditions.py):
`consent.marketing` (营销同意), `consent.service`, … — 已同意 / 已撤回 / 未知 — so the list's
filter builder, `?filter=`, saved segments ("可营销客户": `consent.marketing in [granted]`),
classification rules and exports all read the same rule (selectors.state_q).

Each state is an `IN` over a partial index of the ledger (current withdrawn rows, current
live rows) or its negation, never a walk of the customers for 勿营销. Measured
(`bench/consent.py`, 1,000,000 customers, 200,000 current marketing rows of which 20,000
withdrawn, a busy 2-core machine, warm): the admin's count of 勿营销 customers 20,000 in
0.04 s on SQLite and 0.20 s on PostgreSQL; 已同意 180,000 in 0.19 s / 0.44 s; 未知 (800,000,
most of the table) 0.68 s / 0.51 s; everyone but 勿营销 (the export's option) 0.30 s / 0.24 s
(bench/results/consent-1000k.md).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.customers.conditions import ConditionField, register_condition_field
from kehu.privacy.choices import ConsentState, Purpose
from kehu.privacy.selectors import state_q

LABELS = {Purpose.MARKETING: _("营销同意"), Purpose.SERVICE: _("服务同意"),
          Purpose.ANALYSIS: _("分析同意"), Purpose.THIRD_PARTY: _("向第三方提供同意"),
          Purpose.CROSS_BORDER: _("跨境传输同意")}


def _build(purpose: str) -> Any:
    def build(op: str, value: Any, viewer: Any) -> Q:
        if op in ("empty", "not_empty"):  # every customer is in one state or another
            return Q() if op == "not_empty" else Q(pk__in=[])
        states = set(value) if op == "in" else set(ConsentState.values) - set(value)
        return state_q(purpose, states)
    return build


def register() -> None:
    """Called from PrivacyConfig.ready."""
    for purpose in Purpose.values:
        register_condition_field(ConditionField(
            f"consent.{purpose}", LABELS[purpose], "choice", _build(purpose),
            tuple(ConsentState.choices)))
