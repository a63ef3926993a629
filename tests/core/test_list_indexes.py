"""Every filter and sort a list offers is served by an index, on SQLite and on PostgreSQL.

The cases are read from the code, so a filter or sort added later is checked too (or this
test fails naming it): the customer list's `CustomerFilters` fields, its `SORTABLE` sorts in
both directions (first page and a page after a cursor), every field the filter builder
(`condition_fields()`) offers and a saved segment; the pool's (公海) list, the same list
narrowed to the viewer's pools, in each sort; and each history list in
`history.selectors.LISTS` (the web lists and the API's) with every keyword filter its
selector takes — a superset of what the web (status) and the API (customer, status, kind,
pipeline) pass.

Each case runs the real selector as the admin, a sales rep and a manager (both members of a
pool, so their scope carries the pool's VIEW grant as in a real installation), with
`connection.execute_wrapper` catching every query it sends with its own parameters (never
`str(qs.query)`, which is not valid SQL for every parameter). Every caught query that reads
the list's table is EXPLAINed, and fails when it reads that table whole:

- SQLite (`EXPLAIN QUERY PLAN`): a bare `SCAN <table>` (or of its alias in a sub-query), or
  a `SCAN <table> USING INDEX` walk of some other index followed by `USE TEMP B-TREE FOR
  ORDER BY` — every row read and sorted for one page. `SEARCH … USING INDEX` (a filter's
  index) and a walk of the sort index in order (the keyset plan) are fine.
- PostgreSQL (`EXPLAIN (FORMAT JSON)` with `SET LOCAL enable_seqscan = off` and
  `enable_sort = off`, so a usable index is always taken when one exists): a `Seq Scan` on
  the table, or a Sort over a condition-less walk of one of its indexes.

A ranked search orders by a computed tier, which no index holds: its few candidates are
sorted by design, so only the first rule applies to it. Both databases are ANALYZEd first,
over the demo generator's rows. Found by this test: the history lists had no index in their
own order, the admin's page read and sorted the whole table (history migration 0005).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from kehu.customers import selectors as customer_selectors
from kehu.customers.conditions import OPERATORS, condition_fields
from kehu.customers.filters import SORTABLE, CustomerFilters
from kehu.customers.models import Customer, CustomField, Segment, Tag
from kehu.customers.segments import segment_save
from kehu.customers.services import custom_field_save
from kehu.demo import generate
from kehu.history import selectors as history_selectors
from kehu.pool.selectors import pool_customers
from kehu.pool.services import pool_release, pool_save

pytestmark = pytest.mark.django_db

PAGE = 7  # an unusual page size: the list's own query is the one with LIMIT 8
# Demo users: the admin (no scope filter), a sales rep (one owner: `owner_id = X`) and a
# manager of four reps (`owner_id + 0 IN (...)`, scoping.scope_filter, which walks the sort index).
VIEWERS = {"admin": "admin", "rep": "wang.fang", "manager": "zhou.min"}
Queries = list[tuple[str, Any]]

# --- the cases ---------------------------------------------------------------------------

# CustomerFilters fields that are not filters: what parsing derives from the others.
NOT_FILTERS = {"parsed", "segment_parsed", "sort_given", "custom_fields"}

# A condition per operand kind (customers.conditions.OPERATORS): the operator the builder
# offers first for that kind, with a value `condition_value` finds.
CONDITION_OPS = {"choice": "in", "text": "eq", "number": "gte", "date": "within_days",
                 "tags": "any", "owner": "in", "region": "in"}

# Every custom-field type, as a filter `cf_<key>=<value>` and in a condition.
CUSTOM_FIELDS = {"text": "idx_text", "number": "idx_number", "date": "idx_date",
                 "choice": "idx_choice", "multi_choice": "idx_multi"}
CUSTOM_SAMPLES = {"text": "x", "number": "3", "date": "2026-01-31", "choice": "a",
                  "multi_choice": "a"}

# Keyword filters of the history lists whose value is not found generically (a column with
# choices takes its first choice, a foreign key an id found in the table).
HISTORY_SAMPLES: dict[str, Callable[[], Any]] = {
    "since": lambda: timezone.now() - dt.timedelta(days=30),
    "ordered_from": lambda: timezone.localdate() - dt.timedelta(days=90),
    "ordered_to": lambda: timezone.localdate(),
    "q": lambda: "A",
    "category": lambda: "x",
    "active": lambda: True,
}
SELECTOR_ARGS = {"viewer", "cursor", "limit"}  # not filters

# Allow-list: (list, case, viewer) -> why its plan may read the whole table, with a measured
# number where there is one. Only cases a scope filter causes (issue 15 item 1: scoping.py is
# not this test's to change), never the admin's. The manager's `owner_id + 0 IN (...)` needs no
# entry: it walks the list's sort index, which passes.
_POOL_GRANT = (
    "issue 15 item 1 (the scope filter, customers/scoping.py): a pool member's scope is "
    "`owner_id ... OR customer_id IN (the pool's entries)`, and with that OR SQLite reads "
    "every opportunity of the pipeline by a SCAN and sorts them. Measured on SQLite with "
    "`kehu demo --customers 40000` (15,892 opportunities, one pipeline) and a pool of 300: "
    "the rep's page 11 ms, the manager's 13-20 ms; the admin's (no grant) takes the opp_board "
    "index, 21 ms, and is checked strictly. Without a pool both pass. An index "
    "(pipeline, created_at, id) does not help: SQLite then loops over the joined pipeline "
    "first and took 130 ms."
)
ALLOWED_SCANS: dict[tuple[str, str, str], str] = {
    ("opportunity", "pipeline_id", "rep"): _POOL_GRANT,
    ("opportunity", "pipeline_id", "manager"): _POOL_GRANT,
}


@dataclasses.dataclass(frozen=True)
class Case:
    list_name: str
    case: str
    table: str
    run: Callable[[Any], Queries]  # run(viewer): the selector's queries

    @property
    def id(self) -> str:
        return f"{self.list_name}:{self.case}"


def customer_cases(ctx: dict[str, Any]) -> list[Case]:
    """The customer list: each filter on its own, each sort both ways, then conditions."""
    fields = {f.name for f in dataclasses.fields(CustomerFilters)} - NOT_FILTERS
    samples = {
        "q": [("q", {"q": "公司"}), ("q sorted", {"q": "公司", "sort": "name"}),
              ("q latin", {"q": "sh"})],
        "kind": [("kind", {"kind": "company"})],
        "industry": [("industry", {"industry": "manufacturing"})],
        "province": [("province", {"province": "浙江省"})],
        "city": [("city", {"city": "杭州市"})],
        "owner": [("owner", {"owner": str(ctx["rep"].pk)})],
        "tag": [("tag", {"tag": ctx["tag"]})],
        "custom": [(f"cf {kind}", {f"cf_{key}": CUSTOM_SAMPLES[kind]})
                   for kind, key in CUSTOM_FIELDS.items()],
        "condition": [(f"condition {key}", {"filter": json.dumps(leaf)})
                      for key, leaf in condition_leaves(ctx).items()],
        "segment": [("segment", {"segment": str(ctx["segment"])})],
        "sort": [(f"sort {d}{s}", {"sort": f"{d}{s}"}) for s in SORTABLE for d in ("", "-")],
    }
    missing = fields - set(samples)
    assert not missing, (f"CustomerFilters has new filter(s) {sorted(missing)}: add a sample "
                         "to customer_cases() so their plans are checked")
    cases = []
    for field in sorted(fields):
        for name, params in samples[field]:
            cases.append(Case("customers", name, "customers_customer", customer_run(params)))
            if field == "sort":  # the next page: the keyset condition on the sort index
                cases.append(Case("customers", f"{name} page 2", "customers_customer",
                                  customer_run(params, next_page=True)))
    return cases


def customer_run(params: dict[str, str], *, next_page: bool = False) -> Callable[[Any], Queries]:
    def run(viewer: Any) -> Queries:
        cursor = None
        if next_page:  # a cursor from the admin's first page of one row
            admin = get_user_model().objects.get(username=VIEWERS["admin"])
            page = customer_selectors.customer_list(
                viewer=admin, filters=CustomerFilters.from_params(params), limit=1)
            cursor = page.next_cursor
            assert cursor, f"no second page for {params}: the demo needs more customers"
        with caught() as queries:  # the web's instances and the API's rows: one plan each
            for selector in (customer_selectors.customer_list, customer_selectors.customer_rows):
                selector(viewer=viewer, cursor=cursor, limit=PAGE,
                         filters=CustomerFilters.from_params(params))
        return queries

    return run


def condition_leaves(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One leaf per field the filter builder offers (customer columns, custom fields, the
    history's figures, quality, classification dimensions...)."""
    leaves = {}
    for key, definition in sorted(condition_fields().items()):
        assert definition.kind in CONDITION_OPS, (
            f"condition field {key}: new kind {definition.kind!r}; add it to CONDITION_OPS")
        op = CONDITION_OPS[definition.kind]
        assert op in OPERATORS[definition.kind]
        leaves[key] = {"field": key, "op": op, "value": condition_value(definition, op, ctx)}
    return leaves


