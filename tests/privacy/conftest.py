"""The consent ledger's people are the suite's (tests/conftest.py): alice owns the customer,
charlie is an outsider, anna the read-only analyst."""

from __future__ import annotations

import pytest

from kehu.privacy.services import consent_grant

PHONE_GRANT = {"purpose": "marketing", "legal_basis": "consent",
               "notice_version": "隐私政策 v3 2026-10", "channel": "phone"}


@pytest.fixture
def grant():
    """grant(actor, customer, **fields) records a consent (marketing by phone by default)."""

    def make(actor, customer, **fields):
        return consent_grant(actor=actor, origin="manual", customer=customer,
                             data={**PHONE_GRANT, **fields})

    return make


from tests.api.conftest import api_as  # noqa: E402, F401 -- the API caller fixture
from tests.privacy.story import media, xiaomei  # noqa: E402, F401 -- 闫晓梅 and her files
