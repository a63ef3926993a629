"""What each row of a customer sheet would do: create, update (which fields), unchanged, rejected.

The planner cleans every row with the customers' own cleaners (one cleaning path with the
web form and the API), then decides per batch with one key lookup (`keys_lookup`) and
one load of the matched customers. It writes nothing: the dry run shows its plan, the
import hands the same plan to the writers (`transfer.importing`).

Matching, in the run's priority order (phone, email, credit code): the first key kind
with a hit decides. One existing customer → update it; none → create; two different
ones → the row is refused naming both (never merged silently). Rows of one file that
share a key become one customer: within a batch through `pending`, across batches
because earlier batches are in the database already (the dry run, which writes nothing,
remembers the keys of the file in `seen`, a temporary file: `keymemory`).

An update never blanks a value: an empty cell leaves the field as it is, list fields
(phones, e-mails, tags) gain the values they lack, a contact is matched by name. The
owner column only places created customers; ownership of existing ones changes by
transfer, not by import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.selectors import owner_candidate, user_find
from kehu.core.idset import IdSet
from kehu.customers import cleaning
from kehu.customers.bulk import (
    NewCustomer,
    customers_for_import,
    keys_lookup,
    new_customer_prepare,
)
from kehu.customers.duplicates import duplicates_in_batch
from kehu.customers.selectors import custom_fields_active
from kehu.transfer.keymemory import KeyMemory
from kehu.transfer.mapping import translate_choice
from kehu.transfer.rows import RawRow, RowShape

LIST_FIELDS = ("phones", "emails")
_TAG_SPLIT = re.compile(r"[,，、;；|\n]+")
# Words that make a name a company's when the sheet does not say (no 客户类型 column).
_COMPANY_WORDS = re.compile(r"公司|集团|厂|店|中心|医院|学校|学院|研究所|事务所|工作室|协会"
                            r"|银行|酒店|餐厅|合作社|商行|门市|部$|局$|院$|所$")
MATCH_LABELS = {"phone": "电话", "email": "邮箱", "credit_code": "统一社会信用代码",
                "id_number": "身份证号"}


@dataclass
class Problem:
    column: str
    reason: str


@dataclass
class Cleaned:
    """A row that passed the cleaners: what to create or compare."""

    row: RawRow
    item: NewCustomer
    keys: dict[str, list[str]]  # match kind -> normalised values
    mapped: frozenset[str]  # the fields the sheet gave (kind may be inferred, not given)


@dataclass
class Change:
    """An update of one existing customer, gathered from one or more rows."""

    customer_id: int
    version: int
    name: str
    rows: list[int] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # for customer_update
    before: dict[str, Any] = field(default_factory=dict)
    contacts_new: list[dict[str, Any]] = field(default_factory=list)
    contact_updates: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> data
    contact_before: dict[int, dict[str, Any]] = field(default_factory=dict)
    contact_versions: dict[int, int] = field(default_factory=dict)


@dataclass
class BatchPlan:
    creates: list[Cleaned] = field(default_factory=list)
    changes: dict[int, Change] = field(default_factory=dict)
    unchanged: list[int] = field(default_factory=list)
    updated_rows: dict[int, list[str]] = field(default_factory=dict)  # row -> changed fields
    merged_rows: dict[int, int] = field(default_factory=dict)  # row -> the row it joins
    problems: list[tuple[RawRow, list[Problem]]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # row -> 可能重复 …

    def outcomes(self) -> dict[str, list[tuple[int, str, list[str]]]]:
        """outcome -> [(row, what, fields)] for the preview's counts and examples."""
        return {"created": [(c.row.number, c.item.values["name"], []) for c in self.creates],
                "updated": [(row, change.name, self.updated_rows[row])
                            for change in self.changes.values() for row in change.rows],
                "unchanged": [(row, "", []) for row in self.unchanged],
                "merged": [(row, _("与第 %(row)d 行是同一客户") % {"row": first}, [])
                           for row, first in self.merged_rows.items()]}