def condition_value(definition: Any, op: str, ctx: dict[str, Any]) -> Any:
    kind = definition.kind
    if kind == "choice":
        return [definition.choices[0][0]] if definition.choices else ["a"]
    if kind == "owner":
        return ["me"]
    if kind == "tags":
        return [ctx["tag"]]
    if kind == "region":
        return [ctx["region"]]
    if kind == "date":
        return 30
    if kind == "number":
        return 1
    return "x"


def pool_cases() -> list[Case]:
    """公海: the customer list narrowed to the viewer's pools (customer_list(within=)), so
    its filters are the customer list's; its sorts are checked here, both ways."""
    def run(params: dict[str, str]) -> Callable[[Any], Queries]:
        def run(viewer: Any) -> Queries:
            with caught() as queries:
                pool_customers(viewer=viewer, limit=PAGE,
                               filters=CustomerFilters.from_params(params))
            return queries

        return run

    return [Case("pool", f"sort {d}{s}", "customers_customer", run({"sort": f"{d}{s}"}))
            for s in SORTABLE for d in ("", "-")]


def history_cases() -> list[Case]:
    """Each history list (history.selectors.LISTS) unfiltered and with each of its filters."""
    cases = []
    for kind, selector in sorted(history_selectors.LISTS.items()):
        model = inspect.signature(selector)
        keywords = [name for name in model.parameters if name not in SELECTOR_ARGS]
        table = list_model(kind)._meta.db_table
        cases.append(Case(kind, "unfiltered", table, history_run(selector, {})))
        for keyword in keywords:
            cases.append(Case(kind, keyword, table,
                              history_run(selector, {keyword: (kind, keyword)})))
    return cases


