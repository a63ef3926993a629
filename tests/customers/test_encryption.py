"""Encryption at rest (issue 14 item 1), as the team meets it.

The admin turns on encryption of phones, e-mails and WeChat ids (KEHU_ENCRYPT_FIELDS);
ID numbers are always encrypted. Then nothing of them is in the database file in the clear,
yet alice still finds a customer by the full number, the import still matches a row to it
and the duplicate check still names it. The admin rotates the key, and the old one can go.
A value someone altered in the database is refused, never shown as garbage.
"""

from __future__ import annotations

import base64
import csv
import secrets
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kehu.core import crypto
from kehu.core.errors import ValidationError
from kehu.core.fields import encrypted_fields
from kehu.core.models import ChangeLog
from kehu.customers import selectors, services
from kehu.customers.bulk import keys_lookup
from kehu.customers.duplicates import duplicate_pairs, duplicates_for_input
from kehu.customers.filters import CustomerFilters
from kehu.customers.merging import customer_merge
from kehu.customers.models import Contact, Customer, CustomerKey
from kehu.customers.rekeying import key_status, sealed_models
from kehu.jobs.services import run_here
from kehu.transfer.importing import import_start
from kehu.transfer.services import import_configure, import_upload

pytestmark = pytest.mark.django_db
K_OLD, K_NEW, INDEX = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(3))
ALL = ["phones", "emails", "wechat"]


def id_number(body: str = "11010519491231002") -> str:
    """A valid 身份证号 (GB 11643 check character) for a 17-digit body."""
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")


def unique_values() -> dict[str, str]:
    """Values no other test wrote: the raw-file check must not find old free pages."""
    tail = f"{secrets.randbelow(10**8):08d}"
    return {"phone": "139" + tail, "email": f"zhao{tail}@encrypted.example.cn",
            "wechat": f"wx_enc_{tail}", "id": id_number(
                f"110105{1950 + int(tail[:2]) % 50}0{1 + int(tail[2]) % 9}{10 + int(tail[3]) % 18}"
                f"{tail[4:7]}"),
            "contact_phone": "137" + tail}


@pytest.fixture
def sealed(settings):
    """Keys from the environment, phones, e-mails and WeChat ids encrypted."""
    settings.KEHU_ENCRYPTION_KEYS = K_OLD
    settings.KEHU_BLIND_INDEX_KEY = INDEX
    settings.KEHU_ENCRYPT_FIELDS = ALL
    return settings


def make_person(actor, values: dict[str, str], **extra):
    customer = services.customer_create(actor=actor, origin="manual", data={
        "kind": "person", "name": "赵加密", "phones": [values["phone"]],
        "emails": [values["email"]], "wechat": values["wechat"], "id_number": values["id"],
        **extra})
    services.contact_create(actor=actor, origin="manual", customer=customer, data={
        "name": "赵助理", "phones": [values["contact_phone"]], "email": "Assist." + values["email"],
        "wechat": values["wechat"] + "_c"})
    return customer


def found(user, q: str) -> list[int]:
    page = selectors.customer_list(viewer=user, filters=CustomerFilters.from_params({"q": q}))
    return [c.pk for c in page.items]


def clear_forms(values: dict[str, str]) -> list[str]:
    """Every way a value could sit in the database in the clear."""
    phone, contact = values["phone"], values["contact_phone"]
    return [phone, f"{phone[:3]} {phone[3:7]} {phone[7:]}", contact, values["email"],
            values["email"].split("@")[0], values["wechat"], values["id"], values["id"][:14]]


