"""The baseline: GET /api/v1/customers written by hand, no framework, on the same database.

Same bearer-token hash check, same keyset query (the SQL Kehu's ORM sends), same
follow-up queries for tags and custom values, same JSON shape and cursor format.
Scopes are written by hand the way kehu.customers.scope_plans writes them (the org chart,
shares and pool grants read with plain SQL, the same plan picked from the same counts).
What is left out on purpose: masking (pool customers' phones stay visible here), and
every other endpoint.

Run it under gunicorn (bench/run.py does):  gunicorn --chdir bench -w 2 raw_app:application
It reads DATABASE_URL (PostgreSQL, via psycopg) or KEHU_DATA_DIR/kehu.sqlite3.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

COLUMNS = ("id", "kind", "name", "short_name", "industry", "company_size", "province", "city",
           "district", "address", "phones", "emails", "wechat", "gender", "birthday",
           "credit_code", "id_number", "source", "notes", "origin", "version", "created_at",
           "updated_at")
_db: Database | None = None


class Database:
    """One connection per worker process; `%s` placeholders on both backends."""

    def __init__(self) -> None:
        url = os.environ.get("DATABASE_URL", "")
        self.postgres = url.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
            self.conn.execute("SET TIME ZONE 'UTC'")
        else:
            path = Path(os.environ.get("KEHU_DATA_DIR", "var")) / "kehu.sqlite3"
            self.conn = sqlite3.connect(path, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=20000",
                           "cache_size=-65536", "mmap_size=1073741824", "temp_store=MEMORY"):
                self.conn.execute(f"PRAGMA {pragma}")

    def rows(self, sql: str, params: list[Any]) -> list[tuple]:
        if not self.postgres:
            sql = sql.replace("%s", "?")
        return self.conn.execute(sql, params).fetchall()

    def stamp(self, value: Any) -> str:
        """A stored datetime as Django's JSON shows it (ISO 8601, UTC)."""
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat()
        return value.replace(" ", "T") + "+00:00"

    def anchor(self, iso: str) -> Any:
        """A cursor's datetime as the parameter Django would send."""
        moment = dt.datetime.fromisoformat(iso).astimezone(dt.UTC)
        return moment if self.postgres else str(moment.replace(tzinfo=None))

    def like(self, column: str) -> str:
        return f"UPPER({column}::text) LIKE UPPER(%s)" if self.postgres else f"{column} LIKE %s ESCAPE '\\'"

    def json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


def application(environ: dict, start_response) -> list[bytes]:
    global _db
    if _db is None:
        _db = Database()
    if environ.get("PATH_INFO") != "/api/v1/customers" or environ.get("REQUEST_METHOD") != "GET":
        return _reply(start_response, 404, {"detail": "Not found"})
    viewer = _authenticate(_db, environ.get("HTTP_AUTHORIZATION", ""))
    if viewer is None:
        return _reply(start_response, 401, {"detail": "Unauthorized"})
    params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    try:
        body = customer_page(_db, viewer, params)
    except (ValueError, KeyError):
        return _reply(start_response, 400, {"detail": "Bad request"})
    return _reply(start_response, 200, body)


