"""Where a customer-list request's milliseconds go, measured in process.

    KEHU_DATA_DIR=var/bench/sqlite-c1000000-s1 .venv/bin/python bench/list_profile.py \
        [--requests 500] [--who admin] [--path '/api/v1/customers?limit=50'] [--cprofile 25]

Sets Django up on an existing data directory (a bench or demo database; it adds one API
token per person it acts as, nothing else), then sends the request `--requests` times
through Django's test client — every middleware, the URL resolver, ninja, the endpoint —
and prints:

- the whole request (p50 / p99 / mean), and the queries one request sends;
- each middleware's own time (its time minus the layers inside it; process_view hooks
  land in "view"), from a timing wrapper around every layer of the chain;
- the time inside the functions named by `--time` (module:attribute, patched where they
  are looked up), per request;
- with `--cprofile N`, the N costliest functions under cProfile (own time and cumulative).

Times are CPU time of this thread (`--clock cpu`, the default: what a request costs the
server, steady while other work shares the machine) or wall-clock time (`--clock wall`).
The rate limits are off unless `--rate-limits` (bench/run.py turns them off too). `--who` is
admin, rep (wang.fang, own scope), manager (zhou.min) or analyst (sun.yu, masked values).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
clock = time.thread_time  # set from --clock
RATE_LIMITS = ("KEHU_API_RATE_PER_TOKEN", "KEHU_API_RATE_PER_ADDRESS")
PEOPLE = {"admin": "admin", "rep": "wang.fang", "manager": "zhou.min", "analyst": "sun.yu"}
TIMED = (
    "kehu.accounts.auth:token_authenticate",
    "kehu.customers.api:CustomerFilters.from_params",
    "kehu.customers.api:selectors.customer_list",
    "kehu.customers.api:selectors.customer_rows",
    "kehu.customers.scoping:access_for",
    "kehu.customers.scoping:shares_of",
    "kehu.customers.scoping:view_grants",
    "kehu.customers.selectors:paginate",
    "kehu.customers.selectors:attach_owners",
    "kehu.customers.selectors:attach_tags_and_custom",
    "kehu.customers.selectors:mask_for",
    "kehu.customers.selectors:mask_sensitive_custom",
    "kehu.customers.api:page_body",
    "kehu.customers.api:json_response",
)


def main(argv: list[str] | None = None) -> int:
    global clock
    args = parse_args(argv)
    clock = CLOCKS[args.clock]
    setup(args)
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(PEOPLE[args.who])}")
    layers = time_middleware()
    timers = {name: patch_timer(name) for name in args.time.split(",") if name and resolve(name)}
    for _ in range(args.warmup):
        check(client.get(args.path))
    connection.force_debug_cursor = True  # request_started empties the log: read it after
    check(client.get(args.path))
    queries = connection.queries
    connection.force_debug_cursor = False
    reset(layers, timers)
    times = []
    for _ in range(args.requests):
        started = clock()
        check(client.get(args.path))
        times.append(clock() - started)
    report(args, times, queries, layers, timers)
    if args.cprofile:
        profile(client, args)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--who", choices=sorted(PEOPLE), default="admin")
    parser.add_argument("--path", default="/api/v1/customers?limit=50")
    parser.add_argument("--time", default=",".join(TIMED), help="module:attribute,… to time")
    parser.add_argument("--cprofile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--rate-limits", action="store_true", help="leave the rate limits on")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    return parser.parse_args(argv)


def setup(args: argparse.Namespace) -> None:
    if "KEHU_DATA_DIR" not in os.environ:
        sys.exit("Set KEHU_DATA_DIR to a data directory holding a (bench or demo) database.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings")
    os.environ["KEHU_DEBUG"] = "0"  # DEBUG would keep every query's text
    if not args.rate_limits:
        os.environ.update(dict.fromkeys(RATE_LIMITS, "off"))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def token_for(username: str) -> str:
    from kehu.accounts.models import User
    from kehu.accounts.services import token_create

    return token_create(user=User.objects.get(username=username), name="list_profile")[1]


def check(response: Any) -> None:
    if response.status_code != 200:
        sys.exit(f"HTTP {response.status_code}: {response.content[:300]!r}")


# --- timing the middleware chain --------------------------------------------------------


class Layer:
    """One middleware's instance wrapped: its total time per call (inner layers included)."""

    def __init__(self, name: str, inner: Any, totals: dict[str, float]) -> None:
        self.name, self.inner, self.totals = name, inner, totals

    def __call__(self, request: Any) -> Any:
        started = clock()
        try:
            return self.inner(request)
        finally:
            self.totals[self.name] += clock() - started

    def __getattr__(self, attr: str) -> Any:  # process_view, process_exception, …
        return getattr(self.inner, attr)


