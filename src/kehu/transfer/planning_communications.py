"""What each row of a communication sheet (跟进记录) would do.

One row is one communication. Its values go through `history.cleaning.clean_communication`
(the web's and the API's cleaner); a sheet without a 方式 column logs 其他. The contact is
named, and must be one of the customer's contacts. A row equal to a communication the
customer has already — same moment, channel, subject and content — is in already
(unchanged), so a re-import changes nothing; a row repeating an earlier row of the file
joins it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kehu.customers.bulk import contacts_by_name
from kehu.history.cleaning import clean_communication
from kehu.history.imports import communication_keys
from kehu.transfer.mapping import translate_choice
from kehu.transfer.planning import Problem
from kehu.transfer.plans import HistoryPlan, HistoryPlanner, NewRecord, PendingRow

FIELDS = ("occurred_at", "channel", "direction", "subject", "content", "outcome", "next_step",
          "next_follow_up")


class CommunicationPlanner(HistoryPlanner):

    def clean(self, row: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
        raw = {k: translate_choice(k, row.values[k]) for k in FIELDS if k in row.values}
        raw.setdefault("channel", "other")
        if "occurred_at" not in raw:
            errors.setdefault("occurred_at", []).append(_("必填"))
        data = self.run(errors, lambda: clean_communication(raw)) or {}
        contact = str(row.values.get("contact", "") or "").strip()
        if contact:
            data["contact_name"] = contact
        return data

    def decide(self, batch: list[tuple[PendingRow, int, str]], plan: HistoryPlan) -> None:
        customer_ids = {customer_id for _item, customer_id, _name in batch}
        existing = communication_keys(customer_ids, [i.data["occurred_at"] for i, _c, _n in batch])
        contacts = contacts_by_name(customer_ids) if any(
            "contact_name" in item.data for item, _c, _n in batch) else {}
        pending: dict[tuple, int] = {}
        for item, customer_id, name in batch:
            data = dict(item.data)
            key = (customer_id, data["occurred_at"], data["channel"], data.get("subject", ""),
                   data.get("content", ""))
            contact = data.pop("contact_name", None)
            if contact is not None:
                if (customer_id, contact) not in contacts:
                    plan.problems.append((item.row, [Problem(
                        self.shape.header_of("contact"),
                        _("客户“%(customer)s”没有联系人“%(contact)s”：请先添加联系人，或清空这一格")
                        % {"customer": name, "contact": contact})]))
                    continue
                data["contact"] = contacts[(customer_id, contact)]
            if key in existing:
                plan.unchanged.append(item.row.number)
            elif key in pending or (self.seen is not None and hash(key) in self.seen):
                first = pending.get(key) or self.seen[hash(key)]  # type: ignore[index]
                plan.merged_rows[item.row.number] = first
            else:
                pending[key] = item.row.number
                if self.seen is not None:
                    self.seen[hash(key)] = item.row.number
                plan.creates.append(NewRecord([item.row.number], customer_id, name, data,
                                              data.get("subject") or str(data["occurred_at"])))
