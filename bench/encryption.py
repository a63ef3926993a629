"""What field encryption costs: sealing and opening one value, the blind index, a page of
the customer list with and without encrypted columns, and key rotation's rate.

    .venv/bin/python bench/encryption.py [--customers 10000]

A throwaway SQLite database under var/bench/encryption/ with the demo data, phones, e-mails
and WeChat ids encrypted (KEHU_ENCRYPT_FIELDS=phones,emails,wechat). Writes
bench/results/encryption-sqlite.md.
"""

from __future__ import annotations

import argparse
import base64
import os
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
