"""Every change carries its true origin: `api` through the API, `manual` through the web.

The write operations are not listed here again: the API's authorization matrix and the
web's view matrix already name every route with a body that works, so each write of
each record type is called once by someone allowed to make it, and every change-log
row that call wrote must say where it came from. A new write route is covered the
moment it gets its row in those tables. (The web's half: tests/web/test_provenance_web.py;
each half has its own module world, since both make the same people.)
"""

from __future__ import annotations

import pytest
from django.db import transaction

from kehu.core.models import ChangeLog
from tests.api import test_api_authorization_matrix as api_matrix

pytestmark = pytest.mark.django_db

WRITES = ("POST", "PUT", "PATCH", "DELETE")
# A POST that only asks (which customers a create would duplicate) writes nothing.
READ_ONLY_API = {("POST", "/customers/duplicates"),
                 ("POST", "/classification/rules/preview"),  # what a draft rule would change
                 # a reveal reads: its record is an audit entry (tests/customers/test_reveal.py)
                 ("POST", "/customers/{customer_id}/reveal")}
API_WRITES = sorted(op for op in api_matrix.MATRIX if op[0] in WRITES and op not in READ_ONLY_API)
def _allowed(expected: dict[str, int], statuses: tuple[int, ...]) -> str | None:
    """Someone the table says may make this change (the owner first, the admin last)."""
    for person, status in expected.items():
        if status in statuses and person != "anonymous":
            return person
    return None


@pytest.mark.parametrize("operation", API_WRITES, ids=" ".join)
def test_every_api_write_is_logged_with_origin_api(operation, api_as, api_world):
    world = api_world
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


api_world = api_matrix.world  # one world per module, each test rolling back to it
