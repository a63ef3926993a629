"""Whatever text arrives for the free-form parts of a grant — the notice version, the note, a
channel typed by hand — the ledger either stores it cleaned or names the field that is wrong:
never a server error, never a silent change of meaning."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.core.errors import ValidationError
from kehu.privacy.choices import Channel
from kehu.privacy.models import Consent
from kehu.privacy.services import consent_grant

pytestmark = pytest.mark.django_db

TEXT = st.one_of(st.text(max_size=130), st.sampled_from(["", " ", "\x00", "隐私政策 v3 2026-10",
                                                         "电话", "phone", " wechat ", "微信"]))
CHANNEL_LABELS = {str(label): value for value, label in Channel.choices}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notice=TEXT, channel=TEXT, note=TEXT)
def test_free_text_is_stored_cleaned_or_named(alice, alices_customer, notice, channel, note):
    with transaction.atomic():
        try:
            consent = consent_grant(actor=alice, origin="manual", customer=alices_customer,
                                    data={"purpose": "marketing", "notice_version": notice,
                                          "channel": channel, "note": note})
        except ValidationError as exc:
            named = set(exc.message_dict)
            assert named and named <= {"notice_version", "channel", "note"}
            if "notice_version" not in named:
                assert notice.strip() and "\x00" not in notice and len(notice.strip()) <= 100
        else:
            stored = Consent.objects.get(pk=consent.pk)
            assert stored.notice_version == notice.strip() and stored.notice_version
            assert stored.note == note.strip()
            assert stored.channel == CHANNEL_LABELS.get(channel.strip(), channel.strip())
            assert stored.channel in Channel.values
        transaction.set_rollback(True)
