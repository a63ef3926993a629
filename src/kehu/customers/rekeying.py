"""Key rotation (`kehu keys rotate`) and what each key still holds (`kehu keys status`).

The job `customers.rekey` walks customers by id, 500 at a time, and brings every encrypted
column of them and of their contacts to where the configuration says it should be: sealed
under the current key when the field is encrypted (a value under an older key, or still in
the clear, is rewritten), in the clear when it is not (an admin who took a field out of
KEHU_ENCRYPT_FIELDS). Then it rebuilds the batch's match keys and search grams, which follow
the same configuration (a blind index for an encrypted kind, the value otherwise) — so the
same pass also applies a new blind-index key. Each batch's rewrites and the checkpoint
(`model`, `after`: the last id done in it) commit together, so the job may be killed at any moment
(kill -9 included) and resumes after the last committed batch; run again from the start, it
finds nothing left to rewrite. After the customers it walks, by id, every other model with
an encrypted column (`sealed_models`: merge snapshots, the import's ledger and rejected
rows), which have no indexes to rebuild. Meanwhile the app serves: every configured key decrypts, so a
value is readable before and after its rewrite.

Rows are rewritten by `UPDATE` of the one column (the field seals it as it saves): no
version bump, no `updated_at`, no change-log row — the value did not change, its envelope did.
Every stored value is opened on the way, so the pass also proves each one intact: a
ciphertext that does not open stops the job naming the row (it is never re-sealed as
garbage): restore that value from a backup, or blank it, then run again.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from kehu.core import crypto
from kehu.core.fields import encrypted_fields
from kehu.customers.keys import keys_refresh
from kehu.customers.models import Contact, Customer
from kehu.customers.searchindex import search_index_refresh
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

REKEY_JOB = "customers.rekey"
BATCH = 500
# Customers and contacts are walked together, by customer, and re-indexed.
CUSTOMER_MODELS: tuple[type[models.Model], ...] = (Customer, Contact)


def sealed_models() -> list[type[models.Model]]:
    """Every model with an encrypted column, customers and contacts first: the others (merge
    snapshots, the import's ledger — any app's) are found, not listed, so none is missed."""
    others = [m for m in apps.get_models() if encrypted_fields(m) and m not in CUSTOMER_MODELS]
    return [*CUSTOMER_MODELS, *sorted(others, key=lambda m: m._meta.label)]


@job(REKEY_JOB, title=_("重新加密（密钥轮换）"), max_attempts=3)
def rekey(ctx: JobContext) -> dict[str, Any]:
    """Customers (with their contacts, keys and grams), then every other sealed model, by
    id; the checkpoint is the model and the last id done in it."""
    walked = (Customer, *sealed_models()[len(CUSTOMER_MODELS):])
    total = sum(m._base_manager.count() for m in walked)
    ctx.stage(str(_("重新加密并重建索引")), total=total, done=ctx.job.done)
    rewritten = int(ctx.state.get("rewritten", 0))
    for model in walked:
        label = model._meta.label
        if label in ctx.state.get("finished", []):
            continue
        after = int(ctx.state.get("after", 0)) if ctx.state.get("model", label) == label else 0
        while ids := list(model._base_manager.filter(pk__gt=after).order_by("pk")
                          .values_list("pk", flat=True)[:BATCH]):
            with ctx.step(advance=len(ids), model=label, after=ids[-1]):
                rewritten += (rekey_customers(ids) if model is Customer
                              else _rekey(model, "id", ids))
                ctx.state["rewritten"] = rewritten
            after = ids[-1]
        with ctx.step(advance=0, finished=[*ctx.state.get("finished", []), label]):
            pass
    return {str(_("值")): total, str(_("重写的值")): rewritten,
            str(_("当前密钥")): crypto.keyring().current_id}


def rekey_customers(ids: list[int]) -> int:
    """Bring these customers' and their contacts' encrypted columns in line with the
    configuration, then their keys and grams; the number of values rewritten."""
    rewritten = _rekey(Customer, "id", ids) + _rekey(Contact, "customer_id", ids)
    keys_refresh(ids)
    search_index_refresh(ids)
    return rewritten


def _rekey(model: type[models.Model], owner_column: str, ids: list[int]) -> int:
    fields = encrypted_fields(model)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(ids))
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM {table} WHERE {owner_column} IN ({marks})",  # noqa: S608
                       ids)
        rows = cursor.fetchall()
    current = crypto.keyring().current_id
    count = 0
    for pk, *raws in rows:
        changed = {}
        for field, raw in zip(fields, raws, strict=True):
            try:  # every value is opened, so the pass also proves each one intact
                value = field.open(raw)
            except crypto.DecryptionError as exc:
                raise crypto.DecryptionError(f"{exc} — {model._meta.db_table} id {pk}") from exc
            if not _in_line(field, _envelope(field, raw), current):
                changed[field.attname] = value
        if changed:
            model._base_manager.filter(pk=pk).update(**changed)
            count += len(changed)
    return count


def _envelope(field: Any, raw: Any) -> Any:
    """The stored value as a string or a list: JSON text (SQLite, a raw cursor) decoded."""
    if isinstance(field, models.JSONField) and isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _in_line(field: Any, value: Any, current: str) -> bool:
    if value in (None, "", [], {}):
        return True
    if field.encrypted:
        return crypto.stored_key_id(value) == current if isinstance(value, str) else False
    return not crypto.is_ciphertext(value)


# --- status ------------------------------------------------------------------------


def key_status() -> dict[str, dict[str, int]]:
    """Per encrypted column (`table.column`): how many values each key id holds, and how
    many are stored in the clear ("plain"). Counted in SQL by the ciphertexts' prefix."""
    found: dict[str, dict[str, int]] = {}
    for model in sealed_models():
        for field in encrypted_fields(model):
            found[field.label] = _column_status(model, field)
    return found


def _column_status(model: type[models.Model], field: Any) -> dict[str, int]:
    is_json = isinstance(field, models.JSONField)
    column = connection.ops.quote_name(field.column)
    text = f"{column}::text" if is_json and connection.vendor == "postgresql" else column
    prefix = ('"' if is_json else "") + crypto.PREFIX
    start = len(prefix) + 1
    empty = "('[]', '\"\"', 'null', '')" if is_json else "('')"
    table = connection.ops.quote_name(model._meta.db_table)
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT substr({text}, {start}, 8), COUNT(*) FROM {table}"  # noqa: S608
            f" WHERE {text} LIKE %s GROUP BY 1", [prefix + "%"])
        counts.update({kid: n for kid, n in cursor.fetchall()})
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {text} IS NOT NULL"  # noqa: S608
            f" AND {text} NOT IN {empty} AND {text} NOT LIKE %s", [prefix + "%"])
        counts["plain"] = cursor.fetchone()[0]
    return counts
