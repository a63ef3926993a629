"""Counting customers by marketing consent at 1,000,000 customers (SQLite).

    .venv/bin/python bench/consent.py [--data-dir var/bench/consent-1000k] [--customers 1000000]
    .venv/bin/python bench/consent.py --postgres   # a throwaway server (core.testing.pgserver)

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
    pg = connection.vendor == "postgresql"
    yes, no, now = ("true", "false", f"'{NOW}+08'::timestamptz") if pg else ("1", "0", f"'{NOW}'")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"""
            WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})
            INSERT INTO customers_customer (kind, name, short_name, name_pinyin, name_initials,
              industry, company_size, province, city, district, address, phones, emails, wechat,
              gender, credit_code, source, notes, created_at, updated_at, origin, version,
              name_key, owner_id)
            SELECT 'company', '客户' || i, '', '', '', '', '', '', '', '', '', '[]', '[]', '',
                   '', '', '', '', {now}, {now}, 'demo', 1, '', {reps[0]} + ((i / 3) % 10)
            FROM seq""")
        # A fifth with a marketing consent; every tenth of those withdrawn; every twentieth
        # customer also has an older, superseded row (granted, then asked again).
        cur.execute(f"""
            INSERT INTO privacy_consent (customer_id, contact_name, purpose, legal_basis,
              notice_version, channel, sensitive, note, granted_at, withdrawn_at,
              withdrawal_note, is_current, origin, created_at, version)
            SELECT id, '', 'marketing', 'consent', 'v3', 'phone', {no}, '', {now},
                   CASE WHEN id % 50 = 0 THEN {now} END, '', {yes}, 'demo', {now}, 1
            FROM customers_customer WHERE id % 5 = 0""")
        cur.execute(f"""
            INSERT INTO privacy_consent (customer_id, contact_name, purpose, legal_basis,
              notice_version, channel, sensitive, note, granted_at, withdrawn_at,
              withdrawal_note, is_current, origin, created_at, version)
            SELECT id, '', 'marketing', 'consent', 'v2', 'paper', {no}, '', {now}, {now}, '',
                   {no}, 'demo', {now}, 1
            FROM customers_customer WHERE id % 20 = 0""")
    if pg:  # as the demo loader does after its bulk load (without, see the results file)
        with connection.cursor() as cur:
            cur.execute("ANALYZE customers_customer")
            cur.execute("ANALYZE privacy_consent")


def timed(label: str, viewer, state: str, op: str = "in") -> None:
    from kehu.customers.filters import CustomerFilters
    from kehu.customers.selectors import customers_visible

    filters = CustomerFilters.from_params(
        {"filter": f'{{"field": "consent.marketing", "op": "{op}", "value": ["{state}"]}}'})
    for run in ("cold", "warm"):
        start = time.perf_counter()
        count = filters.apply(customers_visible(viewer=viewer), viewer=viewer).count()
        said = state if op == "in" else f"{op} {state}"
        print(f"{label:6} {said:17} {run}: {count:>8,} in {time.perf_counter() - start:.3f} s")


def _postgres() -> str:
    """A throwaway server (stopped at exit) with an empty database `kehu`."""
    sys.path.insert(0, str(ROOT / "src"))
    from kehu.core.testing.pgserver import start_server_with_database

    return start_server_with_database()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT / "var/bench/consent-1000k"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    args = parser.parse_args()
    if args.postgres:
        os.environ["DATABASE_URL"] = _postgres()
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
    for state, op in (("withdrawn", "in"), ("granted", "in"), ("unknown", "in"),
                      ("withdrawn", "not_in")):  # the last: an export leaving out 勿营销
        timed("admin", admin, state, op)
        timed("rep", rep, state, op)
    return 0


if __name__ == "__main__":
    sys.exit(main())
