"""schemathesis over the whole OpenAPI document, in-process, as an admin and as a sales rep.

Keeps issue 7 #5 closed: every operation of /api/v1/openapi.json is called with
generated valid and invalid input (schemathesis' coverage and fuzzing phases, fixed
seed, derandomized) against the Django app through WSGI, on seeded demo data so ids
hit real records. Two checks: no answer is a 5xx, and every answer matches the
response schema the document states for its status. Any failure fails the build.

Budget: KEHU_FUZZ_EXAMPLES fuzzing examples per operation and identity (default 6,
a few thousand requests in all, about two minutes on two cores). A deeper run:

    KEHU_FUZZ_EXAMPLES=100 KEHU_TEST_DB=sqlite .venv/bin/pytest tests/api/test_schemathesis.py -s

The number of requests and of server errors is printed at the end of the run.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from kehu.accounts.models import User
from kehu.accounts.services import token_create
from kehu.customers.models import Contact, Customer
from kehu.demo import generate
from kehu.history.models import (
    Communication,
    Need,
    Opportunity,
    Order,
    Pipeline,
    Product,
    Stage,
    Survey,
    Ticket,
)

EXAMPLES = int(os.environ.get("KEHU_FUZZ_EXAMPLES", "6"))
SEED = 20260601
CUSTOMERS = 40
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # the demo data's "today": the same rows every day
IDENTITIES = {"admin": "admin", "sales": "wang.fang"}  # demo users: the admin and an east rep

# Path and query parameters that name a record: half the time a real one.
ID_SOURCES: dict[str, type] = {
    "customer_id": Customer, "customer": Customer, "contact_id": Contact,
    "communication_id": Communication, "order_id": Order, "need_id": Need,
    "opportunity_id": Opportunity, "survey_id": Survey, "ticket_id": Ticket,
    "product_id": Product, "pipeline_id": Pipeline, "pipeline": Pipeline, "stage_id": Stage,
    "user_id": User, "owner": User,
}
CHECKS = [not_a_server_error, response_schema_conformance]

TALLY: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
PHASES: Counter[str] = Counter()
SERVER_ERRORS: list[str] = []
REAL_IDS: dict[str, list[int]] = {}

def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True,
                       "database": "none", "no-shrink": True},
        "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False},
                   "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    })


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """Demo data and one token per identity, made once and rolled back after the module.

    Requests go through the real WSGI handler, which closes the database connection
    when a request ends; like Django's test client, keep it open (and the test's
    transaction with it) for the run.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            from django.test import override_settings

            with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                generate(CUSTOMERS, SEED, now=NOW)
            tokens = {name: token_create(user=User.objects.get(username=username),
                                         name="schemathesis")[1]
                      for name, username in IDENTITIES.items()}
            for param, model in ID_SOURCES.items():
                REAL_IDS[param] = list(model.objects.order_by("pk").values_list("pk", flat=True)[:200])
            yield tokens
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture(params=sorted(IDENTITIES))
def identity(request) -> str:
    return request.param


def _maybe_real(name: str, value: Any) -> st.SearchStrategy:
    ids = REAL_IDS.get(name)
    if not ids:
        return st.just(value)
    return st.one_of(st.just(value), st.sampled_from(ids))


def flatmap_path_parameters(ctx, path_parameters: dict[str, Any]) -> st.SearchStrategy:
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries({k: _maybe_real(k, v) for k, v in path_parameters.items()})


def flatmap_query(ctx, query: dict[str, Any]) -> st.SearchStrategy:
    if not query:
        return st.just(query)
    return st.fixed_dictionaries({k: _maybe_real(k, v) for k, v in query.items()})


def flatmap_headers(ctx, headers: dict[str, Any] | None) -> st.SearchStrategy:
    """If-Match: as generated, "*" (so the change goes through), or a plausible version."""
    if not headers or "If-Match" not in headers:
        return st.just(headers)
    choice = st.sampled_from([headers["If-Match"], "*", "*", '"1"', "2"])
    return choice.map(lambda value: {**headers, "If-Match": value})


def flatmap_body(ctx, body: Any) -> st.SearchStrategy:
    """Now and then a string of a JSON body gets a lone surrogate (JSON can spell "\\ud800")."""
    operation = ctx.operation
    content_types = operation.schema.get_request_payload_content_types(operation)
    if (not isinstance(body, dict) or not any(isinstance(v, str) for v in body.values())
            or not all("json" in t for t in content_types)):
        return st.just(body)
    keys = sorted(k for k, v in body.items() if isinstance(v, str))
    spoiled = st.sampled_from(keys).map(lambda k: {**body, k: body[k] + "\ud800"})
    return st.one_of(st.just(body), st.just(body), spoiled)


def _load_schema() -> Any:
    from django.test import override_settings

    from kehu.config.wsgi import application

    with override_settings(KEHU_API_DOCS="public"):  # read before any test has a token
        loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application,
                                                config=_config())
    for hook in (flatmap_path_parameters, flatmap_query, flatmap_headers, flatmap_body):
        loaded.hook(hook)
    return loaded


schema = _load_schema()


def summary() -> str | None:
    """The run in one line (printed by tests/api/conftest.py at the end of the session)."""
    if not TALLY:
        return None
    def counts(counter: Counter) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))

    return (f"schemathesis: {sum(TALLY.values())} requests ({counts(TALLY)}; phases "
            f"{counts(PHASES)}; statuses {counts(STATUSES)}), "
            f"{len(SERVER_ERRORS)} server errors, KEHU_FUZZ_EXAMPLES={EXAMPLES}"
            + "".join(f"\n  5xx: {e}" for e in SERVER_ERRORS[:20]))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calls go through Django's real WSGI handler, whose request signals close a connection
    that is inside a transaction (every test's, on PostgreSQL); the test client unhooks
    them the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
def test_every_operation_as_admin_and_as_a_sales_rep(case, demo_world, identity):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {demo_world[identity]}"}
    with transaction.atomic():  # each call starts from the seeded data
        response = case.call()
        transaction.set_rollback(True)
    TALLY[identity] += 1
    STATUSES[response.status_code] += 1
    PHASES[case.meta.phase.name.value if case.meta else "explicit"] += 1
    if response.status_code >= 500:
        SERVER_ERRORS.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
    case.validate_response(response, checks=CHECKS)
