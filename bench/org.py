"""The benchmarks' second organisation: a company of 200 reps, beside the demo's 11 people.

    .venv/bin/python bench/org.py [--customers 1000000] [--seed 1]

The demo team (2 managers, 8 reps) owns everything, so each manager's scope is half the
table and a walk of the list's index is always cheap. Real companies look otherwise, and the
scope plans (customers.scope_plans) are measured here where they look like real companies:

- 5 regions (大区) with a manager each (本部门及下属), 20 departments under them, each with
  a manager and its reps: 200 reps in all. Region 1 holds 5 departments of 10 reps (the
  manager of 50 reps); 一个小团队 in region 5 is a manager and 2 reps owning 100 customers.
- 20 % of the customers in a pool (公海, owner NULL) serving regions 1 and 2.
- The rest owned by the other 198 reps with Zipf-distributed shares (s = 1: the busiest rep
  owns ~140,000 of 800,000, the quietest ~700), ranks shuffled across the departments.
- One rep (rank 100) with 500 running shares of other reps' customers.
- Opportunities follow their customer's owner.

Copies the demo bench database that bench/run.py builds (`var/bench/sqlite-c<N>-s<S>/`)
to `var/bench/sqlite-c<N>-s<S>-enterprise/` and reshapes the copy (~1 minute at 1,000,000
customers); `enterprise.json` there names the people the scenarios use. SQLite only: for
PostgreSQL, move the reshaped copy up with `kehu migrate-db`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIONS = 5
REPS = 200
SMALL_TEAM = (60, 40)  # the small team's two reps' customers: 100 in all
POOL_SHARE = 0.2
SHARES = 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(build(args.customers, args.seed), ensure_ascii=False, indent=1))
    return 0


def enterprise_dir(customers: int, seed: int) -> Path:
    return ROOT / "var" / "bench" / f"sqlite-c{customers}-s{seed}-enterprise"


def build(customers: int, seed: int) -> dict:
    """The reshaped copy's people (built once; reused while its marker is there)."""
    source = ROOT / "var" / "bench" / f"sqlite-c{customers}-s{seed}"
    target = enterprise_dir(customers, seed)
    marker = target / "enterprise.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if not (source / "bench-ready.json").exists():
        sys.exit(f"{source} is not built: run bench/run.py --customers {customers} first")
    started = time.monotonic()
    copy_database(source, target)
    os.environ["KEHU_DATA_DIR"] = str(target)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    people = reshape(random.Random(seed))
    people["seconds"] = round(time.monotonic() - started, 1)
    marker.write_text(json.dumps(people, ensure_ascii=False))
    return people


def copy_database(source: Path, target: Path) -> None:
    """The demo data directory, keys included (the phones are encrypted with them)."""
    with sqlite3.connect(source / "kehu.sqlite3") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.log", "bench-ready.json",
                                                                  "kehu.sqlite3-*"))


def reshape(rng: random.Random) -> dict:
    from django.db import transaction

    with transaction.atomic():
        org = make_org()
        owners = assign_owners(rng, org)
        pool_customers(org, owners)
        sharer = org["ranked"][99]
        share_customers(rng, sharer, owners)
        follow_owners()
    return {"small_manager": org["small_manager"], "region_manager": org["region_manager"],
            "department_manager": "d31.mgr", "pool_department_manager": "d21.mgr",
            "sharer": username(sharer),
            "pool_rep": org["pool_rep"], "busy_rep": username(org["ranked"][0]),
            "quiet_rep": username(org["ranked"][-1])}


def username(pk: int) -> str:
    from kehu.accounts.models import User

    return User.objects.get(pk=pk).username


