"""IDOR, generated: charlie (a rep of another region) tries the ids of everything alice holds
on every web route and every API operation, and must learn nothing — each answer must be
the one a missing id gets.

Nobody lists routes here: the web routes come from the URL resolver (their other arguments
from the scoping matrix's examples, which already fails on an unlisted route) and the API's
from its OpenAPI document, so a new route is tried the day it is added. Every table gets an
id range of its own before the world is built (`distinct_ids`), so alice's order 7000012
cannot be mistaken for a pipeline or a region with the same number: an id put where another
kind belongs is simply missing, and only a real lapse of the gate makes a difference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import resolve, reverse

from kehu.accounts.services import token_create
from kehu.config.api import api
from tests.history.api_matrix import seed_history
from tests.web.test_view_scoping_matrix import CASES, root_field  # noqa: F401 -- its fixtures
from tests.web.test_view_scoping_matrix import world as _matrix_world  # noqa: F401

pytestmark = pytest.mark.django_db

MISSING = 2**62
RANGE = 10_000_000  # ids per table: table n starts at n × RANGE
UNSAFE = ("post", "put", "patch", "delete")


@pytest.fixture
def distinct_ids(db) -> Iterator[None]:
    """Start every table's ids at its own multiple of RANGE (the tables in a fixed order).
    PostgreSQL's sequences ignore the test's rollback, so they are put back afterwards: a
    later test whose ids jumped to 210,000,000 would page its ranges differently."""
    tables = sorted(model._meta.db_table for model in apps.get_models()
                    if model._meta.pk and model._meta.pk.get_internal_type()
                    in ("AutoField", "BigAutoField"))
    saved: list[tuple[str, int, bool]] = []
    with connection.cursor() as cursor:
        for number, table in enumerate(tables, start=1):
            start = number * RANGE
            if connection.vendor == "sqlite":
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                               [table, max(start, _max_id(cursor, table))])
                continue
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
            saved.append((sequence, *cursor.fetchone()))
            cursor.execute("SELECT setval(%s, %s)", [sequence, max(start, _max_id(cursor, table))])
    yield
    with connection.cursor() as cursor:  # SQLite's sqlite_sequence rolls back with the test
        for sequence, value, called in saved:
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, value, called])


@pytest.fixture
def alices_world(distinct_ids, request) -> Any:
    """The scoping matrix's world, built after the id ranges are set."""
    return request.getfixturevalue("_matrix_world")


def _max_id(cursor: Any, table: str) -> int:
    cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608 -- our own names
    return cursor.fetchone()[0]


def alices_ids(world: Any) -> dict[str, int]:
    """One id of every kind alice holds: customers, contacts, history, jobs, files, imports,
    merges, duplicates, segments, notifications, tasks."""
    people = {"owner": world.users["alice"], "admin": world.users["root"]}
    found = {f"history.{name}": pk for name, pk in seed_history(people, world.customer).items()
             if name not in ("product_id", "pipeline_id", "stage_id", "next_stage_id")}
    for name in ("customer", "contact", "deleted", "opportunity", "job", "job_file",
                 "notification", "failed_job", "run", "done_run", "merge", "pair", "segment",
                 "team_segment"):
        found[name] = getattr(world, name).pk
    from kehu.followup.services import task_create

    found["task"] = task_create(actor=world.users["alice"], origin="manual",
                                customer=world.customer.pk,
                                data={"title": "回访", "due_date": "2026-12-10"}).pk
    return found


def answer(response: Any) -> tuple[int, str]:
    """What a caller learns: the status and where a redirect goes (ids masked)."""
    location = re.sub(r"\d+", "N", response.get("Location", "")) if response.status_code in (
        301, 302, 303) else ""
    return response.status_code, location


# --- web ---------------------------------------------------------------------------------


def web_targets(world: Any) -> list[tuple[str, str, str, dict]]:
    """(method, route name, integer argument, the other arguments) for every route of the
    site taking an integer, its other arguments from the scoping matrix's example."""
    targets = []
    for name, _index, case in CASES:
        url = case.url(world)
        match = resolve(url.split("?")[0])
        for key, value in match.kwargs.items():
            if isinstance(value, int):
                targets.append((case.method, name, key, dict(match.kwargs)))
    return targets


def test_charlie_learns_nothing_from_alices_ids_on_any_web_route(alices_world):
    world = alices_world
    ids = alices_ids(world)
    charlie = Client()
    charlie.force_login(world.users["charlie"])
    leaks = []
    tried = set()
    for method, name, key, kwargs in web_targets(world):
        if (method, name, key) in tried:
            continue
        tried.add((method, name, key))
        missing = answer(getattr(charlie, method)(reverse(name, kwargs={**kwargs, key: MISSING})))
        for kind, pk in ids.items():
            got = answer(getattr(charlie, method)(reverse(name, kwargs={**kwargs, key: pk})))
            if got != missing:
                leaks.append(f"{method.upper()} {name} {key}={kind}: {got} (missing: {missing})")
    assert len(tried) > 80  # the resolver still gives us the site
    assert leaks == []


# --- API ---------------------------------------------------------------------------------


def api_operations() -> list[tuple[str, str, list[str]]]:
    """(method, path template, integer path parameters) of every API operation with one."""
    found = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            params = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            ints = [p["name"] for p in params if p["schema"].get("type") == "integer"]
            if ints and len(ints) == len(params):
                found.append((method, path, ints))
    return found


def test_charlie_learns_nothing_from_alices_ids_on_any_api_operation(alices_world):
    world = alices_world
    ids = alices_ids(world)
    token = token_create(user=world.users["charlie"], name="idor")[1]
    client = Client()
    headers = {"Authorization": f"Bearer {token}", "If-Match": "*"}

    def call(method: str, path: str, fill: dict[str, int]) -> tuple[int, str]:
        url = re.sub(r"\{(\w+)\}", lambda m: str(fill[m.group(1)]), path)
        extra = {"data": "{}", "content_type": "application/json"} if method in UNSAFE else {}
        return answer(getattr(client, method)(url, headers=headers, **extra))

    leaks = []
    operations = api_operations()
    for method, path, params in operations:
        for param in params:
            others = {p: MISSING for p in params}
            missing = call(method, path, others)
            for kind, pk in ids.items():
                got = call(method, path, {**others, param: pk})
                if got != missing:
                    leaks.append(f"{method.upper()} {path} {param}={kind}: {got} "
                                 f"(missing: {missing})")
    assert len(operations) > 40  # the schema still lists the API
    assert leaks == []
