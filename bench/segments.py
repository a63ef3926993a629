"""Benchmark counting a segment's members at 1,000,000 customers (the condition language).

    .venv/bin/python bench/segments.py [--data-dir var/bench/dedup-c1000000-s1]

Counts two conditions — 华东 + 制造业 (plain columns) and the same + spent ≥ ¥100,000 (a
history figure, an aggregate over the orders) — as the admin (everyone in scope) and as
one sales rep, twice each (cold, then warm), through `CustomerFilters` on the gate's
queryset, as the list, the API, exports and segment counts do. Prints the counts and times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAIN = {"all": [{"field": "province", "op": "in", "value": ["浙江省", "江苏省", "上海市"]},
                 {"field": "industry", "op": "in", "value": ["manufacturing"]}]}
SPENT = {"all": [*PLAIN["all"], {"field": "total_spent", "op": "gte", "value": "100000"}]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT / "var/bench/dedup-c1000000-s1"))
    args = parser.parse_args()
    os.environ["KEHU_DATA_DIR"] = args.data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    from kehu.accounts.models import User
    from kehu.customers.filters import CustomerFilters
    from kehu.customers.selectors import customers_visible

    call_command("migrate", interactive=False, verbosity=0)
    people = [User.objects.get(username="admin"), User.objects.filter(role__code="sales").first()]
    for run in ("cold", "warm"):
        for label, condition in (("华东+制造业", PLAIN), ("华东+制造业+消费≥10万", SPENT)):
            for viewer in people:
                filters = CustomerFilters.from_params({"filter": json.dumps(condition)})
                started = time.perf_counter()
                count = filters.apply(customers_visible(viewer=viewer), viewer=viewer).count()
                print(f"{run}\t{label}\t{viewer.username}\t{count:,}\t"
                      f"{time.perf_counter() - started:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
