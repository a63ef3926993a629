"""The baseline: GET /api/v1/customers written by hand, no framework, on the same database.

Same bearer-token hash check, same keyset query (the SQL Kehu's ORM sends), same
follow-up queries for tags and custom values, same JSON shape and cursor format.
What is left out on purpose: masking (the bench reads as an admin and a sales rep,
neither masked), scopes other than "all" and "own", and every other endpoint.

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
           "credit_code", "source", "notes", "origin", "version", "created_at", "updated_at")
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
    if scope != "all":
        if scope != "own":
            raise ValueError("the baseline implements the 'all' and 'own' scopes only")
        # Like kehu.customers.scoping: the shared ids are looked up first and sent as literals.
        shared = [r[0] for r in db.rows(
            "SELECT customer_id FROM customers_customershare WHERE user_id = %s", [user_id])]
        if shared:
            where.append(f"(c.owner_id = %s OR c.id IN ({', '.join(['%s'] * len(shared))}))")
        else:
            where.append("c.owner_id = %s")
        args += [user_id, *sorted(shared)]
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