def _authenticate(db: Database, header: str) -> tuple[int, str] | None:
    """(user id, data scope) behind `Bearer kehu_…`, looked up by the secret's SHA-256."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip().startswith("kehu_"):
        return None
    digest = hashlib.sha256(secret.strip().encode()).hexdigest()
    rows = db.rows(
        "SELECT u.id, u.is_active, u.is_superuser, r.data_scope, r.is_admin FROM accounts_apitoken t "
        "JOIN accounts_user u ON u.id = t.user_id LEFT JOIN accounts_role r ON r.id = u.role_id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL", [digest])
    if not rows or not rows[0][1]:
        return None
    user_id, _active, superuser, scope, is_admin = rows[0]
    return user_id, "all" if superuser or is_admin else (scope or "own")


def customer_page(db: Database, viewer: tuple[int, str], params: dict[str, str]) -> dict:
    limit = max(1, min(int(params.get("limit", 50)), 200))
    where, args = _where(db, viewer, params)
    select = ", ".join(f"c.{c}" for c in COLUMNS)
    if _branches:  # a few owners with many rows: each one's first rows, then the page
        where, args = _branch_ids(db, where, args, limit + 1)
    rows = db.rows(
        f"SELECT {select}, u.id, u.username, u.display_name FROM customers_customer c "
        f"LEFT OUTER JOIN accounts_user u ON c.owner_id = u.id WHERE {' AND '.join(where)} "
        "ORDER BY c.updated_at DESC, c.id DESC LIMIT %s", [*args, limit + 1])
    extras = _extras(db, [r[0] for r in rows])
    items = [_item(db, row, extras) for row in rows[:limit]]
    more = len(rows) > limit
    return {
        "items": items,
        "next_cursor": _cursor(items[-1], 0) if items and more else None,
        "prev_cursor": _cursor(items[0], 1) if items and "cursor" in params else None,
    }


def _where(db: Database, viewer: tuple[int, str], params: dict[str, str]) -> tuple[list[str], list]:
    user_id, scope = viewer
    where, args = ["c.deleted_at IS NULL"], []
    _branches.clear()
    if scope != "all":
        sql, scope_args = _scope(db, user_id, scope)
        where.append(sql)
        args += scope_args
    for name, column in (("industry", "c.industry"), ("owner", "c.owner_id")):
        if params.get(name):
            where.append(f"{column} = %s")
            args.append(int(params[name]) if name == "owner" else params[name])
    if params.get("q"):
        _search(db, params["q"].strip(), where, args)
    if params.get("cursor"):
        backwards, value, pk = json.loads(base64.urlsafe_b64decode(
            params["cursor"] + "=" * (-len(params["cursor"]) % 4)))
        if backwards:
            raise ValueError("the baseline pages forwards only")
        anchor = db.anchor(value)
        # The predicate of kehu.core.pagination: a plain range first, then the tie-break.
        where.append("(c.updated_at <= %s AND (c.updated_at < %s OR c.id < %s))")
        args += [anchor, anchor, int(pk)]
    return where, args


# --- scopes, written by hand the way kehu.customers.scope_plans writes them -------------

PROBE_CAP, PAGE, MAX_BRANCHES = 5_000, 51, 24
ROW_US, ENTRY_US, QUERY_US = 5.0, 0.25, 150.0  # scope_plans' measured costs


def _scope(db: Database, user_id: int, scope: str) -> tuple[str, list]:
    """The viewer's scope as one condition, plus `_branches` for the page when they pay."""
    owners = _owners(db, user_id, scope)
    shared = [r[0] for r in db.rows(
        "SELECT customer_id FROM customers_customershare WHERE user_id = %s "
        "AND (ends_on IS NULL OR ends_on >= %s)", [user_id, str(dt.datetime.now(dt.UTC).date())])]
    pools = _pools(db, user_id)
    granted = "SELECT customer_id FROM pool_poolentry WHERE pool_id IN (" + \
        ", ".join(str(p) for p in pools) + ")" if pools else ""
    if len(owners) == 1 and not shared and not granted:
        return "c.owner_id = %s", list(owners)
    marks = ", ".join(["%s"] * len(owners))
    owner_rows = db.rows(f"SELECT COUNT(*) FROM (SELECT 1 FROM customers_customer WHERE owner_id IN "
                         f"({marks}) AND deleted_at IS NULL LIMIT {PROBE_CAP}) s", owners)[0][0]
    granted_rows = db.rows(f"SELECT COUNT(*) FROM ({granted} LIMIT {PROBE_CAP}) s", [])[0][0] \
        if granted else 0
    table = db.rows("SELECT MAX(id) FROM customers_customer WHERE deleted_at IS NULL", [])[0][0]
    rows = owner_rows + len(shared) + granted_rows
    counted = owner_rows < PROBE_CAP and granted_rows < PROBE_CAP
    entry = ENTRY_US if not db.postgres else ROW_US
    walk = PAGE * table / max(rows, 1) * entry + PAGE * ROW_US
    small = rows * ROW_US if counted else float("inf")
    branchy = (len(owners) + bool(shared) + bool(granted_rows) + 1) * QUERY_US + \
        len(owners) * PAGE * ENTRY_US + (len(shared) + granted_rows + PAGE) * ROW_US \
        if len(owners) <= MAX_BRANCHES and granted_rows < PROBE_CAP else float("inf")
    column = "c.owner_id" if small <= walk or len(owners) == 1 else "c.owner_id + 0"
    parts, args = [f"{column} IN ({marks})"], list(owners)
    if shared:
        parts.append(f"c.id IN ({', '.join(['%s'] * len(shared))})")
        args += shared
    if granted:
        # probed per row as a scalar sub-select when walking, as scope_plans.grant_test does
        parts.append(f"c.id IN ({granted})" if small <= walk else
                     f"({granted} AND customer_id = c.id LIMIT 1) IS NOT NULL")
    if branchy * (1 if counted else 2) < min(small, walk):
        _branches.extend([("c.owner_id = %s", [o]) for o in owners])
        _branches.extend([(p, a) for p, a in ((f"c.id IN ({', '.join(['%s'] * len(shared))})",
                                                shared),) if shared])
        if granted:
            _branches.append((f"c.id IN ({granted})", []))
    return "(" + " OR ".join(parts) + ")", args


_branches: list[tuple[str, list]] = []