def database_text() -> bytes:
    """SQLite: the raw bytes of the database file and its write-ahead log. PostgreSQL: every
    row of every table, as text (`SELECT t::text FROM table t`)."""
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.cursor().execute("PRAGMA wal_checkpoint(FULL)")
        # Read by a child process: closing a file descriptor of the database in this process
        # drops every POSIX lock this process's SQLite connection holds on it (a POSIX rule
        # SQLite documents), and a worker process of a later test, no longer seeing this
        # connection, checkpointed and reset the WAL under it: "database disk image is
        # malformed" for every test after (the whole-suite run of 2026-12-06).
        files = [str(p) for p in (path, Path(f"{path}-wal")) if p.exists()]
        return subprocess.run(["cat", *files], check=True, capture_output=True).stdout  # noqa: S603, S607
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608
            chunks += [row[0] for row in cursor.fetchall()]
    return "\n".join(chunks).encode()


# --- at rest ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_holds_no_phone_email_wechat_or_id_number_in_the_clear(sealed, alice,
                                                                            anna, login,
                                                                            tmp_path):
    values, twin = unique_values(), unique_values()
    customer = make_person(alice, values)
    services.customer_update(actor=alice, origin="manual", customer=customer,
                             data={"phones": [values["phone"], "13600000000"]})
    login(alice).get(f"/customers/{customer.pk}/")
    login(anna).get(f"/customers/?q={values['phone']}")  # audit entries of a search
    # An import that adds an e-mail to her and refuses a row with a mistyped ID number…
    bad_id = values["id"][:-1] + ("1" if values["id"][-1] != "1" else "2")
    sheet = tmp_path / "sheet.csv"
    with sheet.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["姓名/名称", "客户类型", "手机", "邮箱", "身份证号"],
                                   ["赵加密", "个人客户", values["phone"], twin["email"], ""],
                                   ["错号", "个人客户", "", "", bad_id]])
    run = import_upload(actor=alice, origin="manual", target="customers", file=sheet,
                        filename=sheet.name)
    run = import_configure(actor=alice, origin="manual", run=run, mapping=run.mapping,
                           match=["phone"], owner=None)
    run = import_start(actor=alice, origin="manual", run=run, dry_run=False, queued=False)
    assert run_here(run.import_job).status == "done"
    run.refresh_from_db()
    assert (run.updated, run.rejected) == (1, 1)
    # …and a merge, whose record keeps both customers' rows for its undo.
    other = make_person(alice, twin)
    customer_merge(actor=alice, origin="manual", survivor=customer, duplicate=other)
    raw = database_text()
    for value in [*clear_forms(values), *clear_forms(twin), bad_id]:
        assert value.encode() not in raw, value
    # …and the model reads them back as they were written.
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.phones[0] == "+86" + values["phone"]
    assert customer.emails[:2] == [values["email"], twin["email"]]  # the import added one
    assert customer.id_number in (values["id"], twin["id"])  # the merge chose one
    with connection.cursor() as cursor:
        cursor.execute("SELECT phones, emails, wechat, id_number FROM customers_customer"
                       " WHERE id = %s", [customer.pk])
        stored = cursor.fetchone()
    assert all("enc:v1:" in str(column) for column in stored)


def test_id_numbers_are_encrypted_even_when_nothing_else_is(settings, alice):
    settings.KEHU_ENCRYPT_FIELDS = []
    values = unique_values()
    customer = make_person(alice, values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT phones, id_number FROM customers_customer WHERE id = %s",
                       [customer.pk])
        phones, stored = cursor.fetchone()
    assert values["phone"] in str(phones)  # today's behaviour stays without the setting
    assert stored.startswith("enc:v1:") and values["id"] not in stored
    keys = dict(CustomerKey.objects.filter(customer=customer)
                .exclude(kind__in=["phone", "email"]).values_list("kind", "value"))
    assert list(keys) == ["id_number"] and crypto.is_blind(keys["id_number"])


def test_the_change_log_keeps_encrypted_values_masked(sealed, alice):
    values = unique_values()
    customer = make_person(alice, values)
    services.customer_update(actor=alice, origin="manual", customer=customer,
                             data={"phones": ["13600000000"], "id_number": ""})
    change = ChangeLog.objects.filter(object_id=customer.pk, action="update").get().changes
    assert change["phones"] == [[f"139****{values['phone'][-4:]}"], ["136****0000"]]
    assert values["id"] not in str(change["id_number"])


