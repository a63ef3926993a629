"""`kehu export` as an operator runs it: a file, a summary line, one-line refusals."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kehu import cli
from kehu.core.models import ChangeLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(alice, bob, charlie, make_customer):
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"], industry="retail",
                  tags=["重点客户"])
    make_customer(alice, name="宁波港口物流有限公司", industry="logistics")
    make_customer(bob, name="苏州园林设计有限公司", tags=["重点客户"])
    make_customer(charlie, name="深圳南山科技有限公司")


def names_in_csv(path, encoding="utf-8-sig") -> list[str]:
    return [r["客户名称"] for r in csv.DictReader(io.StringIO(path.read_text(encoding)))]


def test_a_manager_exports_his_teams_tagged_customers_sorted_by_name(
        tmp_path, capsys, mallory, customers):
    out = tmp_path / "key.csv"
    status = cli.main(["export", "customers", "--as", "mallory", "--tag", "重点客户",
                       "--sort", "name", "-o", str(out)])
    assert status in (0, None)
    assert names_in_csv(out) == sorted(["杭州西湖茶业有限公司", "苏州园林设计有限公司"])
    assert f"已导出 2 行到 {out}" in capsys.readouterr().out
    log = ChangeLog.objects.get(action="export")
    assert log.actor == mallory and log.changes["filters"] == {"tag": "重点客户", "sort": "name"}


def test_format_from_the_suffix_columns_and_gb18030(tmp_path, alice, customers):
    xlsx = tmp_path / "mine.xlsx"
    call_command("export", "customers", as_user="alice", output=str(xlsx),
                 columns="name,phones", industry="retail")
    sheet = openpyxl.load_workbook(xlsx, read_only=True).active
    assert list(sheet.iter_rows(values_only=True)) == [("客户名称", "电话"),
                                                       ("杭州西湖茶业有限公司", "138 1234 5678")]
    gbk = tmp_path / "mine.csv"
    call_command("export", "customers", as_user="alice", output=str(gbk), encoding="gb18030")
    assert sorted(names_in_csv(gbk, "gb18030")) == ["宁波港口物流有限公司", "杭州西湖茶业有限公司"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--as", "nobody"], "没有用户“nobody”"),
    (["--as", "anna"], "你的角色不能导出数据"),
    (["--as", "alice", "--industry", "nope"], "industry: “nope” 不是可选值"),
    (["--as", "alice", "--columns", "name,salary"], "没有这些列：salary"),
    (["--as", "alice", "--format", "pdf"], "--format 只能是 csv 或 xlsx"),
    (["--as", "alice", "--encoding", "latin-1"], "--encoding 只能是 utf-8-sig、gb18030"),
])
def test_refusals_are_one_line(tmp_path, capsys, alice, anna, customers, argv, message):
    status = cli.main(["export", "customers", "-o", str(tmp_path / "x.csv"), *argv])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：") and message in err and len(err.strip().splitlines()) == 1
    assert not ChangeLog.objects.filter(action="export").exists()


def test_without_as_it_needs_exactly_one_admin(tmp_path, root, alice):
    call_command("export", "customers", output=str(tmp_path / "all.csv"))
    assert ChangeLog.objects.get(action="export").actor == root
    with pytest.raises(CommandError, match="--as"):
        from kehu.accounts.services import user_create
        user_create(username="root2", role_code="admin", display_name="Root 2",
                    password="root2-pass-123")
        call_command("export", "customers", output=str(tmp_path / "all.csv"))