class CustomerPlanner:
    """Plans batches of one run's rows for `actor` (whose scope bounds what may change)."""

    def __init__(self, *, actor: User, shape: RowShape, match: list[str],
                 default_owner: User) -> None:
        self.actor, self.shape, self.match = actor, shape, match
        self.default_owner = default_owner
        self.custom_fields = custom_fields_active()
        self._owners: dict[str, int | None] = {}
        self.seen: KeyMemory | None = None  # the dry run's memory of the file's keys
        # Customers an earlier row of this file created or matched: later rows for them only
        # fill what is empty, so two spellings of one company in a sheet do not overwrite
        # each other (and a re-import does not flip them back and forth).
        self.touched = IdSet()  # a bitmap: a set of 1,000,000 ids took 65.6 MB
        self.warn = False  # the dry run names probable duplicates among the rows it creates

    # --- cleaning --------------------------------------------------------------------

    def clean(self, row: RawRow) -> Cleaned | list[Problem]:
        """One row through the customers' cleaners, then its owner (a lookup of users)."""
        return self._with_owner(row, self.clean_fields(row))

    def prepare(self, rows: list[RawRow]) -> list[Cleaned | list[Problem]]:
        """Every row cleaned but for its owner, and what its insert derives computed (pinyin,
        search grams): no query, so the import runs it in its second process."""
        results = [self.clean_fields(row) for row in rows]
        for result in results:
            if isinstance(result, Cleaned):
                new_customer_prepare(result.item)
        return results

    def clean_fields(self, row: RawRow) -> Cleaned | list[Problem]:
        """The row's fields through the customers' cleaners — all but the owner (placed
        with the default owner here): these need no query."""
        values = row.values
        errors: dict[str, list[str]] = {}
        data = {k: translate_choice(k, v) for k, v in values.items()
                if "." not in k and k not in ("owner", "tags")}
        mapped = frozenset(data)
        if "kind" not in data and data.get("name"):
            data["kind"] = self._guess_kind(data)
        customer = self._run(errors, "", lambda: self._clean_customer(data))
        custom_raw = {k.removeprefix("custom."): v for k, v in values.items()
                      if k.startswith("custom.")}
        custom = self._run(errors, "", lambda: cleaning.clean_custom_values(
            self.custom_fields, custom_raw, partial=True)) if custom_raw else {}
        contact_raw = {k.removeprefix("contact."): v for k, v in values.items()
                       if k.startswith("contact.")}
        contact = self._run(errors, "contact.", lambda: cleaning.clean_contact(contact_raw)) \
            if contact_raw else None
        if errors:
            return [Problem(self.shape.header_of(key), "；".join(msgs))
                    for key, msgs in errors.items()]
        tags = [t.strip()[:50] for t in _TAG_SPLIT.split(str(values.get("tags", ""))) if t.strip()]
        item = NewCustomer(values=customer, owner_id=self.default_owner.pk, tags=tags,
                           custom=custom or {}, contact=contact)
        return Cleaned(row, item, self._keys(item), mapped | {f"custom.{k}" for k in custom or {}})

    def _with_owner(self, row: RawRow, result: Cleaned | list[Problem]
                    ) -> Cleaned | list[Problem]:
        """The owner column's colleague placed on a cleaned row; not one the actor may
        give customers to, a problem (after the row's others, in the columns' order)."""
        errors: dict[str, list[str]] = {}
        owner_id = self._owner(row.values.get("owner"), errors)
        if errors:
            problem = Problem(self.shape.header_of("owner"), "；".join(errors["owner"]))
            return [*result, problem] if isinstance(result, list) else [problem]
        if isinstance(result, Cleaned):
            result.item.owner_id = owner_id
        return result

    @staticmethod
    def _clean_customer(data: dict[str, Any]) -> dict[str, Any]:
        values = cleaning.clean_customer(data)
        cleaning.check_kind_fields(values)
        return values

    @staticmethod
    def _run(errors: dict[str, list[str]], prefix: str, clean: Any) -> Any:
        try:
            return clean()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(prefix + key, []).extend(messages)
            return None

    @staticmethod
    def _guess_kind(data: dict[str, Any]) -> str:
        name = str(data.get("name", ""))
        if data.get("id_number") and not data.get("credit_code"):
            return "person"
        if data.get("credit_code") or _COMPANY_WORDS.search(name) or len(name) > 4:
            return "company"
        return "person"

    def _owner(self, name: Any, errors: dict[str, list[str]]) -> int:
        text = str(name or "").strip()
        if not text:
            return self.default_owner.pk
        if text not in self._owners:
            user = user_find(text)
            allowed = owner_candidate(self.actor, user) if user else None
            self._owners[text] = allowed.pk if allowed else None
        if self._owners[text] is None:
            errors.setdefault("owner", []).append(
                _("“%(name)s”不是你可以分配客户的同事") % {"name": text})
            return self.default_owner.pk
        return self._owners[text]

    def _keys(self, item: NewCustomer) -> dict[str, list[str]]:
        values, contact = item.values, item.contact or {}
        keys = {"phone": [*values.get("phones", []), *contact.get("phones", [])],
                "email": [e.lower() for e in (*values.get("emails", []), contact.get("email", ""))
                          if e],
                "credit_code": [values["credit_code"].upper()] if values.get("credit_code") else [],
                "id_number": [values["id_number"]] if values.get("id_number") else []}
        return {kind: list(dict.fromkeys(keys[kind])) for kind in self.match}

    # --- deciding ----------------------------------------------------------------------

    def plan(self, rows: list[RawRow], prepared: list[Cleaned | list[Problem]] | None = None
             ) -> BatchPlan:
        """Decide a batch; `prepared`: what `prepare(rows)` gave (in another process)."""
        plan = BatchPlan()
        cleaned: list[Cleaned] = []
        for row, fields in zip(rows, self.prepare(rows) if prepared is None else prepared,
                               strict=True):
            result = self._with_owner(row, fields)
            if isinstance(result, Cleaned):
                cleaned.append(result)
            else:
                plan.problems.append((row, result))
        found = keys_lookup((k, v) for c in cleaned for k, vs in c.keys.items() for v in vs)
        existing = customers_for_import(actor=self.actor, ids={i for ids in found.values()
                                                               for i in ids})
        pending: dict[tuple[str, str], int] = {}  # key -> index in plan.creates
        earlier = {} if self.seen is None else self.seen.rows_of(
            (k, v) for c in cleaned for k, vs in c.keys.items() for v in vs)
        for item in cleaned:
            self._decide(item, found, existing, pending, earlier, plan)
        if self.seen is not None:
            self.seen.remember((kind, value, item.row.number) for item in plan.creates
                               for kind, values in item.keys.items() for value in values)
        if self.warn and plan.creates:
            self._warn_duplicates(plan)
        return plan

    def _warn_duplicates(self, plan: BatchPlan) -> None:
        """Rows that create a customer Kehu probably has (a similar name, a key the match
        keys leave out): the preview says so; the import creates them as asked."""
        found = duplicates_in_batch(viewer=self.actor,
                                    rows=[c.item.values for c in plan.creates])
        for index, candidates in found.items():
            named = "、".join(f"“{c.name}”" if c.name else _("其他同事名下的一位客户")
                             for c in candidates)
            plan.warnings.append((plan.creates[index].row.number,
                                  _("可能与已有客户重复：%(names)s") % {"names": named}))

    def _decide(self, item: Cleaned, found: dict, existing: dict, pending: dict,
                seen: dict, plan: BatchPlan) -> None:
        """`seen`: the dry run's rows of earlier batches holding the row's keys."""
        row = item.row.number
        for kind in self.match:
            ids = {i for v in item.keys[kind] for i in found.get((kind, v), ())}
            joins = {pending[(kind, v)] for v in item.keys[kind] if (kind, v) in pending}
            earlier = {seen[(kind, v)] for v in item.keys[kind] if (kind, v) in seen}
            if not ids and not joins and not earlier:
                continue
            if len(ids) + len(joins) > 1:
                plan.problems.append((item.row, [self._conflict(kind, ids, joins, existing, plan)]))
            elif ids:
                self._update(item, ids.pop(), kind, existing, plan)
            elif joins:
                self._join(item, plan.creates[joins.pop()], plan)
            else:
                plan.merged_rows[row] = min(earlier)
            return
        self._create(item, pending, plan)

    def _create(self, item: Cleaned, pending: dict, plan: BatchPlan) -> None:
        index = len(plan.creates)
        plan.creates.append(item)
        for kind, values in item.keys.items():
            for value in values:
                pending.setdefault((kind, value), index)

    def _conflict(self, kind: str, ids: set[int], joins: set[int], existing: dict,
                  plan: BatchPlan) -> Problem:
        named = [f"“{existing[i].name}”" if i in existing else _("其他同事名下的一个客户")
                 for i in sorted(ids)]
        named += [_("本文件第 %(row)d 行") % {"row": plan.creates[j].row.number}
                  for j in sorted(joins)]
        return Problem(self._match_column(kind), _("按%(key)s同时匹配到 %(names)s，请先合并或修正")
                       % {"key": _(MATCH_LABELS[kind]), "names": "、".join(named)})

    def _match_column(self, kind: str) -> str:
        keys = {"phone": ("phones", "contact.phones"), "email": ("emails", "contact.email"),
                "credit_code": ("credit_code",), "id_number": ("id_number",)}[kind]
        return "、".join(self.shape.header_of(k) for k in keys if k in self.shape.columns)

    def _join(self, item: Cleaned, first: Cleaned, plan: BatchPlan) -> None:
        """A later row of the file for the customer an earlier row creates: fill what it lacks."""
        target, new = first.item, item.item
        for key, value in new.values.items():
            if key in LIST_FIELDS:
                target.values[key] = _union(target.values.get(key, []), value)
            elif value not in ("", None) and target.values.get(key) in ("", None):
                target.values[key] = value
        target.tags = _union(target.tags, new.tags)
        target.derived = target.grams = None  # its values changed: computed at the insert
        for key, value in new.custom.items():
            target.custom.setdefault(key, value)
        if target.contact is None:
            target.contact = new.contact
        plan.merged_rows[item.row.number] = first.row.number

    def _update(self, item: Cleaned, customer_id: int, kind: str, existing: dict,
                plan: BatchPlan) -> None:
        customer = existing.get(customer_id)
        if customer is None:
            plan.problems.append((item.row, [Problem(self._match_column(kind), _(
                "与其他同事名下的客户重复（按%(key)s），你无权修改它")
                % {"key": _(MATCH_LABELS[kind])})]))
            return
        change = plan.changes.get(customer_id) or Change(customer_id, customer.version,
                                                          customer.name)
        fill_only = customer_id in self.touched
        self.touched.add(customer_id)
        changed = _customer_changes(customer, item, change, fill_only) + _contact_changes(
            customer, item.item.contact, change, fill_only)
        if not changed:
            plan.unchanged.append(item.row.number)
            return
        change.rows.append(item.row.number)
        plan.changes[customer_id] = change
        plan.updated_rows[item.row.number] = changed


