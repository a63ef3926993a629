"""Every change made through the web carries origin `manual` (the API's half, and why the
writes are not listed again: tests/api/test_provenance.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from kehu.core.models import ChangeLog
from tests.api.test_provenance import _allowed
from tests.web import test_view_scoping_matrix as web_matrix

pytestmark = pytest.mark.django_db

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



@pytest.mark.parametrize(("route", "index", "case"), WEB_WRITES,
                         ids=[f"{n}{i or ''}" for n, i, _c in WEB_WRITES])
def test_every_web_write_is_logged_with_origin_manual(shared_world, route, index, case):
    world = shared_world
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


shared_world = web_matrix.shared_world  # one world for the module, each test rolling back to it
