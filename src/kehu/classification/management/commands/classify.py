"""`kehu classify [--dry-run]`: run the classification now, in this process, with a progress
bar; or only say what it would change.

The run is the same job the worker runs every night (`classification.run`): RFM and the
other figures first, then every dimension's rules over every customer; a Job row like any
other. The dry run writes nothing: it counts, per dimension, the changes the rules would
make against the figures as last computed (the date is printed), as a rule's preview does.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from kehu.accounts.services import system_actor
from kehu.classification import engine
from kehu.classification.figures import scheme
from kehu.classification.models import DimensionValue
from kehu.classification.services import RUN_JOB, dimensions_active
from kehu.core.commands import KehuCommand
from kehu.core.models import Origin
from kehu.jobs.models import Status
from kehu.jobs.services import run_in_foreground


class Command(KehuCommand):
    help = "立即运行客户分类（RFM 指标和全部分类规则）；--dry-run 只统计将会发生的变动"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="只预览：按维度列出将变动的客户数，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            self._dry_run()
        else:
            self._run()

    def _run(self) -> None:
        with tqdm(desc=str(_("客户分类")), disable=None, file=sys.stderr) as bar:
            def progress(job: Any) -> None:
                bar.total = job.total
                bar.update(job.done - bar.n)

            job = run_in_foreground(actor=system_actor(), origin=Origin.MANUAL, kind=RUN_JOB,
                                    params={}, on_progress=progress)
        if job.status != Status.DONE:
            raise CommandError(_("分类失败：%(error)s")
                               % {"error": "".join((job.error or "").strip().splitlines()[-1:])})
        details = "，".join(f"{key} {value}" for key, value in (job.result or {}).items())
        self.stdout.write(_("分类完成：%(details)s（任务编号 %(id)d）")
                          % {"details": details, "id": job.pk})

    def _dry_run(self) -> None:
        computed = scheme().figures_computed_at
        self.stdout.write(_("预览（未写入），按 %(when)s 计算的指标：") % {
            "when": computed.strftime("%Y-%m-%d %H:%M") if computed else _("尚未计算")})
        labels = dict(DimensionValue.objects.values_list("pk", "label"))
        empty = _("（无）")
        for dimension in dimensions_active():
            plan = engine.preview(viewer=None, dimension=dimension,
                                  rules=engine.active_rules(dimension), actor=None)
            self.stdout.write(_("%(dimension)s：变动 %(changed)d，未变 %(unchanged)d，"
                                "手动设置 %(manual)d") % {
                "dimension": dimension.name, "changed": plan.changed,
                "unchanged": plan.unchanged, "manual": plan.manual})
            for (before, after), n in plan.changes.most_common():
                self.stdout.write(f"  {labels.get(before, empty)} → {labels.get(after, empty)}"
                                  f"\t{n}")