def list_model(kind: str) -> type:
    from django.apps import apps

    return apps.get_model("history", kind)


def history_run(
    selector: Callable[..., Any], filters: dict[str, tuple[str, str]]
) -> Callable[[Any], Queries]:
    def run(viewer: Any) -> Queries:
        given = {keyword: history_sample(*spec) for keyword, spec in filters.items()}
        with caught() as queries:
            selector(viewer=viewer, limit=PAGE, **given)
        return queries

    return run


def history_sample(kind: str, keyword: str) -> Any:
    """A value for a history list's keyword filter: an explicit sample, a column's first
    choice, or an id the foreign key holds."""
    if keyword in HISTORY_SAMPLES:
        return HISTORY_SAMPLES[keyword]()
    model = list_model(kind)
    names = {f.name: f for f in model._meta.get_fields() if f.concrete}
    field = names.get(keyword) or names.get(keyword.removesuffix("_id"))
    assert field is not None, (
        f"{kind}_list has a new filter {keyword!r}: add a sample to HISTORY_SAMPLES so its "
        "plan is checked")
    if field.choices:
        return field.choices[0][0]
    if field.is_relation:
        value = (model._base_manager.exclude(**{field.attname: None})
                 .values_list(field.attname, flat=True).first())
        return value or field.related_model._base_manager.values_list("pk", flat=True).first()
    raise AssertionError(f"{kind}_list filter {keyword!r}: add a sample to HISTORY_SAMPLES")


# --- catching and explaining -------------------------------------------------------------


class caught:
    """Every query sent inside the block, with its parameters, as the backend got them."""

    def __enter__(self) -> Queries:
        self.queries: Queries = []

        def wrapper(execute, sql, params, many, context):
            self.queries.append((sql, params))
            return execute(sql, params, many, context)

        self.wrapper = connection.execute_wrapper(wrapper)
        self.wrapper.__enter__()
        return self.queries

    def __exit__(self, *exc: Any) -> None:
        self.wrapper.__exit__(*exc)


def names_of(table: str, sql: str) -> set[str]:
    """The table's name and the aliases it has in `sql` (Django's U0, T3 in sub-queries)."""
    aliases = re.findall(rf'"{table}"\s+(?:AS\s+)?"?([A-Z]\d+)\b', sql)
    return {table, *aliases}


def full_scans(table: str, sql: str, params: Any) -> tuple[list[str], str]:
    """(how `sql` reads `table` whole, the plan as text): by no index at all, or by walking
    an index that is not the list's order and sorting every row for one page."""
    names = names_of(table, sql)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            details = [row[3] for row in cursor.fetchall()]
            return sqlite_problems(names, details, ranked(sql)), "\n".join(details)
        with transaction.atomic():
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return (postgres_problems(table, plan[0]["Plan"], ranked(sql)),
                json.dumps(plan, indent=1, ensure_ascii=False))


