"""Benchmark imports: `kehu import customers FILE` on a fresh SQLite, next to a raw baseline.

    .venv/bin/python bench/import.py [--rows 10000,100000] [--profile 20000]

For each size a customer CSV is generated (distinct names and mobiles, an e-mail on half
the rows, a contact with a title, industry, province, city, source, notes; 1 row in 500
repeats an earlier row's mobile, 1 in 1,000 has a bad mobile) under var/bench/import/.
Each measurement runs in a child process of its own and its peak RSS comes from wait4():

- raw: the same CSV read with the csv module and inserted with sqlite3 executemany
  (batches of 1,000, one transaction each) into a plain table of the same columns;
- kehu: `kehu import customers FILE` (the CLI: upload, guessed mapping, default match keys
  phone and e-mail, the `transfer.import` job in the foreground) on a copy of a freshly
  migrated SQLite data directory (KEHU_DATA_DIR) with one admin. Its rate is the wall time
  of the whole command (Django start, counting the rows, the error report included).

`--profile N` also runs one N-row import under cProfile and prints the cost per row of
each stage. Results: printed and saved to bench/results/import-sqlite.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import pstats
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var/bench/import"
KEHU = Path(sys.executable).with_name("kehu")
HEADER = ["客户名称", "客户类型", "所属行业", "省份", "城市", "联系人", "职务", "手机", "邮箱",
          "客户来源", "备注"]
RAW_COLUMNS = ["name", "kind", "industry", "province", "city", "contact", "title", "phones",
               "emails", "source", "notes"]
CITIES = [("浙江省", "杭州"), ("浙江省", "宁波"), ("江苏省", "南京"), ("江苏省", "苏州"),
          ("广东省", "广州"), ("广东省", "深圳"), ("四川省", "成都"), ("湖北省", "武汉"),
          ("山东省", "青岛"), ("福建省", "厦门"), ("河南省", "郑州"), ("湖南省", "长沙")]
BRAND = "华金恒泰嘉盛鑫达瑞丰宏远安信源鼎新创博通佳宇隆兴和顺明联众诚德康利晟荣凯锦辉润正元"
TRADES = [("科技", "软件/IT"), ("贸易", "批发零售"), ("食品", "快消品"), ("物流", "物流运输"),
          ("医药", "医疗健康"), ("建材", "建筑/房地产"), ("机械", "制造业"), ("餐饮", "餐饮酒店"),
          ("教育", "教育培训"), ("传媒", "文化传媒")]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]
TITLES = ["总经理", "采购经理", "财务主管", "行政主管", "董事长", "技术总监"]
SOURCES = ["展会", "官网咨询", "客户转介绍", "电话营销", "合作伙伴"]
PREFIXES = ["138", "139", "150", "151", "186", "187", "135", "136", "177", "199"]


def company(i: int) -> tuple[str, str, str, str]:
    """Row i's (name, industry, province, city): a bijection on i, so names never repeat."""
    i, suffix = divmod(i, len(SUFFIXES))
    i, trade = divmod(i, len(TRADES))
    i, place = divmod(i, len(CITIES))
    i, second = divmod(i, len(BRAND))
    i, first = divmod(i, len(BRAND))
    extra = BRAND[i % len(BRAND)] * (i // len(BRAND) + 1) if i else ""  # beyond 2.1 M rows
    province, city = CITIES[place]
    word, industry = TRADES[trade]
    return f"{city}{BRAND[first]}{BRAND[second]}{extra}{word}{SUFFIXES[suffix]}", industry, \
        province, city + "市"


def mobile(i: int) -> str:
    # 7919 is prime to 10^8: i -> digits is one-to-one below 10^8 rows.
    return PREFIXES[i % len(PREFIXES)] + f"{(i * 7919) % 10**8:08d}"


def write_csv(path: Path, rows: int) -> dict[str, int]:
    """The sheet, and what importing it must give: rejected (bad mobiles), merged (repeats)."""
    rejected = merged = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            name, industry, province, city = company(i)
            phone = mobile(i)
            if i % 1000 == 999:
                phone, rejected = phone[:7], rejected + 1
            elif i % 500 == 499:
                phone, merged = mobile(i - 250), merged + 1
            person = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)]
            writer.writerow([name, "企业", industry, province, city, person,
                             TITLES[i % len(TITLES)], phone,
                             f"contact{i}@example.cn" if i % 2 else "",
                             SOURCES[i % len(SOURCES)], "老客户，年底回访" if i % 7 == 0 else ""])
    return {"rejected": rejected, "merged": merged, "created": rows - rejected - merged}


