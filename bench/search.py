"""Benchmark quick search: `GET /api/v1/customers?q=` next to the raw gram-index query.

    .venv/bin/python bench/search.py [--customers 1000000] [--seed 1] [--data-dir DIR]
                                     [--requests 200] [--seconds 30]

Uses the demo database of bench/run.py (var/bench/<backend>-c<N>-s<seed>/, built on the
first run, or DATABASE_URL), or any Kehu data directory given with --data-dir. Terms are
picked from the data itself, so "rare" and "common" are what the index says: for one-,
two- and three-plus-character Chinese terms, full pinyin, initials, phone digits and
e-mail parts, the rarest term found among sampled names that still matches (rare) and the
one matching the most customers (common). Each term is timed through the API
(`kehu serve`, 2 gunicorn workers, 2 client threads, an admin's token: every customer in
scope; and a sales rep's for two terms) and as the raw index query alone
(`searchindex.probe`, in this process, the same SQL the search runs first). Results:
printed and saved to bench/results/search-<vendor>-<thousands>k.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py: the servers, the client, the database)

RESULTS = run.ROOT / "bench" / "results" / "search-{vendor}-{size}k.md"
SAMPLE = 3000


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = prepare(args)
    setup = run.build_database(args) if args.data_dir is None else existing(args)
    terms = pick_terms(random.Random(args.seed))
    env = {**os.environ, "KEHU_DATA_DIR": str(data_dir), "KEHU_DEBUG": "0",
           # a benchmark is the runaway script the rate limits stop: off here
           "KEHU_API_RATE_PER_TOKEN": "off", "KEHU_API_RATE_PER_ADDRESS": "off"}
    (port,) = run.free_ports(1)
    server = run.start([str(run.BIN / "kehu"), "serve", "--host", "127.0.0.1", "--port",
                        str(port), "--workers", str(run.WORKERS)], env, data_dir / "kehu.log")
    try:
        run.wait_for(server, port)
        warm_up(args, setup, port, terms)
        rows = [measure_term(args, setup, port, *term) for term in terms]
    finally:
        run.stop(server)
    report(args, setup, rows)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="an existing Kehu data directory (its kehu.sqlite3) instead")
    parser.add_argument("--requests", type=int, default=200, help="per term")
    parser.add_argument("--seconds", type=float, default=30, help="time limit per term")
    parser.set_defaults(org="demo")  # run.py's database for the demo team
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace) -> Path:
    if args.data_dir is None:
        return run.prepare_environment(args)
    os.environ["KEHU_DATA_DIR"] = str(args.data_dir.resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    sys.path.insert(0, str(run.ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return args.data_dir.resolve()


def existing(args: argparse.Namespace) -> dict:
    from kehu.customers.models import Customer

    return {"customers": Customer.objects.count(), "seed": "?", "seconds": "?", **run.identities({})}


# --- terms -------------------------------------------------------------------------


def pick_terms(rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, rare|common, term) for every kind, from names sampled out of the database."""
    from kehu.customers.models import Contact, Customer

    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = sorted(rng.sample(range(1, top + 1), min(SAMPLE, top)))
    rows = list(Customer.objects.filter(pk__in=ids)
                .values_list("name", "name_pinyin", "name_initials", "phones", "emails", "kind"))
    contacts = list(Contact.objects.filter(customer_id__in=ids).values_list("name", flat=True))
    names = [r[0] for r in rows] + contacts
    persons = [r for r in rows if r[5] == "person"]
    candidates = {
        "1 Chinese character": {ch for n in names for ch in n if _cjk(ch)},
        "2 Chinese characters": {n[i:i + 2] for n in names for i in range(len(n) - 1)
                                 if _cjk(n[i]) and _cjk(n[i + 1])},
        "3+ Chinese characters": {n[i:i + 3] for n in names for i in range(len(n) - 2)
                                  if all(map(_cjk, n[i:i + 3]))} | {n for n in contacts if len(n) >= 3},
        "full pinyin": {r[1] for r in persons} | {r[1][:5] for r in rows if len(r[1]) >= 5},
        "initials": {r[2] for r in persons if len(r[2]) >= 2} | {r[2][:2] for r in rows},
        "phone digits": {_digits(p)[-k:] for r in rows for p in r[3] for k in (4, 7)},
        "email part": {part for r in rows for e in r[4] for part in _email_parts(e)},
    }
    frequent = Counter(g for text in names + [r[1] for r in rows] for g in _parts(text))
    picked = []
    for kind, terms in candidates.items():
        counted = _counts(sorted(terms), rng, frequent)
        rare = min((t for t in counted if counted[t] >= 1), key=lambda t: (counted[t], t))
        common = max(counted, key=lambda t: (counted[t], t))
        picked += [(kind, f"rare ({counted[rare]:,})", rare),
                   (kind, f"common ({_many(counted[common])})", common)]
        if kind == "2 Chinese characters":  # the worst cases: near the lines between walks
            picked += [(kind, f"at the {name} line ({counted[term]:,})", term)
                       for name, term in _near_the_lines(counted)]
    return picked