def ranked(sql: str) -> bool:
    """A search ranked best first orders by a computed tier (`ORDER BY 31 ASC, ...`): its
    few candidates are sorted by design, so only a read of the whole table counts there."""
    return re.search(r"ORDER BY \d", sql) is not None


def sqlite_problems(names: set[str], details: list[str], is_ranked: bool) -> list[str]:
    scans = [d for d in details if (m := re.fullmatch(r"SCAN (\S+)( USING .*)?", d))
             and m.group(1) in names]
    bare = [d for d in scans if " USING " not in d]
    sorted_whole = ([f"{d} + USE TEMP B-TREE FOR ORDER BY" for d in scans if d not in bare]
                    if "USE TEMP B-TREE FOR ORDER BY" in details and not is_ranked else [])
    return bare + sorted_whole


def postgres_problems(table: str, plan: dict[str, Any], is_ranked: bool) -> list[str]:
    """A Seq Scan of the table (disabled, so no index can serve), or a whole walk of one of
    its indexes under a Sort (the index read for want of a better one, then all sorted)."""
    problems = []
    for node in walk(plan):
        if node.get("Relation Name") == table and node["Node Type"] == "Seq Scan":
            problems.append(f"Seq Scan on {table}")
        if node["Node Type"] == "Sort" and not is_ranked:
            problems += [f"Sort over {n['Node Type']} using {n['Index Name']} (no condition)"
                         for n in walk(node) if n.get("Relation Name") == table
                         and "Index Name" in n and "Index Cond" not in n]
    return problems


def walk(node: dict[str, Any]):
    yield node
    for child in node.get("Plans", ()):
        yield from walk(child)


# --- the data ----------------------------------------------------------------------------


@pytest.fixture
def data() -> dict[str, Any]:
    generate(20, seed=1)
    users = get_user_model().objects
    admin = users.get(username=VIEWERS["admin"])
    for kind, key in CUSTOM_FIELDS.items():
        custom_field_save(actor=admin, origin="system", data={
            "key": key, "label": key, "field_type": kind,
            "choices": ["a", "b"] if "choice" in kind else []})
    segment = segment_save(actor=admin, origin="system", data={
        "name": "indexed", "visibility": Segment.EVERYONE,
        "condition": {"field": "kind", "op": "in", "value": ["company"]}})
    from kehu.customers.regions.index import current

    pool_with_customers(admin)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"rep": users.get(username=VIEWERS["rep"]), "segment": segment.pk,
            "tag": Tag.objects.order_by("name").values_list("name", flat=True).first() or "x",
            "region": next(iter(current().by_code))}


def pool_with_customers(admin: Any) -> None:
    """A pool serving the rep's department with three of the rep's customers released to it:
    the pool's list has rows, and its members' scope carries the pool's VIEW grant."""
    rep = get_user_model().objects.get(username=VIEWERS["rep"])
    pool_save(actor=admin, origin="system", data={"name": "indexed", "departments": [
        rep.department_id]})
    live = Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("pk")
    for pk in live.values_list("pk", flat=True)[:3]:
        pool_release(actor=rep, origin="system", customer=pk)


def test_every_filter_and_sort_of_every_list_is_served_by_an_index(data):
    assert Customer.objects.count() >= 20 and CustomField.objects.count() == len(CUSTOM_FIELDS)
    cases = customer_cases(data) + pool_cases() + history_cases()
    users = get_user_model().objects
    failures, checked, allowed = [], 0, 0
    for case in cases:
        for who, username in VIEWERS.items():
            queries = case.run(users.get(username=username))
            reading = [(sql, params) for sql, params in queries if f'"{case.table}"' in sql]
            # The page's own query (LIMIT PAGE + 1) was sent: no case passes by short-circuit.
            assert any(f"LIMIT {PAGE + 1}" in sql for sql, _ in reading), (
                f"{case.id} as {who}: no page query on {case.table} among {len(queries)} queries")
            for sql, params in reading:
                bad, plan = full_scans(case.table, sql, params)
                checked += 1
                if bad and (case.list_name, case.case, who) in ALLOWED_SCANS:
                    allowed += 1
                elif bad:
                    failures.append(f"{case.id} as {who} ({connection.vendor}): {bad}\n"
                                    f"  SQL: {sql}\n  params: {params}\n  plan:\n{plan}")
    print(f"{len(cases)} cases x {len(VIEWERS)} viewers: {checked} queries explained on "
          f"{connection.vendor}, {allowed} full reads allow-listed")
    assert not failures, (f"{len(failures)} queries read the whole table, no index serves "
                          "them:\n\n" + "\n\n".join(failures))