# --- still findable ----------------------------------------------------------------------


def test_alice_finds_the_customer_by_the_complete_value_only(sealed, alice, anna):
    values = unique_values()
    customer = make_person(alice, values)
    other = make_person(alice, unique_values())
    phone = values["phone"]
    for term in (phone, f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", "+86" + phone,
                 values["email"].upper(), values["wechat"], values["id"], values["contact_phone"],
                 "assist." + values["email"]):
        assert found(alice, term) == [customer.pk], term
        assert found(anna, term) == [customer.pk], term
    for part in (phone[:7], phone[-4:], values["email"][:8], values["id"][:10]):
        assert customer.pk not in found(alice, part), part
    assert found(alice, "赵加密") == [other.pk, customer.pk]  # names as before


def test_match_keys_hold_blind_indexes_and_lookup_answers_by_value(sealed, alice):
    values = unique_values()
    customer = make_person(alice, values)
    keys = list(CustomerKey.objects.filter(customer=customer).values_list("kind", "value"))
    assert {kind for kind, _ in keys} == {"phone", "email", "wechat", "id_number"}
    assert all(crypto.is_blind(value) for _, value in keys)
    phone = "+86" + values["phone"]
    assert dict(keys_lookup([("phone", phone), ("id_number", values["id"]),
                             ("email", values["email"].upper())])) == {
        ("phone", phone): {customer.pk}, ("id_number", values["id"]): {customer.pk},
        ("email", values["email"].upper()): {customer.pk}}


def test_the_duplicate_check_and_finder_see_through_the_encryption(sealed, alice, bob):
    values = unique_values()
    first = make_person(alice, values)
    candidates = duplicates_for_input(viewer=alice, data={"kind": "person", "name": "钱某",
                                                          "phones": [values["phone"]]})
    assert [c.customer_id for c in candidates] == [first.pk]
    assert values["phone"] not in " ".join(candidates[0].reasons)
    second = services.customer_create(actor=bob, origin="manual", data={
        "kind": "person", "name": "孙某", "id_number": values["id"]})
    pairs = {(p.a, p.b): p for p in duplicate_pairs()}
    assert pairs[(first.pk, second.pk)].score == 1.0
    assert pairs[(first.pk, second.pk)].reasons == ["身份证号相同"]


def test_the_import_matches_a_row_on_an_encrypted_phone_and_id_number(sealed, alice, tmp_path):
    values, known = unique_values(), unique_values()
    customer = make_person(alice, values)
    by_id = services.customer_create(actor=alice, origin="manual", data={
        "kind": "person", "name": "钱已知", "id_number": known["id"]})
    sheet = tmp_path / "people.csv"
    with sheet.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([
            ["姓名/名称", "客户类型", "手机", "证件号码", "备注"],
            ["赵加密", "个人客户", values["phone"], "", "按电话更新"],
            ["钱已知", "个人客户", "", known["id"], "按身份证号更新"],
            ["新客户", "个人客户", "13500000000", id_number("11010519800101123"), "新建"]])
    run = import_upload(actor=alice, origin="manual", target="customers", file=sheet,
                        filename=sheet.name)
    assert run.mapping["证件号码"] == "id_number"
    run = import_configure(actor=alice, origin="manual", run=run, mapping=run.mapping,
                           match=["id_number", "phone"], owner=None)
    run = import_start(actor=alice, origin="manual", run=run, dry_run=False, queued=False)
    assert run_here(run.import_job).status == "done"
    run.refresh_from_db()
    assert (run.created, run.updated) == (1, 2), run.__dict__
    customer.refresh_from_db()
    by_id.refresh_from_db()
    assert (customer.notes, by_id.notes) == ("按电话更新", "按身份证号更新")
    assert found(alice, "11010519800101123" + id_number("11010519800101123")[-1])