def _near_the_lines(counted: Counter) -> list[tuple[str, str]]:
    """The terms nearest the rare line (`probe_limit()`: ranked from the candidates or
    walked) and, on SQLite, the walk line (`walk_limit()`: walked within the candidates
    or with the plain filter alone), with the line's name."""
    from django.db import connection

    from kehu.customers.searchindex import probe_limit, walk_limit

    lines = [("rare", probe_limit())] + ([("walk", walk_limit())]
                                         if connection.vendor == "sqlite" else [])
    return [(name, min(counted, key=lambda t, at=at: (abs(counted[t] - at), t)))
            for name, at in lines]


def _parts(text: str) -> set[str]:
    return {text[i:i + n] for n in (1, 2, 3, 5) for i in range(len(text) - n + 1)}


def _counts(terms: list[str], rng: random.Random, frequent: Counter, at_most: int = 300) -> Counter:
    """Matches in the index (up to 100,000) of the sample's 100 most frequent terms of a
    kind and up to 200 others picked at random."""
    from kehu.customers.search import index_groups
    from kehu.customers.searchindex import probe

    top = sorted(terms, key=lambda t: (-frequent[t], t))[:100]
    others = sorted(set(terms) - set(top))
    chosen = top + (others if len(others) <= at_most - 100 else rng.sample(others, at_most - 100))
    counted: Counter = Counter()
    for term in chosen:
        groups = index_groups(term, masked={})
        if groups is not None:
            counted[term] = len(probe(groups, limit=100_000, estimate=False) or [])
    return counted


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone.split(";")[0])


def _email_parts(email: str) -> list[str]:
    local, _, domain = email.lower().partition("@")
    return [p for p in (local, domain, email.lower()) if len(p) >= 3]


def _many(count: int) -> str:
    return f"{count:,}" if count < 100_000 else "100,000+"


# --- measuring ------------------------------------------------------------------------


def measure_term(args: argparse.Namespace, setup: dict, port: int, kind: str, how: str,
                 term: str) -> tuple:
    scenario = run.Scenario(f"{kind} {how}", "admin",
                            lambda: (lambda _last: "/api/v1/customers?" + urlencode(
                                {"limit": 50, "q": term})))
    api = run.measure(args, setup, scenario, port)
    rep = None
    if kind in ("2 Chinese characters", "initials"):
        rep = run.measure(args, setup, run.Scenario(scenario.name, "rep", scenario.make), port)
    raw = raw_index(term, args.requests)
    row = (kind, how, term, api, rep, raw)
    print(f"  {kind:<22} {how:<18} {term[:24]:<24} api {run.summary(api):<34} "
          f"rep {run.summary(rep):<34} index {run.summary(raw)}", flush=True)
    return row


def warm_up(args: argparse.Namespace, setup: dict, port: int, terms: list[tuple]) -> None:
    """Every term once through every worker before timing (first requests load code)."""
    for _kind, _how, term in terms:
        run.measure(argparse.Namespace(requests=2 * run.WORKERS, seconds=10), setup,
                    run.Scenario("warm-up", "admin", lambda term=term: (
                        lambda _last: "/api/v1/customers?" + urlencode({"q": term}))), port)


def raw_index(term: str, times: int) -> run.Result:
    """The gram-index queries the search starts with, alone — the probe (at most
    `probe_limit()` + 1 ids; on PostgreSQL PROBE_LIMIT + 1, with their stamps, newest
    first), between rare and common on SQLite the bounded count, and for a common term on
    PostgreSQL its newest days' candidates — as `search.ranked_candidates` and
    `searchindex.newest_window` send them for a first ranked page: the floor for the API's
    time."""
    from kehu.customers.search import index_groups, ranked_candidates
    from kehu.customers.searchindex import newest_window

    result = run.Result()
    if index_groups(term, masked={}) is None:
        result.status = "no index (scan)"
        return result
    for _ in range(times):
        started = time.perf_counter()
        found = ranked_candidates(term, masked={})
        if found.recent is None and found.groups:  # PostgreSQL, a common term
            newest_window(found.groups)
        result.times.append(time.perf_counter() - started)
    return result


def report(args: argparse.Namespace, setup: dict, rows: list[tuple]) -> None:
    from django.db import connection

    lines = [
        "# Quick search benchmark", "",
        f"- {time.strftime('%Y-%m-%d %H:%M')}, {connection.vendor}, {setup['customers']:,} "
        f"demo customers (seed {setup['seed']})",
        f"- API: {run.WORKERS} gunicorn sync workers, {run.CLIENT_THREADS} client threads, up to "
        f"{args.requests} requests or {args.seconds:.0f} s per term, `limit=50`, times in ms, "
        "client side; index: the raw gram queries the search sends first (the probe, at most "
        "`probe_limit()` + 1 ids — on PostgreSQL PROBE_LIMIT + 1, with their stamps, newest "
        "first — between rare and common on SQLite the bounded count, and on PostgreSQL a "
        "common term's newest days), in process",
        "- the count after rare/common: customers the index finds for the term (up to 100,000)",
        "", "| kind | term | | API p50 | p95 | p99 | max | rep p50 | p95 | p99 | max "
        "| index p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, how, term, api, rep, raw in rows:
        lines.append(f"| {kind} | {how} | `{term}` | {run.cells(api)} | {run.cells(rep)} | "
                     f"{run.cells(raw)} |")
    text = "\n".join(lines) + "\n"
    path = Path(str(RESULTS).format(vendor=connection.vendor, size=setup["customers"] // 1000))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print("\n" + text + f"\nSaved to {path.relative_to(run.ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
