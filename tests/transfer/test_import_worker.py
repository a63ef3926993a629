"""A 30,000-row sheet imported by a real worker that is killed with -9 halfway through.

The test commits (transaction=True) so the `kehu worker` processes, which open the same
test database, queue and data directory (kehu.jobs.testing.worker_env), see the run.
"""

from __future__ import annotations

import csv
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from kehu.customers.models import Customer
from kehu.jobs.models import Job, Status
from kehu.transfer.importing import CUSTOMER, import_start
from kehu.transfer.models import ImportRecord, ImportRun
from kehu.transfer.services import import_configure, import_upload
from tests.jobs.test_worker_process import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# Thirty batches of 1,000: enough for a kill between two of them with committed batches
# before and after (100,000 rows took 132 s of the PostgreSQL suite's 20 minutes in CI).
ROWS = 30_000
CITIES = "杭州宁波南京苏州广州深圳成都武汉青岛厦门郑州长沙"
BRAND = "华金恒泰嘉盛鑫达瑞丰宏远安信源鼎新创博通佳宇隆兴和顺明联众诚德康利晟荣凯锦辉润正元"
TRADES = ("科技", "贸易", "食品", "物流", "医药", "建材", "机械", "餐饮", "教育", "传媒")


@dataclass
class Sheet:
    """The file and what it defines: sheet row number -> (name, mobile) of each customer
    it creates; the rows it rejects and the rows that repeat an earlier one."""

    path: Path
    customers: dict[int, tuple[str, str]]
    rejected: set[int]
    repeats: set[int]

    def created_up_to(self, row: int) -> int:
        return sum(1 for number in self.customers if number <= row)


def company(i: int) -> str:
    """A distinct company name per i below 12 × 46² × 10 (≈ 254,000)."""
    i, trade = divmod(i, len(TRADES))
    i, second = divmod(i, len(BRAND))
    city, first = divmod(i, len(BRAND))
    return f"{CITIES[2 * city:2 * city + 2]}{BRAND[first]}{BRAND[second]}{TRADES[trade]}有限公司"


def mobile(i: int) -> str:
    return f"138{(i * 7919) % 10**8:08d}"  # 7919 is prime to 10^8: distinct for every i


def write_sheet(path: Path, rows: int) -> Sheet:
    """Every 997th row has a mobile too short (rejected); every 499th repeats a row about
    300 above it (one customer, joined, across a batch boundary about a third of the time)."""
    customers: dict[int, tuple[str, str]] = {}
    rejected, repeats, written = set(), set(), []
    for i in range(rows):
        number = i + 2  # as Excel numbers it: the header is row 1
        if i % 997 == 996:
            written.append([company(i), "企业", mobile(i)[:7]])
            rejected.add(number)
        elif i % 499 == 498:
            source = i - 300 if (i - 300) % 997 != 996 else i - 301  # never a rejected row
            written.append(written[source])
            repeats.add(number)
        else:
            written.append([company(i), "企业", mobile(i)])
            customers[number] = (company(i), "+86" + mobile(i))
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([["客户名称", "客户类型", "手机"], *written])
    return Sheet(path, customers, rejected, repeats)


def created_customers(run: ImportRun) -> list[int]:
    return list(ImportRecord.objects.filter(run=run, model=CUSTOMER,
                                            action=ImportRecord.CREATED)
                .values_list("object_id", flat=True))


def test_an_import_killed_halfway_ends_after_a_restart_with_exactly_the_rows_of_the_file(
        alice, worker, worker_log, tmp_path):
    sheet = write_sheet(tmp_path / "三万客户.csv", ROWS)
    run = import_upload(actor=alice, origin="manual", target="customers", file=sheet.path,
                        filename=sheet.path.name)
    run = import_configure(actor=alice, origin="manual", run=run, mapping=run.mapping,
                           match=["phone"])
    run = import_start(actor=alice, origin="manual", run=run, dry_run=False, queued=True)
    job = run.import_job

    first = worker()
    wait_for(lambda: 0.2 * ROWS <= Job.objects.get(pk=job.pk).done <= 0.8 * ROWS,
             seconds=300, what="the import to be between 20% and 80% done", log=worker_log)
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-batch, no clean-up
    first.wait(timeout=10)

    interrupted, run = Job.objects.get(pk=job.pk), ImportRun.objects.get(pk=run.pk)
    assert interrupted.status == Status.RUNNING and interrupted.done < interrupted.total == ROWS
    last_row = interrupted.state["row"]
    assert interrupted.done == last_row - 1  # the checkpoint counts the rows before it
    # Customers, ledger and counts committed with the checkpoint, batch by batch.
    assert run.created + run.unchanged + run.rejected == interrupted.done
    assert Customer.objects.count() == run.created == sheet.created_up_to(last_row)
    assert len(created_customers(run)) == run.created
    assert run.rejected == sum(1 for n in sheet.rejected if n <= last_row)

    worker()
    done = wait_for(lambda: (j := Job.objects.get(pk=job.pk)).finished and j, seconds=300,
                    what="the import to finish", log=worker_log)
    assert done.status == Status.DONE, done.error
    assert done.attempts == 2 and done.done == done.total == ROWS
    run.refresh_from_db()
    assert (run.created, run.unchanged, run.rejected) == (
        len(sheet.customers), len(sheet.repeats), len(sheet.rejected))

    found = list(Customer.objects.values_list("pk", "name", "phones"))
    assert len(found) == len(sheet.customers)  # none lost, none twice
    assert {(name, tuple(phones)) for _pk, name, phones in found} == {
        (name, (phone,)) for name, phone in sheet.customers.values()}
    ledger = created_customers(run)
    assert sorted(ledger) == sorted(pk for pk, _name, _phones in found)  # one row each