def _owners(db: Database, user_id: int, scope: str) -> list[int]:
    if scope == "own":
        return [user_id]
    if scope == "own_sub":
        found, frontier = {user_id}, [user_id]
        while frontier:
            marks = ", ".join(["%s"] * len(frontier))
            frontier = [r[0] for r in db.rows(
                f"SELECT id FROM accounts_user WHERE manager_id IN ({marks})", frontier)
                if r[0] not in found]
            found.update(frontier)
        return sorted(found)
    path = db.rows("SELECT d.path FROM accounts_user u JOIN accounts_department d "
                   "ON d.id = u.department_id WHERE u.id = %s", [user_id])
    if not path:
        return [user_id]
    test = "d.path = %s" if scope == "dept" else "d.path LIKE %s"
    members = db.rows(f"SELECT u.id FROM accounts_user u JOIN accounts_department d ON "
                      f"d.id = u.department_id WHERE {test}",
                      [path[0][0] if scope == "dept" else path[0][0] + "%"])
    return sorted({user_id, *(r[0] for r in members)})


def _pools(db: Database, user_id: int) -> list[int]:
    """Active pools serving the viewer's department or one above it (pool members)."""
    return [r[0] for r in db.rows(
        "SELECT DISTINCT p.id FROM pool_pool p JOIN pool_pool_departments pd ON pd.pool_id = p.id "
        "JOIN accounts_department d ON d.id = pd.department_id JOIN accounts_user u "
        "ON u.id = %s JOIN accounts_department mine ON mine.id = u.department_id "
        "WHERE p.is_active AND mine.path LIKE d.path || '%%' "
        "AND EXISTS (SELECT 1 FROM accounts_role r WHERE r.id = u.role_id AND r.may_use_pool)",
        [user_id])]


def _branch_ids(db: Database, where: list[str], args: list, count: int) -> tuple[list[str], list]:
    """One UNION ALL of every branch's first `count` ids; the page is then read by id."""
    parts, params = [], []
    for n, (test, branch_args) in enumerate(_branches):
        parts.append(f"SELECT * FROM (SELECT c.id FROM customers_customer c WHERE "
                     f"{' AND '.join(where)} AND {test} ORDER BY c.updated_at DESC, c.id DESC "
                     f"LIMIT {count}) b{n}")
        params += [*args, *branch_args]
    ids = sorted({r[0] for r in db.rows(" UNION ALL ".join(parts), params)})
    return [f"c.id IN ({', '.join(['%s'] * len(ids))})" if ids else "0 = 1"], ids


def _search(db: Database, text: str, where: list[str], args: list) -> None:
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    columns = ["c.name", "c.short_name"]
    if re.fullmatch(r"[a-z]+", text.lower()):
        columns += ["c.name_initials", "c.name_pinyin"]
    where.append("(" + " OR ".join(db.like(c) for c in columns) + ")")
    args += [pattern] * len(columns)


def _extras(db: Database, ids: list[int]) -> dict[str, dict[int, Any]]:
    tags: dict[int, list[str]] = {}
    custom: dict[int, dict[str, Any]] = {}
    if ids:
        marks = ", ".join(["%s"] * len(ids))
        for customer_id, name in db.rows(
                "SELECT ct.customer_id, t.name FROM customers_tag t JOIN customers_customer_tags ct "
                f"ON t.id = ct.tag_id WHERE ct.customer_id IN ({marks}) ORDER BY t.name", ids):
            tags.setdefault(customer_id, []).append(name)
        for customer_id, key, kind, text, number, date in db.rows(
                "SELECT v.customer_id, f.key, f.field_type, v.text, v.number, v.date "
                "FROM customers_customvalue v JOIN customers_customfield f ON v.field_id = f.id "
                f"WHERE v.customer_id IN ({marks})", ids):
            value = {"number": number, "date": date}.get(kind, text)
            custom.setdefault(customer_id, {})[key] = str(value) if value is not None else None
    return {"tags": tags, "custom": custom}


def _item(db: Database, row: tuple, extras: dict) -> dict[str, Any]:
    item = dict(zip(COLUMNS, row[: len(COLUMNS)], strict=True))
    owner_id, username, display_name = row[len(COLUMNS):]
    item["phones"], item["emails"] = db.json(item["phones"]), db.json(item["emails"])
    item["created_at"], item["updated_at"] = db.stamp(item["created_at"]), db.stamp(item["updated_at"])
    if isinstance(item["birthday"], dt.date):
        item["birthday"] = item["birthday"].isoformat()
    item["owner"] = {"id": owner_id, "name": display_name or username} if owner_id else None
    item["tags"] = extras["tags"].get(item["id"], [])
    item["custom"] = extras["custom"].get(item["id"], {})
    item["masked"] = False
    item["matched"] = None  # why a search found it: Kehu's ranking, not the baseline's
    return item


def _cursor(item: dict, backwards: int) -> str:
    raw = json.dumps([backwards, item["updated_at"], item["id"]], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _reply(start_response, status: int, body: dict) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json; charset=utf-8"),
                                         ("Content-Length", str(len(data)))])
    return [data]
