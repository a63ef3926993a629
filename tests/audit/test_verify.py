"""`kehu audit verify` proves the chain intact, and names the first broken entry after a row
of the audit table is changed, deleted or inserted by hand (raw SQL, as an intruder with
database access would)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kehu.audit import chain, services
from kehu.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(alice, root):
    """Five entries of ordinary use."""
    for n in range(5):
        services.record(alice if n % 2 else root, Action.SEARCHED, label=f"term {n}",
                        details={"q": f"茶业{n}"})
    return list(AuditEntry.objects.order_by("pk"))


def verify() -> str:
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def refused() -> str:
    with pytest.raises(CommandError) as caught:
        verify()
    return str(caught.value)


def test_an_untouched_log_verifies_with_its_count(log):
    assert f"OK：{len(log)} 条" in verify()


def test_a_row_changed_by_hand_is_named(log):
    victim = log[2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET label = %s WHERE id = %s", ["无害", victim.pk])
    assert f"#{victim.pk}" in refused()
    assert chain.verify().broken_id == victim.pk


def test_a_row_deleted_by_hand_breaks_the_chain_at_the_next(log):
    victim, after = log[2], log[3]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [victim.pk])
    message = refused()
    assert f"#{after.pk}" in message and "deleted" in message


def test_the_last_row_deleted_by_hand_is_caught_by_the_head(log):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [log[-1].pk])
    assert not chain.verify().ok


def test_a_row_inserted_by_hand_is_named(log):
    row = log[1]
    forged = row.pk + 1000
    with connection.cursor() as cursor:
        # Between two real entries: take an id in a gap made by moving the later ones up.
        cursor.execute("UPDATE audit_auditentry SET id = id + 2000 WHERE id > %s", [row.pk])
        cursor.execute("UPDATE audit_audithead SET last_id = last_id + 2000")
        cursor.execute(
            "INSERT INTO audit_auditentry (id, at, actor_id, actor_name, action, customer_id, "
            "label, details, ip, user_agent, digest) VALUES (%s, %s, NULL, '', %s, NULL, '', "
            "'{}', NULL, '', %s)", [forged, row.at, Action.SEARCHED, row.digest])
    # The intruder also moved the head, so its MAC is what gives that away first; put it back
    # in the way a careful intruder could not: only the forged row is then left to find.
    head = chain.AuditHead.objects.get(pk=chain.HEAD_PK)
    head.mac = chain.head_mac(head)
    head.save()
    assert f"#{forged}" in refused()


def test_a_row_appended_by_hand_is_named(log):
    forged = log[-1].pk + 5
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (id, at, actor_id, actor_name, action, customer_id, "
            "label, details, ip, user_agent, digest) VALUES (%s, %s, NULL, '', %s, NULL, '', "
            "'{}', NULL, '', %s)", [forged, log[-1].at, Action.SEARCHED, "0" * 64])
    assert f"#{forged}" in refused()


def test_sensitive_search_terms_are_masked(alice):
    entry = services.record(alice, Action.SEARCHED, details={"q": "13812345678",
                                                             "phones": ["+8613912345678"]})
    entry.refresh_from_db()
    assert entry.details == {"q": "138****5678", "phones": ["139****5678"]}


def test_retention_deletes_old_entries_and_the_chain_still_verifies(log, settings):
    settings.KEHU_AUDIT_RETENTION_DAYS = 365
    old = log[:3]
    AuditEntry.objects.filter(pk__in=[e.pk for e in old])  # noqa: B018
    # Age three entries by rewriting them as they would have been written a year and more ago:
    # their digests must be recomputed, which only the key holder can do.
    previous = ""
    for entry in AuditEntry.objects.order_by("pk"):
        if entry.pk in {e.pk for e in old}:
            entry.at -= timedelta(days=400)
        entry.digest = chain.entry_digest(previous, entry)
        entry.save()
        previous = entry.digest
    head = chain.lock_head()
    head.digest = previous
    head.mac = chain.head_mac(head)
    head.save()
    assert chain.verify().ok

    assert services.prune() == 3
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    pruned = AuditEntry.objects.get(action=Action.PRUNED)
    assert pruned.details["deleted"] == 3
    assert f"OK：{len(log) - 3 + 1} 条" in verify()


def test_kehu_audit_verify_as_an_operator_runs_it(log, capsys):
    from kehu import cli

    assert cli.main(["audit", "verify"]) == 0
    assert f"OK：{len(log)} 条" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET ip = '10.9.9.9' WHERE id = %s", [log[0].pk])
    assert cli.main(["audit", "verify"]) == 1
    assert f"错误：审计链在第 #{log[0].pk} 条断开" in capsys.readouterr().err


def test_restoring_an_old_head_with_the_entries_before_it_is_caught_by_the_anchor_file(
        log, alice):
    """An intruder with the database but not the anchor file: they delete the newest entries
    and put back yesterday's head row (its MAC is genuine). The chain alone still verifies;
    the anchor the seal job wrote says it reached further."""
    from kehu.audit.anchors import anchor_file, anchor_now
    from kehu.audit.models import AuditHead

    old_head = AuditHead.objects.values().get()
    for n in range(3):
        services.record(alice, Action.SEARCHED, label=f"later {n}")
    call_command("audit", "seal", stdout=io.StringIO())  # the job's run: seals, then anchors
    anchor_now()  # a second run with nothing new adds no line
    newest = AuditEntry.objects.order_by("pk").last()
    assert anchor_file().read_text().split()[1:] == [str(newest.pk), newest.digest]
    assert "OK" in verify()

    AuditEntry.objects.filter(pk__gt=old_head["last_id"]).delete()
    AuditHead.objects.filter(pk=old_head["id"]).update(
        **{k: v for k, v in old_head.items() if k != "id"})
    anchor_file().rename(anchor_file().with_suffix(".away"))
    assert "OK" in verify()  # without the file, the rollback passes: that is the gap
    anchor_file().with_suffix(".away").rename(anchor_file())
    said = refused()
    assert f"#{newest.pk}" in said and "anchor file" in said
