"""The change log's field-level before / after rows are sealed into the audit chain, so a
change-log row altered or deleted by hand fails `kehu audit verify` too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from kehu.audit import chain, sealing
from kehu.audit.models import Action, AuditEntry
from kehu.core.models import ChangeLog
from kehu.customers import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(alices_customer, alice):
    services.customer_update(actor=alice, customer=alices_customer, origin="manual",
                             data={"industry": "批发零售"})
    later = chain.now() + sealing.SEAL_LAG + timedelta(seconds=1)
    assert sealing.seal_changes(now=later) == ChangeLog.objects.count()
    assert sealing.seal_changes(now=later) == 0  # nothing twice
    return ChangeLog.objects.filter(customer_id=alices_customer.pk).order_by("pk").last()


def test_sealed_rows_verify(sealed):
    verdict = chain.verify()
    assert verdict.ok and verdict.sealed_rows == ChangeLog.objects.count()
    assert AuditEntry.objects.filter(action=Action.SEALED).count() == 1


def test_recent_rows_wait_for_the_lag(alices_customer):
    assert sealing.seal_changes() == 0


def test_a_change_log_row_altered_by_hand_breaks_its_seal(sealed):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_changelog SET actor_id = NULL WHERE id = %s", [sealed.pk])
    verdict = chain.verify()
    seal = AuditEntry.objects.get(action=Action.SEALED)
    assert (verdict.ok, verdict.broken_id) == (False, seal.pk)
    assert "changed since they were sealed" in verdict.reason


def test_a_change_log_row_deleted_by_hand_breaks_its_seal(sealed):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_changelog WHERE id = %s", [sealed.pk])
    verdict = chain.verify()
    assert not verdict.ok and "deleted or inserted" in verdict.reason


def test_sealing_and_retention_are_scheduled_jobs(alices_customer):
    from kehu.accounts.services import system_actor
    from kehu.jobs.registry import kind_get
    from kehu.jobs.services import run_in_foreground

    assert kind_get("audit.seal").schedule == "*/10 * * * *"
    assert kind_get("audit.retention").schedule == "45 3 * * *"
    for kind in ("audit.seal", "audit.retention"):
        job = run_in_foreground(actor=system_actor(), origin="system", kind=kind, params={})
        assert job.status == "done", job.error if hasattr(job, "error") else job
    assert chain.verify().ok


def test_a_person_with_history_is_deactivated_never_deleted_so_seals_hold(sealed, alice, root):
    """Deleting alice would rewrite the actor of every row she wrote (and break their seals):
    it is refused, in Django's admin too, which names what protects her."""
    from django.db.models import ProtectedError
    from django.test import Client
    from django.urls import reverse

    with pytest.raises(ProtectedError):
        alice.delete()
    admin = Client()
    admin.force_login(root)
    page = admin.post(reverse("admin:accounts_user_delete", args=[alice.pk]), {"post": "yes"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "受保护" in text or "protected" in text.lower()
    assert type(alice).objects.filter(pk=alice.pk).exists()
    assert chain.verify().ok