# --- the measurements, each in a child process ----------------------------------------------


def raw_insert(csv_path: Path, db_path: Path) -> int:
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    columns = ", ".join(f"{c} TEXT" for c in RAW_COLUMNS)
    db.execute(f"CREATE TABLE customer (id INTEGER PRIMARY KEY, {columns})")
    sql = (f"INSERT INTO customer ({', '.join(RAW_COLUMNS)})"
           f" VALUES ({', '.join('?' * len(RAW_COLUMNS))})")
    count = 0
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        while batch := [row for _n, row in zip(range(1000), reader, strict=False)]:
            db.execute("BEGIN")
            db.executemany(sql, batch)
            db.execute("COMMIT")
            count += len(batch)
    return count


def measure(argv: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB, wait4) and peak heap (MB: Pss_Anon of the process and
    its children, sampled every 0.2 s) of one child process. RSS counts the database pages
    SQLite maps (mmap_size 1 GB in settings); the heap is what the import itself holds
    (with SQLite's 64 MB page cache)."""
    start = time.perf_counter()
    heap = 0
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            heap = max(heap, _rss_anon_kb(process.pid))
            time.sleep(0.2)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{argv[1:3]} failed:\n" + log.read_text(errors="replace")[-3000:])
    return seconds, usage.ru_maxrss / 1024, heap / 1024


def _rss_anon_kb(pid: int) -> int:
    """Anonymous memory of the process and its descendants (the import's cleaning process is
    a fork): the sum of their Pss_Anon, so a page the two still share counts once."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return 0
    own = next((int(line.split()[1]) for line in rollup.splitlines()
                if line.startswith("Pss_Anon:")), 0)
    return own + sum(_rss_anon_kb(child) for child in children)


def kehu_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "KEHU_DATA_DIR": str(data_dir), "KEHU_LOG_LEVEL": "WARNING"}


def fresh_template() -> Path:
    """A migrated data directory with one admin, built once per bench run."""
    template = WORK / "template"
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    env = kehu_env(template)
    subprocess.run([str(KEHU), "migrate", "-v", "0"], env=env, check=True)  # noqa: S603
    subprocess.run([str(KEHU), "user", "create", "admin", "--role", "admin"], env=env,  # noqa: S603
                   input="bench-pass-123\n", text=True, check=True, capture_output=True)
    return template


def data_dir_from(template: Path, name: str) -> Path:
    target = WORK / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(template, target)
    return target


def import_counts(data_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(data_dir / "kehu.sqlite3")
    created, unchanged, rejected = db.execute(
        "SELECT created, unchanged, rejected FROM transfer_importrun ORDER BY id DESC").fetchone()
    customers = db.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
    return {"created": created, "merged": unchanged, "rejected": rejected, "customers": customers}


def bench_size(template: Path, rows: int) -> dict:
    csv_path = WORK / f"customers-{rows}.csv"
    expected = write_csv(csv_path, rows)
    raw_s, raw_mb, _raw_heap = measure([sys.executable, __file__, "--raw", str(csv_path)], dict(os.environ),
                            WORK / f"raw-{rows}.log")
    data_dir = data_dir_from(template, f"data-{rows}")
    kehu_s, kehu_mb, kehu_heap = measure([str(KEHU), "import", "customers", str(csv_path)],
                              kehu_env(data_dir), WORK / f"kehu-{rows}.log")
    load = os.getloadavg()[0]  # the 1-minute load as the import ends: a shared machine
    got = import_counts(data_dir)
    if got["created"] != expected["created"] or got["customers"] != expected["created"]:
        raise SystemExit(f"{rows} rows: expected {expected}, got {got}")
    return {"rows": rows, "raw_s": raw_s, "raw_mb": raw_mb, "kehu_s": kehu_s,
            "kehu_mb": kehu_mb, "kehu_heap": kehu_heap, "load": load, **got}


# --- the profile ---------------------------------------------------------------------------

# Stage -> (file suffix, function) whose cumulative time is that stage's. Stages nest (the
# writer holds customers_bulk_create, which holds pinyin, keys and the search index).
STAGES = {
    "reading the CSV (open_sheet rows, both passes)": ("transfer/reading.py", "rows"),
    "row shape (header -> fields)": ("transfer/rows.py", "row"),
    "planning a batch (cleaning + match keys + decide)": ("transfer/planning.py", "plan"),
    "  cleaning (planner.clean)": ("transfer/planning.py", "clean"),
    "    customers cleaning (clean_customer)": ("customers/cleaning.py", "clean_customer"),
    "    contact cleaning (clean_contact)": ("customers/cleaning.py", "clean_contact"),
    "  match-key lookup (keys_lookup)": ("customers/bulk.py", "keys_lookup"),
    "writer (_write)": ("transfer/importing.py", "_write"),
    "  customers_bulk_create": ("customers/bulk.py", "customers_bulk_create"),
    "    customer rows (_customer, pinyin included)": ("customers/bulk.py", "_customer"),
    "    pinyin (name_pinyin)": ("customers/pinyin.py", "name_pinyin"),
    "    keys (keys_refresh)": ("customers/keys.py", "keys_refresh"),
    "    search index (search_index_refresh)": ("customers/searchindex.py",
                                                "search_index_refresh"),
    # The generator's frames: the checkpoint and the batch's COMMIT.
    "checkpoint + commit (ctx.step)": ("jobs/context.py", "step"),
    "error report (write_report)": ("transfer/report.py", "write_report"),
}


def profile_child(csv_path: Path, data_dir: Path, out: Path) -> None:
    """The import in this process under cProfile; the INSERTs timed per table beside it
    (core.inserts.insert_rows and the ORM's bulk_create, whichever a table goes through)."""
    import cProfile
    import json

    os.environ.update(kehu_env(data_dir))
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models.query import QuerySet

    from kehu.core import inserts

    spent: dict[str, float] = {}

    def timed(original, model_of):  # type: ignore[no-untyped-def]
        def wrapper(first, *args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return original(first, *args, **kwargs)
            finally:
                label = model_of(first)._meta.label
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start
        return wrapper

    inserts.insert_rows = timed(inserts.insert_rows, lambda model: model)
    QuerySet.bulk_create = timed(QuerySet.bulk_create, lambda qs: qs.model)  # type: ignore[method-assign]
    profiler = cProfile.Profile()
    profiler.runcall(call_command, "import", "customers", str(csv_path))
    profiler.dump_stats(str(out))
    out.with_suffix(".json").write_text(json.dumps(spent))


def profile(template: Path, rows: int) -> list[tuple[str, float, float]]:
    import json

    csv_path = WORK / f"customers-{rows}.csv"
    write_csv(csv_path, rows)
    data_dir = data_dir_from(template, f"profile-{rows}")
    out = WORK / f"profile-{rows}.pstats"
    measure([sys.executable, __file__, "--profile-child", str(csv_path), str(data_dir), str(out)],
            dict(os.environ), WORK / f"profile-{rows}.log")
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    total = max(ct for (_cc, _nc, _tt, ct, _callers) in stats.values())
    found = []
    for stage, (suffix, wanted) in STAGES.items():
        cumulative = sum(ct for (path, _line, name), (_cc, _nc, _tt, ct, _c) in stats.items()
                         if path.endswith(suffix) and name == wanted)
        found.append((stage, cumulative, cumulative / rows * 1e6))
    for label, seconds in sorted(json.loads(out.with_suffix(".json").read_text()).items()):
        found.append((f"INSERT {label} (timed, under cProfile)", seconds,
                      seconds / rows * 1e6))
    found.append(("whole command (under cProfile)", total, total / rows * 1e6))
    return found


# --- report --------------------------------------------------------------------------------


def git_head() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,  # noqa: S607
                          capture_output=True, text=True, check=False).stdout.strip()


def report(results: list[dict], profiled: list[tuple[str, float, float]], rows: int | None,
           head: str) -> str:
    lines = [f"# Import bench (SQLite), {dt.date.today().isoformat()}, at {head}", "",  # noqa: DTZ011
             "`.venv/bin/python bench/import.py` — one run on a 2-core machine shared with other"
             " work. Kehu: `kehu import customers FILE` in a child process on a fresh SQLite"
             " data directory (match keys phone, e-mail); raw: csv module + sqlite3 executemany"
             " into a plain table of the same columns. Rates are rows of the file per second"
             " of wall time; peak RSS from wait4() (it counts the database pages SQLite maps,"
             " mmap_size 1 GB), peak heap = Pss_Anon of the import and its cleaning process,"
             " sampled every 0.2 s (SQLite's 64 MB page cache included); load = the 1-minute"
             " load average as the import ended.", "",
             "| rows | raw rows/s | raw peak RSS | Kehu rows/s | Kehu s | Kehu peak RSS |"
             " Kehu peak heap | raw ÷ Kehu | load | created / merged / rejected |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['rows'] / r['raw_s']:,.0f} | {r['raw_mb']:.0f} MB"
            f" | {r['rows'] / r['kehu_s']:,.0f} | {r['kehu_s']:.1f} | {r['kehu_mb']:.0f} MB"
            f" | {r['kehu_heap']:.0f} MB | {r['kehu_s'] / r['raw_s']:.0f}× | {r['load']:.1f}"
            f" | {r['created']:,} / {r['merged']:,} / {r['rejected']:,} |")
    if profiled:
        lines += ["", f"## Where the time goes ({rows:,}-row import under cProfile)", "",
                  "Cumulative time per stage; stages nest (the writer contains bulk_create"
                  " etc.). cProfile slows Python code more than the database.", "",
                  "| stage | s | µs per row |", "|---|---:|---:|"]
        lines += [f"| {stage} | {s:.1f} | {us:,.0f} |" for stage, s, us in profiled]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,1000000",
                        help="comma-separated sizes (e.g. 10000,100000,1000000)")
    parser.add_argument("--profile", type=int, default=0, help="profile one import of N rows")
    parser.add_argument("--raw", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_child:
        profile_child(*(Path(p) for p in args.profile_child))
        return
    if args.raw:
        raw_insert(Path(args.raw), Path(args.raw).with_suffix(".raw.sqlite3"))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    head = git_head()  # the code the children load at their start
    template = fresh_template()
    results = []
    for rows in [int(n) for n in args.rows.split(",") if n]:
        results.append(r := bench_size(template, rows))
        print(f"{rows:>9,} rows  raw {rows / r['raw_s']:>9,.0f} rows/s {r['raw_mb']:5.0f} MB"
              f"  kehu {rows / r['kehu_s']:>7,.0f} rows/s ({r['kehu_s']:.1f} s)"
              f" {r['kehu_mb']:5.0f} MB (heap {r['kehu_heap']:.0f} MB) load {r['load']:.1f}",
              flush=True)
    profiled = profile(template, args.profile) if args.profile else []
    for stage, seconds, us in profiled:
        print(f"  {stage:60} {seconds:7.1f} s {us:8,.0f} µs/row")
    text = report(results, profiled, args.profile, head)
    (ROOT / "bench/results/import-sqlite.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
