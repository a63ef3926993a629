"""An admin moves a small installation from the embedded SQLite database up to PostgreSQL:
`kehu migrate-db --to postgresql://…` copies every table, and the API answers the same.

The source is the suite's SQLite database, so these stories run in the SQLite suite, against
a throwaway PostgreSQL server of their own (the test plugin's, kehu/core/testing/pgserver.py).
The PostgreSQL suite checks the refusal to migrate from a database that is not SQLite.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from kehu.accounts.services import token_create
from kehu.audit import chain
from kehu.backups import databases
from kehu.customers.models import Customer
from kehu.history import services as history
from kehu.jobs.testing import worker_env
from tests.backups.test_backup_restore import media  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
on_sqlite = pytest.mark.skipif(not SQLITE, reason="the source is the embedded SQLite database: "
                               "the SQLite suite runs these, with a PostgreSQL server of their own")

# The same questions to both databases, through the real API with a bearer token, in a
# process of its own whose DATABASE_URL names one database or the other.
ASK = """
import json, os, sys
import django
django.setup()
from django.test import Client
client = Client(headers={"Authorization": "Bearer " + os.environ["KEHU_TEST_TOKEN"]})
answers = {}
for path in json.loads(sys.argv[1]):
    response = client.get(path)
    answers[path] = [response.status_code, response.json()]
print(json.dumps(answers, ensure_ascii=False, sort_keys=True))
"""


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """postgresql://…:port (no database): a throwaway server, stopped when the run ends."""
    from kehu.core.testing.pgserver import start_server

    try:
        return start_server().rsplit("/", 1)[0]
    except RuntimeError as exc:  # no PostgreSQL binaries: `make test` installs them
        pytest.skip(str(exc))