# --- ID numbers ----------------------------------------------------------------------------


def test_an_id_number_is_checked_and_belongs_to_people_only(alice):
    good = id_number()
    for bad, why in ((good[:-1] + ("0" if good[-1] != "0" else "1"), "校验码"),
                     (good[:17], "18 位"), (id_number("11010519491331002"), "出生日期"),
                     ("1101051949123100AX", "17 位数字")):
        with pytest.raises(ValidationError, match=why):
            services.customer_create(actor=alice, origin="manual", data={
                "kind": "person", "name": "某人", "id_number": bad})
    with pytest.raises(ValidationError, match="企业客户没有身份证号"):
        services.customer_create(actor=alice, origin="manual", data={
            "kind": "company", "name": "某公司", "id_number": good})
    person = services.customer_create(actor=alice, origin="manual", data={
        "kind": "person", "name": "某人", "id_number": good.lower() if good[-1] == "X" else good})
    assert person.id_number == good


def test_the_card_shows_the_id_number_and_an_analyst_sees_it_masked(alice, anna, login):
    values = unique_values()
    customer = make_person(alice, values)
    assert values["id"] in login(alice).get(f"/customers/{customer.pk}/").content.decode()
    page = login(anna).get(f"/customers/{customer.pk}/").content.decode()
    assert values["id"] not in page
    assert values["id"][:4] + "**********" + values["id"][-4:] in page
    form = login(alice).get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'name="id_number"' in form and values["id"] in form


# --- rotation -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_after_rotation_every_value_opens_with_the_new_key_alone(sealed, alice, capsys):
    made = [make_person(alice, unique_values()) for _ in range(3)]
    old_id = crypto.keyring().current_id
    sealed.KEHU_ENCRYPTION_KEYS = f"{K_NEW},{K_OLD}"  # the admin puts the new key first
    new_id = crypto.keyring().current_id
    assert key_status()["customers_customer.phones"] == {old_id: 3, "plain": 0}
    call_command("keys", "status")
    assert f"密钥 {old_id}（仅解密 · decrypts only）：21 个值" in capsys.readouterr().out

    call_command("keys", "rotate", "--foreground")

    assert key_status()["customers_customer.phones"] == {new_id: 3, "plain": 0}
    assert all(set(counts) <= {new_id, "plain"} for counts in key_status().values())
    call_command("keys", "status")
    assert f"密钥 {old_id}（仅解密 · decrypts only）：0 个值；可以删除" in capsys.readouterr().out
    sealed.KEHU_ENCRYPTION_KEYS = K_NEW  # the old key removed
    for customer in made:
        again = Customer.objects.get(pk=customer.pk)
        assert again.phones and again.id_number and again.wechat
        assert all(c.email for c in Contact.objects.filter(customer=customer))
        assert found(alice, again.id_number) == [customer.pk]
    assert Customer.objects.filter(version__gt=2).count() == 0  # rotation changes no version


