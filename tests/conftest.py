"""Shared fixtures. Permission tests speak in people:

- alice: sales rep in 华东区, owns her customers
- bob: alice's teammate in 华东区 (same department, also a sales rep)
- charlie: sales rep in 华南区, an outsider to alice's customers
- mallory: manager of 华东区 (sees the department and sub-departments)
- anna: analyst (reads everything, masked, cannot edit)
- root: admin
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess

import pytest
from django.test import Client

from kehu.accounts.services import department_path
from kehu.customers import services as customer_services
from tests import people


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` run in the PostgreSQL suite (KEHU_TEST_DB=postgres) only."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (KEHU_TEST_DB=postgres)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _builtin_roles_survive_flushes(request):
    """A transactional test (real commits) starts after another one's flush, which wipes the
    rows data migrations made: put the built-in roles and the default pipeline back before
    the people are created. (Not serialized_rollback: after a flush has recreated the content
    types with new ids, restoring the serialized ones collides with them on PostgreSQL.)"""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server"))
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    importlib.import_module("kehu.accounts.migrations.0002_builtin_roles").create_roles(apps, None)
    importlib.import_module("kehu.accounts.migrations.0003_role_manages_catalogue") \
        .managers_keep_the_catalogue(apps, None)
    importlib.import_module("kehu.accounts.migrations.0004_role_may_export") \
        .built_in_roles_export(apps, None)
    importlib.import_module("kehu.history.migrations.0002_default_pipeline") \
        .create_default_pipeline(apps, None)
    importlib.import_module("kehu.classification.migrations.0002_defaults").install(apps, None)
    if not apps.get_model("customers", "Region").objects.exists():
        importlib.import_module("kehu.customers.migrations.0013_regions") \
            .load_bundled_list(apps, None)
    # SQLite's flush deletes table by table, and the kanban's triggers count the deleted
    # opportunities of customers not yet deleted as taken away: recount from what is left.
    from kehu.history.tallies import stage_tallies_rebuild

    stage_tallies_rebuild()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is right for production (120 ms a hash here) and would make every test that
    creates its people pay for it: about a fifth of the suite's time. Production's hashers
    and the upgrade to Argon2 are checked in tests/accounts/test_password_hashing.py."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _scope_sizes_of_this_test():
    """The scope plans keep each scope's size for a minute per process; a test's owners may
    carry the ids an earlier test's owners had, with other customers. Every plan returns the
    same rows; this keeps which plan a test exercises independent of the tests before it."""
    from kehu.customers.scope_plans import forget_estimates

    forget_estimates()


@pytest.fixture(autouse=True)
def _debounce_windows_of_this_test(monkeypatch):
    """`jobs.services.job_start_debounced` remembers, per process, the window it started a job
    in; the job itself rolls back with the test that started it, so a later test in the same
    second would start none (test_quality_revalidation failed so in a random order)."""
    from kehu.jobs import services as job_services

    monkeypatch.setattr(job_services, "_started_windows", {})


@pytest.fixture(autouse=True)
def _audit_anchors_of_this_test(settings, request):
    """Each test its own audit anchor file (kehu/audit/anchors.py): an anchor another test's
    seal run wrote names entries this test's database never had."""
    import hashlib

    name = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]  # noqa: S324 -- a name
    settings.KEHU_AUDIT_ANCHOR_FILE = os.path.join(os.environ["KEHU_DATA_DIR"], "anchors",
                                                   f"{name}.log")


@pytest.fixture(autouse=True)
def _admins_sign_in_with_a_password_alone(settings):
    """Admins must use two-factor (kehu/accounts/twofactor.py); the suite's stories sign root
    in with a password or force_login, so the rule is off here and
    tests/accounts/test_two_factor.py turns it on. A person with a device is still asked."""
    settings.KEHU_TWO_FACTOR_ENFORCED = False


@pytest.fixture
def east(db):
    return department_path("总部/华东区")


@pytest.fixture
def south(db):
    return department_path("总部/华南区")


@pytest.fixture
def mallory(east):
    return people.mallory_create(east)


@pytest.fixture
def alice(east, mallory):
    return people.alice_create(east, mallory)


@pytest.fixture
def bob(east, mallory):
    return people.bob_create(east, mallory)


@pytest.fixture
def charlie(south):
    return people.charlie_create(south)


@pytest.fixture
def anna(db):
    return people.anna_create()


@pytest.fixture
def root(db):
    return people.root_create()


@pytest.fixture
def make_customer():
    """make_customer(actor, **fields) creates a company customer through the service."""

    def make(actor, **fields):
        data = {"kind": "company", "name": "上海示例贸易有限公司", **fields}
        return customer_services.customer_create(actor=actor, origin="manual", data=data)

    return make


@pytest.fixture
def alices_customer(alice):
    return people.alices_customer_create(alice)


@pytest.fixture
def worker_log(tmp_path):
    return tmp_path / "worker.log"


@pytest.fixture
def worker(worker_log):
    """Start real `kehu worker` processes on demand; every one is killed at the end."""
    from kehu.jobs.testing import start_worker

    started: list[subprocess.Popen] = []

    def start(**env: str) -> subprocess.Popen:
        log = worker_log.open("ab")
        process = start_worker(log, extra_env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(autouse=True, scope="session")
def _queue_connection_closed_before_the_database_goes(django_db_setup):
    """On PostgreSQL the queue lives in the test database: close its connection first, or
    the test database cannot be dropped at the end ("other sessions are using it")."""
    yield
    from kehu.jobs.queue import get_huey

    if get_huey.cache_info().currsize:
        get_huey().storage.close()


@pytest.fixture
def login():
    """login(user) -> a test client signed in as `user`."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def product(root):
    """A machine tool at ¥60,000 (conditions and segments buy it to reach spent thresholds)."""
    from kehu.history import services as history

    return history.product_save(actor=root, origin="manual", data={
        "sku": "M-1", "name": "机床", "unit_price": "60000"})
