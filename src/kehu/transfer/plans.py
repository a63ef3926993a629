"""The plan of a batch of order or communication rows, and what their planners share.

A history row never updates: it creates a record, is found already in (unchanged — so a
re-import changes nothing), repeats an earlier row of the file (joined), or is refused.
Customers are found by `references.CustomerResolver`; each planner cleans its values
with the history's own cleaners (one cleaning path with the web and the API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.transfer.planning import Problem
from kehu.transfer.references import CustomerRef, CustomerResolver
from kehu.transfer.rows import RawRow, RowShape


@dataclass
class NewRecord:
    """One order or communication to create from one or more rows (an order's lines)."""

    rows: list[int]
    customer_id: int
    customer_name: str
    data: dict[str, Any]  # what the history's service takes
    label: str  # the order number or the subject, for the preview


@dataclass
class HistoryPlan:
    creates: list[NewRecord] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    merged_rows: dict[int, int] = field(default_factory=dict)  # row -> the row it repeats
    problems: list[tuple[RawRow, list[Problem]]] = field(default_factory=list)

    def outcomes(self) -> dict[str, list[tuple[int, str, list[str]]]]:
        """outcome -> [(row, what, fields)] for the preview's counts and examples."""
        repeats = [(row, _("与第 %(row)d 行相同") % {"row": first}, [])
                   for row, first in self.merged_rows.items()]
        lines = [(row, _("第 %(row)d 行订单“%(number)s”的明细") % {"row": r.rows[0],
                                                              "number": r.label}, [])
                 for r in self.creates for row in r.rows[1:]]
        return {"created": [(r.rows[0], f"{r.customer_name} · {r.label}", [])
                            for r in self.creates],
                "updated": [],
                "unchanged": [(row, "", []) for row in self.unchanged],
                "merged": repeats + lines}


@dataclass
class PendingRow:
    """A row whose values passed the cleaners, waiting for its customer."""

    row: RawRow
    ref: CustomerRef
    data: dict[str, Any]


class HistoryPlanner:
    """Cleans rows, finds their customers a batch at a time; subclasses decide."""

    def __init__(self, *, actor: User, shape: RowShape, match: list[str]) -> None:
        self.actor, self.shape = actor, shape
        self.customers = CustomerResolver(actor=actor, shape=shape, match=match)
        self.seen: dict[Any, int] | None = None  # the dry run's memory of the file

    def clean(self, row: RawRow, errors: dict[str, list[str]]) -> dict[str, Any]:
        raise NotImplementedError

    def decide(self, batch: list[tuple[PendingRow, int, str]], plan: HistoryPlan) -> None:
        raise NotImplementedError

    def plan(self, rows: list[RawRow]) -> HistoryPlan:
        plan = HistoryPlan()
        cleaned: list[PendingRow] = []
        for row in rows:
            errors: dict[str, list[str]] = {}
            ref = self.customers.reference(row.values, errors)
            data = self.clean(row, errors)
            if errors or ref is None:
                plan.problems.append((row, self.problems(errors)))
            else:
                cleaned.append(PendingRow(row, ref, data))
        self.customers.load([c.ref for c in cleaned])
        found: list[tuple[PendingRow, int, str]] = []
        for item in cleaned:
            customer_id, name = self.customers.resolve(item.ref)
            if customer_id is None:
                plan.problems.append((item.row, [Problem(self.customers.column(), name)]))
            else:
                found.append((item, customer_id, name))
        self.decide(found, plan)
        return plan

    def problems(self, errors: dict[str, list[str]]) -> list[Problem]:
        return [Problem(self.shape.header_of(key), "；".join(messages))
                for key, messages in errors.items()]

    @staticmethod
    def run(errors: dict[str, list[str]], clean: Any, key: str | None = None) -> Any:
        """`clean()`, its ValidationError gathered into `errors` (under `key` if given)."""
        try:
            return clean()
        except ValidationError as exc:
            if key is not None or not hasattr(exc, "error_dict"):
                errors.setdefault(key or "", []).extend(exc.messages)
            else:
                for name, messages in exc.message_dict.items():
                    errors.setdefault(name, []).extend(messages)
            return None