def make_org() -> dict:
    """Departments and people, created directly (no password hashing: nobody signs in with
    a password here, the scenarios use API tokens)."""
    from kehu.accounts.models import Role, User
    from kehu.accounts.services import department_path

    roles = {r.code: r for r in Role.objects.all()}
    sizes = department_sizes()
    made: dict = {"reps": [], "small": []}
    number = 0
    for region, departments in enumerate(sizes, 1):
        region_path = f"总部/大区{region}"
        region_manager = _user(f"r{region}.mgr", f"大区经理{region}", roles["manager"],
                               department_path(region_path), None)
        for dept, reps in enumerate(departments, 1):
            small = reps == len(SMALL_TEAM)
            name = "一个小团队" if small else f"部门{region}-{dept}"
            department = department_path(f"{region_path}/{name}")
            manager = _user(f"d{region}{dept}.mgr", f"经理{region}-{dept}", roles["manager"],
                            department, region_manager)
            for _ in range(reps):
                number += 1
                rep = _user(f"rep{number:03d}", f"销售{number:03d}", roles["sales"], department,
                            manager)
                (made["small"] if small else made["reps"]).append(rep.pk)
                if region == 1:
                    made.setdefault("pool_rep", rep.username)
            if small:
                made["small_manager"] = manager.username
    made["region_manager"] = "r1.mgr"
    assert User.objects.filter(role=roles["sales"], username__startswith="rep").count() == REPS
    return made


def department_sizes() -> list[list[int]]:
    """Reps per department, per region: 50 in region 1, the small team last in region 5."""
    sizes = [[10] * 5, [10] * 4, [11] * 4, [11] * 4, [11, 11, len(SMALL_TEAM)]]
    rest = REPS - sum(map(sum, sizes))
    sizes[1][0] += rest  # whatever is left over joins region 2's first department
    return sizes


def _user(username: str, display: str, role, department, manager):
    from kehu.accounts.models import User

    user = User(username=username, display_name=display, role=role, department=department,
                manager=manager)
    user.set_unusable_password()
    user.save()
    return user


def assign_owners(rng: random.Random, org: dict) -> dict[int, int | None]:
    """Customer id → owner id: the pool's 20 % None, the small team 100, Zipf for the rest."""
    from kehu.customers.models import Customer

    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    rng.shuffle(ids)
    pool_count = int(len(ids) * POOL_SHARE)
    owners: dict[int, int | None] = dict.fromkeys(ids[:pool_count])
    rest = ids[pool_count:]
    small = [pk for pk, n in zip(org["small"], SMALL_TEAM, strict=True) for _ in range(n)]
    owners.update(zip(rest[:len(small)], small, strict=True))
    ranked = list(org["reps"])
    rng.shuffle(ranked)
    org["ranked"] = ranked
    weights = [1 / rank for rank in range(1, len(ranked) + 1)]
    owners.update(zip(rest[len(small):], rng.choices(ranked, weights, k=len(rest) - len(small)),
                      strict=True))
    _write_owners(owners)
    return owners


def _write_owners(owners: dict[int, int | None]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_owner (id integer PRIMARY KEY, owner_id integer)")
        cursor.executemany("INSERT INTO bench_owner VALUES (%s, %s)", list(owners.items()))
        cursor.execute("UPDATE customers_customer SET owner_id = (SELECT owner_id FROM "
                       "bench_owner b WHERE b.id = customers_customer.id)")
        cursor.execute("DROP TABLE bench_owner")


def pool_customers(org: dict, owners: dict[int, int | None]) -> None:
    from django.utils import timezone

    from kehu.accounts.models import Department
    from kehu.pool.models import Pool, PoolEntry

    pool = Pool.objects.create(name="公海", daily_claims=5, reclaim_wait_days=30)
    pool.departments.set(Department.objects.filter(name__in=["大区1", "大区2"]))
    now = timezone.now()
    pooled = [pk for pk, owner in owners.items() if owner is None]
    PoolEntry.objects.bulk_create((PoolEntry(customer_id=pk, pool=pool, entered_at=now,
                                             reason="bench") for pk in pooled), batch_size=5000)


def share_customers(rng: random.Random, sharer: int, owners: dict[int, int | None]) -> None:
    from kehu.customers.models import CustomerShare

    others = [pk for pk, owner in owners.items() if owner not in (None, sharer)]
    CustomerShare.objects.bulk_create(CustomerShare(customer_id=pk, user_id=sharer, level="view")
                                      for pk in rng.sample(others, SHARES))


def follow_owners() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE history_opportunity SET owner_id = (SELECT c.owner_id FROM "
                       "customers_customer c WHERE c.id = history_opportunity.customer_id) "
                       "WHERE customer_id IN (SELECT id FROM customers_customer "
                       "WHERE owner_id IS NOT NULL)")


if __name__ == "__main__":
    sys.exit(main())