@pytest.fixture
def empty_database(postgres_server) -> Iterator[str]:
    """The URL of a new, empty database on that server; dropped afterwards."""
    import psycopg

    with psycopg.connect(postgres_server + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS kehu_moved WITH (FORCE)")
        conn.execute("CREATE DATABASE kehu_moved")
    yield postgres_server + "/kehu_moved"
    with psycopg.connect(postgres_server + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS kehu_moved WITH (FORCE)")


@pytest.fixture
def installation(alice, root, make_customer, media, django_capture_on_commit_callbacks):  # noqa: F811
    """Demo data loaded as `kehu demo` does (a job), alice's customers with a call, an
    attachment and an encrypted ID number; the audit trail of all of it."""
    from kehu.demo.jobs import load_in_foreground

    load_in_foreground(25, 7, out=io.StringIO())
    tea = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"],
                        emails=["buyer@xihu-tea.cn"])
    person = make_customer(alice, kind="person", name="王小明", id_number="11010519491231002X")
    call = history.communication_log(actor=alice, origin="manual", customer=tea,
                                     data={"subject": "发送报价"})
    with django_capture_on_commit_callbacks(execute=True):
        history.attachment_add(actor=alice, origin="manual", communication=call,
                               upload=SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 quote"))
    return {"tea": tea, "person": person, "call": call}


def ask(database_url: str, token: str, paths: list[str]) -> dict:
    env = {**worker_env(), "DATABASE_URL": database_url, "KEHU_TEST_TOKEN": token}
    done = subprocess.run([sys.executable, "-c", ASK, json.dumps(paths)], env=env,  # noqa: S603
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tables_of(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]


@on_sqlite
def test_the_installation_moves_to_postgresql_and_the_api_answers_the_same(
        installation, alice, root, empty_database, capsys):
    admin_token, alices_token = (token_create(user=u, name="move")[1] for u in (root, alice))
    tea, person = installation["tea"], installation["person"]
    paths = ["/api/v1/customers?limit=100", f"/api/v1/customers/{tea.pk}",
             f"/api/v1/customers/{person.pk}", f"/api/v1/customers/{tea.pk}/timeline",
             "/api/v1/orders?limit=100", "/api/v1/contacts?limit=100",
             f"/api/v1/communications/{installation['call'].pk}"]
    before = ask(worker_env()["DATABASE_URL"], admin_token, paths)
    alice_before = ask(worker_env()["DATABASE_URL"], alices_token, paths[:3])

    call_command("migrate-db", "--to", empty_database)

    out = capsys.readouterr().out
    assert "customers_customer" in out and "全部一致" in out and "不同" not in out
    assert "被引用的 1 个文件全部存在" in out
    after = ask(empty_database, admin_token, paths)
    assert after == before
    assert all(status == 200 for status, _body in after.values())
    assert len(after["/api/v1/customers?limit=100"][1]["items"]) == Customer.objects.count()
    assert ask(empty_database, alices_token, paths[:3]) == alice_before
    # the kanban's tallies came over as they were (their triggers were off during the copy)
    env = {**worker_env(), "DATABASE_URL": empty_database}
    kehu = str(Path(sys.executable).parent / "kehu")
    checked = subprocess.run([kehu, "stage-tallies"], env=env, capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0 and "一致" in checked.stdout, checked.stderr


@on_sqlite
def test_every_table_row_id_sequence_and_the_audit_chain_survive_the_move(
        installation, alice, empty_database, make_customer):
    call_command("migrate-db", "--to", empty_database)
    with databases.open_cursor("sqlite", databases.live_target()) as cursor:
        counts = databases.describe(cursor, "sqlite")["row_counts"]
    import psycopg

    with psycopg.connect(empty_database) as conn:
        moved = databases.describe(conn.cursor(), "postgresql")["row_counts"]
        # ids kept; the next id continues after the highest one, in every table
        next_customer = conn.execute(
            "SELECT nextval(pg_get_serial_sequence('customers_customer', 'id'))").fetchone()[0]
        ciphertext = conn.execute("SELECT id_number FROM customers_customer WHERE id = %s",
                                  [installation["person"].pk]).fetchone()[0]
        job = conn.execute("SELECT kind, status FROM jobs_job ORDER BY id").fetchone()
        # quick search's index rows carry their customer's last change (ranked search)
        stamped, unstamped = conn.execute(
            "SELECT count(*) FILTER (WHERE g.updated_at = c.updated_at), count(*) FILTER"
            " (WHERE g.updated_at IS DISTINCT FROM c.updated_at) FROM customers_searchgrams g"
            " JOIN customers_customer c ON c.id = g.customer_id").fetchone()
    assert {t: n for t, n in counts.items() if t in moved} == moved
    assert unstamped == 0 and stamped == moved["customers_customer"]
    assert moved["customers_customer"] == Customer.objects.count() >= 27
    assert moved["history_attachment"] == 1 and moved["audit_auditentry"] > 0
    assert next_customer == Customer.objects.order_by("-pk").first().pk + 1
    assert ciphertext.startswith("enc:v1:")  # copied as stored: the same key opens it
    assert job == ("demo.load", "done")
    env = {**worker_env(), "DATABASE_URL": empty_database}
    verified = subprocess.run([sys.executable, "-m", "kehu.cli", "audit", "verify"], env=env,  # noqa: S603
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    assert f"{chain.verify().count} 条审计记录，链完整" in verified.stdout


@on_sqlite
def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(
        installation, empty_database):
    import psycopg

    with psycopg.connect(empty_database) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(CommandError) as refused:
        call_command("migrate-db", "--to", empty_database)
    assert str(refused.value) == (
        "目标数据库不是空的：模式 public 里已有 1 个数据表或序列（invoices）；请换一个新建的空数据库")
    assert tables_of(empty_database) == ["invoices"]


@on_sqlite
@pytest.mark.parametrize(("url", "message"), [
    ("mysql://kehu:secret@db.internal/kehu", "目标不是 PostgreSQL 数据库地址：mysql://kehu:***@db.internal/kehu"),
    ("sqlite:////tmp/other.sqlite3", "目标不是 PostgreSQL 数据库地址：sqlite:////tmp/other.sqlite3"),
    ("postgresql://kehu:secret@127.0.0.1:1/kehu",
     "连不上目标数据库 postgresql://kehu:***@127.0.0.1:1/kehu：connection failed"),
])
def test_a_target_that_is_not_postgresql_or_not_reachable_is_refused_in_one_line(
        url, message, installation):
    with pytest.raises(CommandError) as refused:
        call_command("migrate-db", "--to", url)
    assert str(refused.value).startswith(message)
    assert "secret" not in str(refused.value)


@on_sqlite
def test_a_row_postgresql_refuses_rolls_the_whole_move_back_and_empties_the_target(
        installation, empty_database):
    # SQLite stores a NUL inside text; PostgreSQL refuses it. Written behind Kehu's back.
    with sqlite3.connect(databases.live_target()) as conn:
        conn.execute("UPDATE customers_contact SET name = 'Zhang' || char(0) || 'San' "
                     "WHERE id = (SELECT MIN(id) FROM customers_contact)")
    with pytest.raises(CommandError) as failed:
        call_command("migrate-db", "--to", empty_database)
    assert str(failed.value).startswith("复制数据表 customers_contact 失败：")
    assert str(failed.value).endswith("；目标数据库已清空，可以修正后重试")
    assert tables_of(empty_database) == []


@pytest.mark.skipif(SQLITE, reason="Kehu already on PostgreSQL: the PostgreSQL suite")
def test_kehu_already_on_postgresql_is_refused():
    with pytest.raises(CommandError, match="当前数据库不是内置的 SQLite（而是 postgresql）"):
        call_command("migrate-db", "--to", "postgresql://kehu@127.0.0.1/elsewhere")


@on_sqlite
def test_a_missing_attachment_file_is_named_but_the_database_still_moves(
        installation, empty_database, media, capsys):  # noqa: F811
    [quote] = [p for p in media.rglob("*") if p.is_file()]
    quote.unlink()
    with pytest.raises(CommandError) as told:
        call_command("migrate-db", "--to", empty_database)
    assert str(told.value).startswith(f"数据库已迁移，但有 1 个附件文件在 {media} 下找不到：attachments/")
    assert "被引用的 1 个文件中有 1 个不存在" in capsys.readouterr().out
    assert "history_attachment" in tables_of(empty_database)


@on_sqlite
def test_the_kehu_command_refuses_in_one_line_and_a_failing_status(capsys):
    from kehu.cli import main

    assert main(["migrate-db", "--to", "mysql://kehu:secret@db.internal/kehu"]) == 1
    assert capsys.readouterr().err == (
        "错误：目标不是 PostgreSQL 数据库地址：mysql://kehu:***@db.internal/kehu"
        "（应为 postgresql://用户:密码@主机:端口/数据库）\n")


@on_sqlite
def test_a_copy_that_changed_a_value_fails_the_comparison_and_nothing_stays(
        installation, empty_database, monkeypatch):
    from kehu.backups import columns, moving

    def every_flag_false(column):  # a conversion bug: valid values, but not the stored ones
        return (lambda v: 0) if column.type == "boolean" else columns.to_target(column)

    monkeypatch.setattr(moving, "to_target", every_flag_false)
    with pytest.raises(CommandError) as failed:
        call_command("migrate-db", "--to", empty_database)
    assert str(failed.value).startswith("迁移后有 ")
    assert "accounts_user" in str(failed.value) and "customers_contact" in str(failed.value)
    assert tables_of(empty_database) == []
