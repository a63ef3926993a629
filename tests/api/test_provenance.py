"""Every change carries its true origin: `api` through the API, `manual` through the web.

The write operations are not listed here again: the API's authorization matrix and the
web's view matrix already name every route with a body that works, so each write of
each record type is called once by someone allowed to make it, and every change-log
row that call wrote must say where it came from. A new write route is covered the
moment it gets its row in those tables.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from kehu.core.models import ChangeLog
from tests.api import test_api_authorization_matrix as api_matrix
from tests.web import test_view_scoping_matrix as web_matrix

pytestmark = pytest.mark.django_db

WRITES = ("POST", "PUT", "PATCH", "DELETE")
# A POST that only asks (which customers a create would duplicate) writes nothing.
READ_ONLY_API = {("POST", "/customers/duplicates"),
                 ("POST", "/classification/rules/preview"),  # what a draft rule would change
                 # a reveal reads: its record is an audit entry (tests/customers/test_reveal.py)
                 ("POST", "/customers/{customer_id}/reveal")}
API_WRITES = sorted(op for op in api_matrix.MATRIX if op[0] in WRITES and op not in READ_ONLY_API)
READ_ONLY_POSTS = {
    "customers:validate",  # checks a field, writes nothing
    "customers:duplicate_hint",  # asks which customers a form may duplicate
    "classification:rule_preview",  # what a draft rule would change, before it is saved
    # A person marking their own notifications read: no shared record changes.
    "notifications:read", "notifications:read_all",
    # 显示完整号码 reads one value; its record is an audit entry, not a change
    # (tests/customers/test_reveal.py).
    "customers:reveal",
    # Finding a person for a data-subject request is a search, posted to keep the phone or
    # ID number out of URLs; its record is an audit entry (tests/privacy).
    "privacy:request_find",
}
# Writes the matrix's world refuses with a message (its only pipeline is the default one):
# allowed to the person, so the page answers, but nothing changes to log. Their logging is
# tested where they succeed (tests/history/test_pipeline_settings.py).
REFUSED_IN_THE_WORLD = {"history:pipeline_delete"}
# Two-factor steps nobody in the world can complete: the sign-in's second step and forced
# enrolment serve only a person half signed in, and enrolling, regenerating codes and
# turning it off need a device and a right code. The web views pass origin manual; each
# success and its change-log row are tested in tests/accounts/test_two_factor.py.
TWO_FACTOR_STEPS = {"login_verify", "login_enrol", "accounts:two_factor_enrol",
                    "accounts:two_factor_recovery", "accounts:two_factor_disable"}
WEB_WRITES = [(name, index, case) for name, index, case in web_matrix.CASES
              if case.method == "post" and name not in ("logout", "accounts:language")
              and name not in TWO_FACTOR_STEPS]


def _allowed(expected: dict[str, int], statuses: tuple[int, ...]) -> str | None:
    """Someone the table says may make this change (the owner first, the admin last)."""
    for person, status in expected.items():
        if status in statuses and person != "anonymous":
            return person
    return None


@pytest.mark.parametrize("operation", API_WRITES, ids=" ".join)
def test_every_api_write_is_logged_with_origin_api(operation, api_as, alice, bob, charlie,
                                                   mallory, anna, root, alices_customer):
    world = api_matrix.World(
        people={"owner": alice, "teammate": bob, "outsider": charlie, "manager": mallory,
                "analyst": anna, "admin": root, "anonymous": None},
        customer=alices_customer, contact=None)
    world = _api_world(world)
    case = api_matrix.MATRIX[operation]
    person = _allowed(case.expected, (200, 201, 204))
    assert person is not None, "a write nobody may make cannot be checked"
    method, path = operation
    with transaction.atomic():
        if case.setup:
            case.setup(world)
        before = ChangeLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        body = case.body(world) if case.body else ({} if method in ("POST", "PATCH") else None)
        response = api_as(world.people[person]).request(
            method, path.format(**world.path_params()), body, if_match="*")
        assert response.status_code in (200, 201, 204), response.content
        origins = set(ChangeLog.objects.filter(pk__gt=before).values_list("origin", flat=True))
        transaction.set_rollback(True)
    assert origins == {"api"}


def _api_world(world):
    from kehu.customers import services
    from tests.history.api_matrix import seed_history

    world.contact = services.contact_create(actor=world.people["owner"], origin="manual",
                                            customer=world.customer, data={"name": "陈采购"})
    world.history = {**seed_history(world.people, world.customer),
                     "merge_id": api_matrix._merged_pair(world.people["owner"]),
                     **api_matrix._classification_ids(world.people["admin"]),
                     "task_id": api_matrix._task(world.people["owner"], world.customer),
                     **api_matrix._pool_ids(world.people["admin"],
                                            world.people["owner"].department),
                     "consent_id": api_matrix._consent(world.people["owner"], world.customer)}
    return world


@pytest.mark.parametrize(("route", "index", "case"), WEB_WRITES,
                         ids=[f"{n}{i or ''}" for n, i, _c in WEB_WRITES])
def test_every_web_write_is_logged_with_origin_manual(world, route, index, case):
    person = _allowed(case.expected, (200, 302))
    assert person is not None
    client = Client()
    client.force_login(world.users[person])
    before = ChangeLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.post(case.url(world), case.data(world))
    assert response.status_code in (200, 302)
    origins = set(ChangeLog.objects.filter(pk__gt=before).values_list("origin", flat=True))
    assert origins <= {"manual"}
    if route not in READ_ONLY_POSTS | REFUSED_IN_THE_WORLD:
        assert origins == {"manual"}, f"{route} changed nothing the log can show"


world = web_matrix.world
root_field = web_matrix.root_field
