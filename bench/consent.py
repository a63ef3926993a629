"""Counting customers by marketing consent at 1,000,000 customers (SQLite).

    .venv/bin/python bench/consent.py [--data-dir var/bench/consent-1000k] [--customers 1000000]

Builds (once) a bare database of N customers owned by ten reps — raw INSERTs, only the
columns the gate and the conditions read — and marketing consents for a fifth of them, a
tenth of those withdrawn, plus a superseded row for every twentieth. Then counts 勿营销
(withdrawn), 已同意 and 未知 through `CustomerFilters` on the gate's queryset, as the list,
segments and exports do, as the admin and as one rep, cold and warm. Prints counts and times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-12-01 00:00:00"


def build(n: int) -> None:
    from django.db import connection, transaction

    from kehu.accounts.services import user_create

    reps = [user_create(username=f"rep{i}", role_code="sales")[0].pk for i in range(10)]
    user_create(username="admin", role_code="admin")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"""
            WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})
            INSERT INTO customers_customer (kind, name, short_name, name_pinyin, name_initials,
              industry, company_size, province, city, district, address, phones, emails, wechat,
              gender, credit_code, source, notes, created_at, updated_at, origin, version,
              name_key, owner_id)
            SELECT 'company', '客户' || i, '', '', '', '', '', '', '', '', '', '[]', '[]', '',
                   '', '', '', '', '{NOW}', '{NOW}', 'demo', 1, '', {reps[0]} + ((i / 3) % 10)
            FROM seq""")
        # A fifth with a marketing consent; every tenth of those withdrawn; every twentieth
        # customer also has an older, superseded row (granted, then asked again).
        cur.execute(f"""
            INSERT INTO privacy_consent (customer_id, contact_name, purpose, legal_basis,
              notice_version, channel, sensitive, note, granted_at, withdrawn_at,
              withdrawal_note, is_current, origin, created_at, version)
            SELECT id, '', 'marketing', 'consent', 'v3', 'phone', 0, '', '{NOW}',
                   CASE WHEN id % 50 = 0 THEN '{NOW}' END, '', 1, 'demo', '{NOW}', 1
            FROM customers_customer WHERE id % 5 = 0""")
        cur.execute(f"""
            INSERT INTO privacy_consent (customer_id, contact_name, purpose, legal_basis,
              notice_version, channel, sensitive, note, granted_at, withdrawn_at,
              withdrawal_note, is_current, origin, created_at, version)
            SELECT id, '', 'marketing', 'consent', 'v2', 'paper', 0, '', '{NOW}', '{NOW}', '',
                   0, 'demo', '{NOW}', 1
            FROM customers_customer WHERE id % 20 = 0""")


def timed(label: str, viewer, state: str) -> None:
    from kehu.customers.filters import CustomerFilters
    from kehu.customers.selectors import customers_visible

    filters = CustomerFilters.from_params(
        {"filter": f'{{"field": "consent.marketing", "op": "in", "value": ["{state}"]}}'})
    for run in ("cold", "warm"):
        start = time.perf_counter()
        count = filters.apply(customers_visible(viewer=viewer), viewer=viewer).count()
        print(f"{label:6} {state:9} {run}: {count:>8,} in {time.perf_counter() - start:.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT / "var/bench/consent-1000k"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ["KEHU_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    from kehu.accounts.models import User

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="admin").exists():
        start = time.perf_counter()
        build(args.customers)
        print(f"built {args.customers:,} customers in {time.perf_counter() - start:.1f} s")
    admin, rep = User.objects.get(username="admin"), User.objects.get(username="rep3")
    for state in ("withdrawn", "granted", "unknown"):
        timed("admin", admin, state)
        timed("rep", rep, state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