@pytest.mark.django_db(transaction=True)
def test_rotation_is_idempotent_and_resumes_after_a_crash(sealed, alice, root):
    from kehu.accounts.services import system_actor
    from kehu.customers import rekeying
    from kehu.jobs.services import job_start

    made = [make_person(alice, unique_values()) for _ in range(5)]
    sealed.KEHU_ENCRYPTION_KEYS = f"{K_NEW},{K_OLD}"
    crashed = job_start(actor=system_actor(), origin="system", kind=rekeying.REKEY_JOB,
                        queued=False)
    real, calls = rekeying.rekey_customers, []

    def dies_on_the_second_batch(ids):
        calls.append(ids)
        if len(calls) == 2:  # the batch in flight rolls back, as under kill -9
            raise RuntimeError("worker lost")
        return real(ids)

    rekeying.BATCH, saved = 2, rekeying.BATCH
    try:
        rekeying.rekey_customers = dies_on_the_second_batch
        run_here(crashed)
        crashed.refresh_from_db()
        assert crashed.status != "done" and "worker lost" in crashed.error
        assert crashed.state["after"] == made[1].pk  # the first batch committed, no more
        assert key_status()["customers_customer.phones"] == {
            crypto.keyring().ids[0]: 2, crypto.keyring().ids[1]: 3, "plain": 0}
        rekeying.rekey_customers = real
        from kehu.jobs.runner import execute

        execute(crashed.pk)  # resumed from its checkpoint
    finally:
        rekeying.rekey_customers, rekeying.BATCH = real, saved
    crashed.refresh_from_db()
    assert crashed.status == "done", crashed.error
    assert key_status()["customers_customer.phones"] == {crypto.keyring().ids[0]: 5, "plain": 0}
    again = job_start(actor=system_actor(), origin="system", kind=rekeying.REKEY_JOB,
                      queued=False)
    assert run_here(again).result["重写的值"] == 0  # nothing left to do


def test_turning_encryption_on_later_seals_existing_values_on_rotation(settings, alice):
    settings.KEHU_ENCRYPT_FIELDS = []
    values = unique_values()
    customer = make_person(alice, values)
    settings.KEHU_ENCRYPT_FIELDS = ALL
    assert key_status()["customers_customer.phones"]["plain"] == 1
    call_command("keys", "rotate", "--foreground")
    assert key_status()["customers_customer.phones"]["plain"] == 0
    wechat = CustomerKey.objects.filter(customer=customer, kind__in=["wechat", "phone"])
    assert wechat.count() == 4 and all(crypto.is_blind(k.value) for k in wechat)
    assert found(alice, values["contact_phone"]) == [customer.pk]
    assert not found(alice, values["phone"][:7])
    settings.KEHU_ENCRYPT_FIELDS = []  # and off again: back in the clear
    call_command("keys", "rotate", "--foreground")
    assert key_status()["customers_customer.phones"] == {"plain": 1}
    assert found(alice, values["phone"][:7]) == [customer.pk]


# --- tampering ----------------------------------------------------------------------------


def test_a_value_altered_in_the_database_is_refused_loudly(sealed, alice, login):
    values = unique_values()
    customer = make_person(alice, values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT wechat, id_number FROM customers_customer WHERE id = %s",
                       [customer.pk])
        wechat, stored = cursor.fetchone()
        flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
        cursor.execute("UPDATE customers_customer SET id_number = %s WHERE id = %s",
                       [flipped, customer.pk])
    with pytest.raises(crypto.DecryptionError, match="customers_customer.id_number"):
        Customer.objects.get(pk=customer.pk)
    with connection.cursor() as cursor:  # a ciphertext moved to another column
        cursor.execute("UPDATE customers_customer SET id_number = %s WHERE id = %s",
                       [wechat, customer.pk])
    with pytest.raises(crypto.DecryptionError):
        Customer.objects.get(pk=customer.pk)
    with pytest.raises(CommandError, match=f"customers_customer id {customer.pk}"):
        call_command("keys", "rotate", "--foreground")


def test_every_model_with_an_encrypted_column_is_rotated_and_counted():
    from django.apps import apps

    labels = {m._meta.label for m in sealed_models()}
    assert labels == {m._meta.label for m in apps.get_models() if encrypted_fields(m)}
    assert {"customers.Customer", "customers.Contact", "customers.MergeRecord",
            "transfer.ImportRecord", "transfer.ImportProblem"} <= labels
    assert "transfer_importrecord.before" in key_status()


def test_the_form_says_an_encrypted_field_is_found_by_its_complete_value(settings, alice,
                                                                         login):
    settings.KEHU_ENCRYPT_FIELDS = ["phones"]
    form = login(alice).get("/customers/new/").content.decode()
    assert form.count("加密保存；只能按完整号码搜索") == 2  # the ID number and the phones