def time_middleware() -> dict[str, float]:
    """Wrap each middleware as Django builds the chain (on the client's first request), and
    the innermost handler as "view" (resolving, process_view hooks, ninja, the endpoint)."""
    from django.core.handlers import base

    totals: dict[str, float] = defaultdict(float)
    original_import, original_get_response = base.import_string, base.BaseHandler._get_response

    def importing(path: str) -> Any:
        cls = original_import(path)
        if not path.endswith("Middleware"):
            return cls

        def build(get_response: Any) -> Layer:
            return Layer(path.rsplit(".", 1)[1], cls(get_response), totals)
        build.sync_capable, build.async_capable = True, False  # type: ignore[attr-defined]
        return build

    def get_response(self: Any, request: Any) -> Any:
        started = clock()
        try:
            return original_get_response(self, request)
        finally:
            totals["view"] += clock() - started

    base.import_string = importing
    base.BaseHandler._get_response = get_response
    return totals


# --- timing named functions -------------------------------------------------------------


def resolve(name: str) -> tuple[Any, str] | None:
    """(the object holding the attribute, the attribute's name), or None when it is gone."""
    import importlib

    module_name, _, path = name.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, attr = path.split(".")
    for part in parents:
        owner = getattr(owner, part, None)
    return (owner, attr) if owner is not None and hasattr(owner, attr) else None


def patch_timer(name: str) -> dict[str, float]:
    owner, attr = resolve(name)  # type: ignore[misc]
    original = getattr(owner, attr)
    total = {"seconds": 0.0, "calls": 0}
    depth = {"n": 0}  # a recursive or nested call is counted once

    def timed(*args: Any, **kwargs: Any) -> Any:
        if depth["n"]:
            return original(*args, **kwargs)
        depth["n"] += 1
        started = clock()
        try:
            return original(*args, **kwargs)
        finally:
            depth["n"] -= 1
            total["seconds"] += clock() - started
            total["calls"] += 1

    if isinstance(owner, type):
        setattr(owner, attr, staticmethod(timed) if isinstance(owner.__dict__.get(attr), staticmethod)
                else classmethod(lambda _cls, *a, **k: timed(*a, **k))
                if isinstance(owner.__dict__.get(attr), classmethod) else timed)
    else:
        setattr(owner, attr, timed)
    return total


def reset(layers: dict[str, float], timers: dict[str, dict[str, float]]) -> None:
    for name in layers:
        layers[name] = 0.0
    for total in timers.values():
        total["seconds"], total["calls"] = 0.0, 0


# --- the report -------------------------------------------------------------------------


def report(args: argparse.Namespace, times: list[float], queries: list[dict],
           layers: dict[str, float], timers: dict[str, dict[str, float]]) -> None:
    ms = sorted(t * 1000 for t in times)
    n = len(ms)
    print(f"{args.path} as {args.who}, {n} requests in process, {args.clock} time")
    print(f"  request: p50 {ms[n // 2]:.2f} ms  p99 {ms[min(n - 1, int(0.99 * n))]:.2f} ms"
          f"  mean {statistics.fmean(ms):.2f} ms")
    print(f"  {len(queries)} queries per request:")
    for query in queries:
        print(f"    {float(query['time']) * 1000:6.2f} ms  {query['sql'][:150]}")
    print("  middleware, own time per request (ms):")
    from django.conf import settings

    named = [path.rsplit(".", 1)[1] for path in settings.MIDDLEWARE]
    order = [name for name in named if name in layers] + ["view"]  # outermost first
    for i, name in enumerate(order):
        inner = layers[order[i + 1]] if i + 1 < len(order) else 0.0
        own = layers[name] - inner if name != "view" else layers[name]
        print(f"    {own / n * 1000:6.3f}  {name}")
    print("  functions, time per request (ms):")
    for name, total in timers.items():
        if total["calls"]:
            print(f"    {total['seconds'] / n * 1000:6.3f}  {name}  ({total['calls'] / n:g}×)")


def profile(client: Any, args: argparse.Namespace) -> None:
    profiler = cProfile.Profile()
    call: Callable[[], Any] = lambda: client.get(args.path)  # noqa: E731
    profiler.enable()
    for _ in range(args.requests):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    for key in ("tottime", "cumulative"):
        print(f"\n  cProfile, {args.requests} requests, by {key}:")
        stats.sort_stats(key).print_stats(args.cprofile)


if __name__ == "__main__":
    raise SystemExit(main())
