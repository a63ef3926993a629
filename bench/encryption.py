"""What field encryption costs: sealing and opening one value, the blind index, a page of
the customer list with and without encrypted columns, and key rotation's rate.

    .venv/bin/python bench/encryption.py [--customers 10000]
    .venv/bin/python bench/pg.py -- bench/encryption.py --data-dir {data_dir}    # PostgreSQL

A throwaway SQLite database under var/bench/encryption/ with the demo data, phones, e-mails
and WeChat ids encrypted (KEHU_ENCRYPT_FIELDS=phones,emails,wechat). Writes
bench/results/encryption-sqlite.md.

On PostgreSQL (DATABASE_URL set by bench/pg.py, `--data-dir` its data directory) there is no
throwaway database: bench/pg.py's copy of bench/run.py's demo database (1,000,000
customers, stored in the clear) is used in one transaction rolled back at the end. In it,
`--customers` customers — the admin's first list page and the lowest ids after them — and
their contacts are sealed under key A (`rekey_customers`, 500 a batch, as the rotation job
walks them: timed, the first row of the table), then rotated to key B and once more (the
SQLite run's two passes, over those customers only: the job's walk of the whole table is
about 15 minutes at 1,000,000 and the merge snapshots and import ledger it walks after the
customers are left out); the list's first page and `kehu keys status` (every row of both
tables) are timed as on SQLite. No demo load. Results: bench/results/encryption-pg-<N>k.md
(`--data-dir var/bench/sqlite-c1000000-s1` without DATABASE_URL does the same on SQLite:
encryption-sqlite-<N>k.md).
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import secrets
import shutil
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY_A, KEY_B, INDEX = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--data-dir", default=None,
                        help="on PostgreSQL: bench/pg.py's data directory ({data_dir})")
    args = parser.parse_args()
    if args.data_dir or os.environ.get("DATABASE_URL", "").startswith(("postgres://",
                                                                        "postgresql://")):
        existing(args)
        return
    data_dir = ROOT / "var" / "bench" / "encryption"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ.update(KEHU_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="kehu.config.settings",
                      KEHU_ENCRYPTION_KEYS=KEY_A, KEHU_BLIND_INDEX_KEY=INDEX,
                      KEHU_ENCRYPT_FIELDS="phones,emails,wechat")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    lines = [f"# Field encryption — SQLite, {args.customers:,} demo customers", "",
             f"`.venv/bin/python bench/encryption.py --customers {args.customers}`", ""]
    lines += micro()
    start = time.perf_counter()
    call_command("demo", customers=args.customers, seed=7, stdout=open(os.devnull, "w"))  # noqa: SIM115
    lines += ["", f"Demo load with encrypted columns: {time.perf_counter() - start:.1f} s", ""]
    lines += list_page()
    lines += rotation()
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "bench" / "results" / "encryption-sqlite.md").write_text(text, encoding="utf-8")


def _per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def micro() -> list[str]:
    from kehu.core import crypto

    label, phone = "customers_customer.phones", '["+8613812345678", "+8613900001111"]'
    sealed = crypto.encrypt(phone, label)
    crypto.decrypt(sealed, label)
    n = 50000
    rows = [("encrypt a phone list (AES-256-GCM, fresh nonce)",
             _per_call(lambda: crypto.encrypt(phone, label), n)),
            ("decrypt it (tag checked)", _per_call(lambda: crypto.decrypt(sealed, label), n)),
            ("blind index (HMAC-SHA256)",
             _per_call(lambda: crypto.blind_index("phone", "+8613812345678"), n))]
    return ["| per value | µs |", "|---|---:|",
            *[f"| {name} | {us:.1f} |" for name, us in rows]]


def list_page() -> list[str]:
    from kehu.accounts.models import User
    from kehu.customers import selectors
    from kehu.customers.filters import CustomerFilters

    admin = User.objects.filter(is_superuser=False, role__code="admin").first() \
        or User.objects.filter(is_system=False).first()
    times: dict[str, list[float]] = {"encrypted": [], "decryption skipped": []}

    def page() -> float:
        start = time.perf_counter()
        selectors.customer_list(viewer=admin, filters=CustomerFilters.from_params({}))
        return time.perf_counter() - start

    from kehu.core import fields

    real = fields.EncryptedJSONField.open, fields.EncryptedCharField.open

    def skipped() -> float:  # the same page with the opening skipped: what decryption costs
        fields.EncryptedJSONField.open = fields.EncryptedCharField.open = lambda self, v: v
        try:
            return page()
        finally:
            fields.EncryptedJSONField.open, fields.EncryptedCharField.open = real

    for _ in range(5):
        page()
        skipped()
    for _ in range(200):  # interleaved, so drift on a shared machine hits both alike
        times["encrypted"].append(page())
        times["decryption skipped"].append(skipped())
    return ["| customer list, first page (50, admin) | p50 ms |", "|---|---:|",
            *[f"| {name} | {statistics.median(v) * 1000:.2f} |" for name, v in times.items()]]


def rotation() -> list[str]:
    from django.conf import settings
    from django.core.management import call_command

    from kehu.customers.models import Contact, Customer
    from kehu.customers.rekeying import key_status

    customers, contacts = Customer.objects.count(), Contact.objects.count()
    values = sum(sum(n for kid, n in c.items() if kid != "plain") for c in key_status().values())
    settings.KEHU_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    devnull = open(os.devnull, "w")  # noqa: SIM115
    start = time.perf_counter()
    call_command("keys", "rotate", "--foreground", stdout=devnull)
    first = time.perf_counter() - start
    start = time.perf_counter()
    call_command("keys", "rotate", "--foreground", stdout=devnull)
    again = time.perf_counter() - start
    start = time.perf_counter()
    status = key_status()
    counted = time.perf_counter() - start
    assert all(len([k for k in c if k != "plain"]) <= 1 for c in status.values())
    return ["", f"Rotation A → B over {customers:,} customers and {contacts:,} contacts "
            f"({values:,} encrypted values):", "",
            "| pass | s | customers/s | values/s |", "|---|---:|---:|---:|",
            f"| first (rewrites every value, rebuilds keys and grams) | {first:.1f} | "
            f"{customers / first:,.0f} | {values / first:,.0f} |",
            f"| again (nothing to rewrite: opens every value, rebuilds keys and grams) | "
            f"{again:.1f} | {customers / again:,.0f} | — |",
            "", f"`kehu keys status` (counts per key in SQL): {counted * 1000:.0f} ms", ""]


def existing(args: argparse.Namespace) -> None:
    """The run on an existing demo database (bench/pg.py's PostgreSQL copy, or with
    `--data-dir` alone SQLite's): `args.customers` of its customers sealed and rotated in
    one transaction rolled back at the end."""
    if not args.data_dir:
        raise SystemExit("on PostgreSQL: bench/pg.py -- bench/encryption.py --data-dir {data_dir}")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        os.environ.pop("DATABASE_URL", None)
    os.environ.update(KEHU_DATA_DIR=str(Path(args.data_dir).resolve()), KEHU_DEBUG="0",
                      DJANGO_SETTINGS_MODULE="kehu.config.settings",
                      KEHU_ENCRYPTION_KEYS=KEY_A, KEHU_BLIND_INDEX_KEY=INDEX,
                      KEHU_ENCRYPT_FIELDS="phones,emails,wechat")
    load_start = os.getloadavg()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from kehu.customers.models import Customer

    call_command("migrate", interactive=False, verbosity=0)
    table = Customer.objects.count()
    pg = connection.vendor == "postgresql"
    command = ("bench/pg.py -- bench/encryption.py --data-dir {data_dir}" if pg
               else f"bench/encryption.py --data-dir {args.data_dir}")
    copy = "bench/pg.py's copy of the" if pg else "bench/run.py's"
    lines = [f"# Field encryption — {'PostgreSQL' if pg else 'SQLite'}, {args.customers:,} of "
             f"{table:,} demo customers",
             "", f"- {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load "
             f"{' '.join(f'{x:.2f}' for x in load_start)} at the start; Python "
             f"{platform.python_version()}",
             f"- `.venv/bin/python {command} --customers {args.customers}`: "
             f"{copy} demo database, stored "
             f"in the clear; {args.customers:,} customers (the admin's first list page and the "
             "lowest ids) and their contacts sealed and rotated in one transaction rolled back "
             "at the end; no demo load", ""]
    lines += micro()
    with transaction.atomic():
        ids = chosen(args.customers)
        sealed = rekey(ids)
        lines += ["", f"Sealing them from the clear under key A (`rekey_customers`, 500 a "
                  f"batch): {sealed[0]:.1f} s, {len(ids) / sealed[0]:,.0f} customers/s, "
                  f"{sealed[1]:,} values; {sealed[2]:,} statements, {sealed[3]:.1f} s of "
                  "them in the database driver", ""]
        lines += list_page()
        lines += rotation_of(ids)
        transaction.set_rollback(True)
    lines += [f"Load at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.", ""]
    text = "\n".join(lines) + "\n"
    print(text)
    name = f"encryption-{'pg' if pg else 'sqlite'}-{round(table / 1000)}k.md"
    (ROOT / "bench" / "results" / name).write_text(text, encoding="utf-8")


def chosen(count: int) -> list[int]:
    """The admin's first list page's customers, then the lowest ids, `count` in all."""
    from kehu.customers import selectors
    from kehu.customers.filters import CustomerFilters
    from kehu.customers.models import Customer

    page = selectors.customer_list(viewer=_admin(), filters=CustomerFilters.from_params({}))
    ids = list(dict.fromkeys(row.pk for row in page.items))
    ids += [pk for pk in Customer.objects.order_by("pk").values_list("pk", flat=True)[:count]
            if pk not in set(ids)]
    return sorted(ids[:count])


def rekey(ids: list[int]) -> tuple[float, int, int, float]:
    """`rekey_customers` over the ids, 500 at a time as the job walks them: seconds, values
    rewritten, statements sent and their own seconds."""
    from django.db import connection

    from kehu.customers.rekeying import BATCH, rekey_customers

    sent = [0, 0.0]

    def counted(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sent[0] += 1
            sent[1] += time.perf_counter() - started

    start = time.perf_counter()
    with connection.execute_wrapper(counted):
        rewritten = sum(rekey_customers(ids[at:at + BATCH]) for at in range(0, len(ids), BATCH))
    return time.perf_counter() - start, rewritten, sent[0], sent[1]


def rotation_of(ids: list[int]) -> list[str]:
    from django.conf import settings

    from kehu.customers.models import Contact
    from kehu.customers.rekeying import key_status

    contacts = Contact.objects.filter(customer_id__in=ids).count()
    settings.KEHU_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    first, values, first_sent, first_sql = rekey(ids)
    again, rewritten, again_sent, again_sql = rekey(ids)
    start = time.perf_counter()
    status = key_status()
    counted = time.perf_counter() - start
    assert rewritten == 0 and all(len([k for k in c if k != "plain"]) <= 1
                                  for c in status.values())
    customers = len(ids)
    return ["", f"Rotation A → B over {customers:,} customers and {contacts:,} contacts "
            f"({values:,} encrypted values):", "",
            "| pass | s | customers/s | values/s | statements | their s |",
            "|---|---:|---:|---:|---:|---:|",
            f"| first (rewrites every value, rebuilds keys and grams) | {first:.1f} | "
            f"{customers / first:,.0f} | {values / first:,.0f} | {first_sent:,} | "
            f"{first_sql:.1f} |",
            f"| again (nothing to rewrite: opens every value, rebuilds keys and grams) | "
            f"{again:.1f} | {customers / again:,.0f} | — | {again_sent:,} | {again_sql:.1f} |",
            "", f"`kehu keys status` (counts per key in SQL, every customer and contact): "
            f"{counted * 1000:.0f} ms", ""]


def _admin():
    from kehu.accounts.models import User

    return User.objects.filter(is_superuser=False, role__code="admin").first() \
        or User.objects.filter(is_system=False).first()


if __name__ == "__main__":
    main()
