"""A team brings its sheets: dry run, import, re-import, error report, scope, undo."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from kehu.core.errors import ValidationError
from kehu.core.models import ChangeLog
from kehu.customers.models import Contact, Customer, CustomerKey, CustomValue
from kehu.customers.services import custom_field_save, customer_update
from kehu.jobs.services import run_here
from kehu.transfer.importing import import_start, import_undo
from kehu.transfer.models import ImportRun, RunStatus
from kehu.transfer.services import import_configure, import_upload

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[1] / "data"  # copies of ../shared/data
HEADER = ["客户名称", "客户类型", "手机", "邮箱", "统一社会信用代码", "联系人", "职务", "标签",
          "累计消费金额"]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "gb18030",
              header: list[str] = HEADER) -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        csv.writer(out).writerows([header, *rows])
    return path


def run_import(actor, path: Path, *, match=("credit_code", "phone", "email"), dry_run=False,
               owner=None) -> ImportRun:
    run = import_upload(actor=actor, origin="manual", target="customers", file=path,
                        filename=path.name)
    run = import_configure(actor=actor, origin="manual", run=run, mapping=run.mapping,
                           match=list(match), owner=owner)
    run = import_start(actor=actor, origin="manual", run=run, dry_run=dry_run, queued=False)
    job = run_here(run.preview_job if dry_run else run.import_job)
    assert job.status == "done", job.error
    run.refresh_from_db()
    return run


def table_snapshot() -> dict[str, list]:
    return {
        "customers": list(Customer.objects.order_by("pk").values_list(
            "pk", "name", "phones", "emails", "credit_code", "version", "notes")),
        "contacts": list(Contact.objects.order_by("pk").values_list("pk", "name", "phones",
                                                                    "version")),
        "tags": list(Customer.tags.through.objects.order_by("pk").values_list("customer_id",
                                                                               "tag_id")),
        "custom": list(CustomValue.objects.order_by("pk").values_list("customer_id", "number")),
        "keys": sorted(CustomerKey.objects.values_list("customer_id", "kind", "value")),
    }


@pytest.fixture
def spent(root):
    return custom_field_save(actor=root, origin="manual",
                             data={"key": "spent", "label": "累计消费金额", "field_type": "number"})


def test_a_rep_previews_then_imports_a_gbk_sheet_and_a_second_import_changes_nothing(
        alice, spent, tmp_path):
    path = write_csv(tmp_path / "客户档案表.csv", [
        ["杭州西湖茶业有限公司", "企业", "138-1234-5678", "Buyer@XiHu-Tea.cn", "91110000802100433B",
         "陈经理", "采购经理", "重点客户、华东", "￥12,800.00"],
        ["䶮记食品商行", "企业", "+86 139 0000 1111", "", "", "", "", "", "1.2万"],
        ["杭州西湖茶业有限责任公司", "企业", "86-13812345678", "", "", "", "", "", ""],  # the same
        ["", "企业", "13900002222", "", "", "", "", "", ""],
        ["宁波港口物流有限公司", "企业", "1390000", "not-an-email", "91110000802100433X", "", "", "", ""],
    ])
    before = ChangeLog.objects.count()
    preview = run_import(alice, path, dry_run=True)
    assert Customer.objects.count() == 0 and ChangeLog.objects.exclude(
        model__startswith="transfer.").exclude(model__startswith="jobs.").count() == before
    result = preview.dry_run_result
    assert (result["created"], result["merged"], result["rejected"]) == (2, 1, 2)
    reasons = {p.row: p.reasons for p in preview.problems.all()}
    assert reasons[5] == [["客户名称", "必填"]]
    assert {column for column, _reason in reasons[6]} == {"手机", "邮箱", "统一社会信用代码"}

    done = run_import(alice, path)
    assert (done.created, done.unchanged, done.rejected) == (2, 1, 2)
    tea = Customer.objects.get(credit_code="91110000802100433B")
    assert tea.owner == alice and tea.origin == "import" and tea.phones == ["+8613812345678"]
    assert tea.name_pinyin.startswith("hangzhou")
    assert sorted(tea.tags.values_list("name", flat=True)) == ["华东", "重点客户"]
    assert tea.contacts.get().title == "采购经理"
    assert CustomValue.objects.get(customer=tea).number == 12800
    rare = Customer.objects.get(name="䶮记食品商行")  # a GB18030-only character survived
    assert CustomValue.objects.get(customer=rare).number == 12000
    assert ChangeLog.objects.filter(model="customers.customer", object_id=tea.pk,
                                    origin="import", changes__import=done.pk).exists()
    snapshot = table_snapshot()

    again = run_import(alice, path)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 2)
    assert table_snapshot() == snapshot


def test_the_error_report_holds_the_rejected_rows_and_re_imports_once_fixed(alice, tmp_path):
    path = write_csv(tmp_path / "sheet.csv", [
        ["甲公司", "企业", "13800001111", "", "", "", "", "", ""],
        ["乙公司", "企业", "1380000222", "", "", "", "", "", ""],
    ], encoding="utf-8-sig")
    run = run_import(alice, path)
    report = Path(run.report_path)
    from django.conf import settings
    book = CalamineWorkbook.from_path(str(Path(settings.MEDIA_ROOT) / report))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == [*HEADER, "错误原因"]
    assert rows[1][:3] == ["乙公司", "企业", "1380000222"] and "手机" in rows[1][-1]
    fixed = tmp_path / "fixed.csv"
    fixed_rows = [[*row[:2], "13800002222", *row[3:]] for row in rows[1:]]
    write_csv(fixed, fixed_rows, header=rows[0], encoding="utf-8")
    again = run_import(alice, fixed)
    assert (again.created, again.rejected) == (1, 0)
    assert Customer.objects.get(name="乙公司").phones == ["+8613800002222"]


def test_match_none_creates_every_row_and_two_matches_are_refused_naming_both(
        alice, make_customer, tmp_path):
    make_customer(alice, name="甲公司", phones=["13800001111"])
    make_customer(alice, name="乙公司", emails=["b@yi.cn"])
    path = write_csv(tmp_path / "s.csv", [
        ["甲公司", "企业", "13800001111", "b@yi.cn", "", "", "", "", ""],
        ["丙公司", "企业", "13800003333", "", "", "", "", "", ""],
        ["丙公司", "企业", "13800003333", "", "", "", "", "", ""],
    ])
    both = run_import(alice, path, match=("phone",))
    assert (both.updated, both.created, both.unchanged) == (1, 1, 1)
    assert Customer.objects.get(name="甲公司").emails == ["b@yi.cn"]  # phone decided

    path2 = write_csv(tmp_path / "d.csv", [["戊公司", "企业", "13800001111、13800003333", "",
                                            "", "", "", "", ""]])
    refused = run_import(alice, path2, match=("phone",))
    [problem] = refused.problems.all()
    assert "甲公司" in problem.reasons[0][1] and "丙公司" in problem.reasons[0][1]

    count = Customer.objects.count()
    everything = run_import(alice, path, match=())
    assert everything.created == 3 and Customer.objects.count() == count + 3


def test_a_rep_cannot_update_a_colleagues_customer_nor_learn_its_name(
        alice, charlie, make_customer, tmp_path):
    theirs = make_customer(charlie, name="华南秘密客户有限公司", phones=["13800009999"])
    path = write_csv(tmp_path / "s.csv", [["随便写的名字", "企业", "13800009999", "", "", "", "",
                                           "", ""]])
    run = run_import(alice, path)
    [problem] = run.problems.all()
    assert "其他同事名下" in problem.reasons[0][1] and "华南" not in problem.reasons[0][1]
    theirs.refresh_from_db()
    assert theirs.version == 1 and run.created == 0


def test_undo_restores_the_tables_exactly_and_refuses_where_someone_edited_since(
        alice, make_customer, spent, tmp_path):
    kept = make_customer(alice, name="甲公司", phones=["13800001111"], notes="老备注")
    path = write_csv(tmp_path / "s.csv", [
        ["甲公司", "企业", "13800001111", "new@jia.cn", "", "王五", "经理", "新标签", "500"],
        ["乙公司", "企业", "13800002222", "", "", "赵六", "", "", ""],
    ])
    before = table_snapshot()
    run = run_import(alice, path)
    assert (run.created, run.updated) == (1, 1)
    created = Customer.objects.get(name="乙公司")
    customer_update(actor=alice, origin="manual", customer=created, data={"notes": "手改"})
    with pytest.raises(ValidationError) as refused:
        import_undo(actor=alice, origin="manual", run=run)
    assert "乙公司" in str(refused.value)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE

    customer_update(actor=alice, origin="manual", customer=created, data={"notes": ""},
                    expected_version=created.version + 1)
    record = run.records.get(model="customers.customer", object_id=created.pk)
    record.version = Customer.objects.get(pk=created.pk).version  # accept the hand edit
    record.save()
    run = import_undo(actor=alice, origin="manual", run=run, queued=False)
    job = run_here(run.undo_job)
    assert job.status == "done", job.error
    after = table_snapshot()
    assert after["contacts"] == before["contacts"] and after["tags"] == before["tags"]
    assert after["custom"] == before["custom"] and after["keys"] == before["keys"]
    [(pk, name, phones, emails, code, version, notes)] = after["customers"]
    assert (pk, name, phones, emails, notes) == (kept.pk, "甲公司", ["+8613800001111"], [], "老备注")
    assert version > kept.version  # undo is itself a recorded change


def test_the_command_line_reports_counts_and_refuses_an_unreadable_file_in_one_line(
        root, tmp_path, capsys):
    sample = tmp_path / "customers_gbk.csv"
    shutil.copy(SAMPLES / "customers_gbk.csv", sample)
    call_command("import", "customers", str(sample), "--dry-run")
    out = capsys.readouterr().out
    assert "预览（未写入）：新建 857，更新 0，未变 79，拒绝 64" in out and "错误报告" in out
    assert Customer.objects.count() == 0
    call_command("import", "customers", str(sample))
    assert Customer.objects.count() == 857
    call_command("import", "customers", str(sample))
    assert "导入完成：新建 0，更新 0，未变 936，拒绝 64" in capsys.readouterr().out

    junk = tmp_path / "notes.xlsx"
    junk.write_bytes(b"this is no spreadsheet")
    with pytest.raises(CommandError) as refused:
        call_command("import", "customers", str(junk))
    assert "notes.xlsx" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(CommandError, match="没有用户"):
        call_command("import", "customers", str(sample), "--owner", "nobody")


def test_the_messy_workbook_with_a_title_row_imports_with_its_own_headers(root, tmp_path, capsys):
    call_command("import", "customers", str(SAMPLES / "customers_messy.xlsx"))
    assert "导入完成：新建 869，更新 0，未变 61，拒绝 70" in capsys.readouterr().out
    call_command("import", "customers", str(SAMPLES / "customers_messy.xlsx"))
    assert "新建 0，更新 0，未变 930，拒绝 70" in capsys.readouterr().out


def test_an_import_whose_job_failed_says_so_instead_of_polling_forever(alice, login, tmp_path):
    from django.urls import reverse

    from kehu.jobs.models import Job

    path = write_csv(tmp_path / "s.csv", [["甲公司", "企业", "13800001111", "", "", "", "", "",
                                           ""]])
    run = import_upload(actor=alice, origin="manual", target="customers", file=path,
                        filename=path.name)
    run = import_start(actor=alice, origin="manual", run=run, dry_run=False, queued=False)
    Job.objects.filter(pk=run.import_job_id).update(status="failed", error="boom")
    client = login(alice)
    page = client.get(reverse("transfer:import_detail", args=[run.pk]))
    assert b'data-testid="stalled"' in page.content and b"import-progress" not in page.content
    poll = client.get(reverse("transfer:import_progress", args=[run.pk]))
    assert poll["HX-Refresh"] == "true"


def test_the_preview_names_rows_that_probably_duplicate_a_customer_kehu_has(alice, tmp_path,
                                                                             make_customer):
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    path = write_csv(tmp_path / "new.csv", [
        ["西湖茶业（杭州）有限责任公司", "企业", "13900002222", "", "", "", "", "", ""],
        ["宁波港口物流有限公司", "企业", "13900003333", "", "", "", "", "", ""]])
    preview = run_import(alice, path, dry_run=True)
    assert preview.dry_run_result["created"] == 2 and preview.dry_run_result["warned"] == 1
    row, text, _fields = preview.dry_run_result["examples"]["warned"][0]
    assert row == 2 and text == "可能与已有客户重复：“杭州西湖茶业有限公司”"


def test_a_preview_in_many_batches_knows_rows_of_earlier_batches(alice, tmp_path, monkeypatch):
    """The dry run writes nothing, so a row matching a row two batches back is found in what
    the preview remembers of the file, not in the database; the import agrees with it."""
    from kehu.transfer import importing

    monkeypatch.setattr(importing, "CUSTOMER_BATCH", 2)
    path = write_csv(tmp_path / "分批.csv", [
        ["甲公司", "企业", "13800000001", "a@jia.cn", "", "", "", "", ""],
        ["乙公司", "企业", "13800000002", "", "", "", "", "", ""],
        ["丙公司", "企业", "13800000003", "", "", "", "", "", ""],
        ["丁公司", "企业", "13800000004", "", "", "", "", "", ""],
        ["甲公司（总部）", "企业", "", "A@Jia.cn", "", "", "", "", ""],  # row 6: row 2's e-mail
        ["乙公司", "企业", "138-0000-0002", "", "", "", "", "", ""],  # row 7: row 3's phone
    ])
    preview = run_import(alice, path, dry_run=True)
    result = preview.dry_run_result
    assert (result["created"], result["merged"], result["rejected"]) == (4, 2, 0)
    assert sorted((row, text) for row, text, _f in result["examples"]["merged"]) == [
        (6, "与第 2 行是同一客户"), (7, "与第 3 行是同一客户")]
    done = run_import(alice, path)
    assert (done.created, done.rejected) == (4, 0) and Customer.objects.count() == 4