def _union(old: list, new: list) -> list:
    """`old` and what `new` adds; e-mails compared without case (Sales@x.cn is sales@x.cn)."""
    merged = {str(v).lower(): v for v in reversed([*old, *new])}
    return list(dict.fromkeys(merged[str(v).lower()] for v in [*old, *new]))


def _customer_changes(customer: Any, item: Cleaned, change: Change, fill_only: bool) -> list[str]:
    """Fill `change` with what the row changes on the customer; the changed field names."""
    changed = []
    current = {**{k: getattr(customer, k) for k in item.item.values},
               **{k: v for k, v in change.data.items() if k in item.item.values}}
    for key, value in item.item.values.items():
        if key == "kind" and "kind" not in item.mapped:
            continue
        old = current[key]
        new = _union(old or [], value) if key in LIST_FIELDS else value
        if new in ("", None, []) or new == old or (fill_only and old not in ("", None, [])
                                                   and key not in LIST_FIELDS):
            continue
        change.before.setdefault(key, getattr(customer, key))
        change.data[key] = new
        changed.append(key)
    tags = change.data.get("tags", customer.tag_names)
    merged = _union(tags, item.item.tags)
    if merged != tags:
        change.before.setdefault("tags", list(customer.tag_names))
        change.data["tags"] = merged
        changed.append("tags")
    custom = change.data.get("custom", {})
    for key, value in item.item.custom.items():
        old = custom.get(key, customer.custom.get(key))
        if value in (None, "", []) or value == old or str(value) == str(old) \
                or (fill_only and old not in (None, "", [])):  # == : 12800.5 = 12800.5000
            continue
        change.before.setdefault(f"custom.{key}", old)
        change.data.setdefault("custom", {})[key] = value
        changed.append(f"custom.{key}")
    return changed


def _contact_changes(customer: Any, contact: dict[str, Any] | None, change: Change,
                     fill_only: bool) -> list[str]:
    if not contact:
        return []
    same = next((c for c in customer.contacts.all() if c.name == contact["name"]), None)
    if same is None:
        if all(c["name"] != contact["name"] for c in change.contacts_new):
            change.contacts_new.append(dict(contact))
            return ["contact"]
        return []
    data = change.contact_updates.get(same.pk, {})
    changed = []
    for key, value in contact.items():
        if key in ("name", "is_primary"):
            continue
        old = data.get(key, getattr(same, key))
        new = _union(old or [], value) if key == "phones" else value
        if new in ("", None, []) or new == old or (fill_only and key != "phones" and old):
            continue
        change.contact_before.setdefault(same.pk, {}).setdefault(key, getattr(same, key))
        data[key] = new
        changed.append(f"contact.{key}")
    if data:
        change.contact_updates[same.pk] = data
        change.contact_versions[same.pk] = same.version
    return changed
