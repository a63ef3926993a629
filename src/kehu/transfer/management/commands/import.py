"""`kehu import customers|orders|communications FILE [--mapping FILE] [--match KEYS|none]
[--dry-run] [--owner USER]`.

The same run as the web's: upload, mapping (guessed, or a JSON file {header: field}),
then the dry run or the import as a job in this process with a progress bar. Exit 0 when
it ran (rejected rows are listed and the error report's path printed); one 错误： line
and exit 1 when the file cannot be read at all or the settings are wrong.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from kehu.accounts.commands import acting_user
from kehu.accounts.selectors import user_find
from kehu.core.commands import KehuCommand
from kehu.core.models import Origin
from kehu.jobs.models import Status
from kehu.jobs.services import run_here
from kehu.transfer.importing import import_start
from kehu.transfer.models import ImportProblem, ImportRun
from kehu.transfer.services import DEFAULT_MATCH as DEFAULT_KEYS
from kehu.transfer.services import default_match, import_configure, import_upload

DEFAULT_MATCH = ",".join(DEFAULT_KEYS)
SHOWN_PROBLEMS = 20


class Command(KehuCommand):
    help = "从 xlsx 或 csv 导入客户、订单或沟通记录（先 --dry-run 预览）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("target", choices=["customers", "orders", "communications"])
        parser.add_argument("file")
        parser.add_argument("--mapping", default=None, help="JSON 文件：{\"表头\": \"字段\"}")
        parser.add_argument("--match", default=None,
                            help=f"匹配键，按优先顺序（默认 {DEFAULT_MATCH} 中表里有的），或 none")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入")
        parser.add_argument("--owner", default=None, help="新建客户的负责人（用户名或姓名）")
        parser.add_argument("--as", dest="as_user", default=None,
                            help="以此用户的权限导入（默认：唯一的管理员）")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["as_user"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("找不到文件 %(path)s") % {"path": path})
        run = import_upload(actor=actor, origin=Origin.MANUAL, target=options["target"],
                            file=path, filename=path.name)
        mapping = self._mapping(options["mapping"], run)
        owner = None
        if options["owner"]:
            found = user_find(options["owner"])
            if found is None:
                raise CommandError(_("没有用户“%(name)s”") % {"name": options["owner"]})
            owner = found.pk
        if options["match"] is None:  # the default keys the sheet has columns for
            match = default_match(run.target, mapping)
        else:
            match = [k.strip() for k in options["match"].split(",") if k.strip()]
        run = import_configure(actor=actor, origin=Origin.MANUAL, run=run, mapping=mapping,
                               match=match, owner=owner)
        self._run(actor, run, options["dry_run"])

    @staticmethod
    def _mapping(file: str | None, run: ImportRun) -> dict[str, str]:
        if not file:
            return run.mapping
        try:
            given = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(_("无法读取映射文件 %(path)s：%(reason)s")
                               % {"path": file, "reason": exc}) from exc
        if not isinstance(given, dict):
            raise CommandError(_("映射文件应是一个 JSON 对象：{\"表头\": \"字段\"}"))
        return {**{h: "" for h in run.headers}, **{str(k): str(v or "") for k, v in given.items()}}

    def _run(self, actor: Any, run: ImportRun, dry_run: bool) -> None:
        with tqdm(desc=str(_("预览") if dry_run else _("导入")), unit=str(_(" 行")),
                  disable=None, file=sys.stderr) as bar:
            def progress(job: Any) -> None:
                bar.total = job.total
                bar.update(job.done - bar.n)

            run = import_start(actor=actor, origin=Origin.MANUAL, run=run, dry_run=dry_run,
                               queued=False)
            job = run_here(run.preview_job if dry_run else run.import_job, on_progress=progress)
        if job.status != Status.DONE:
            raise CommandError(_("导入失败：%(error)s")
                               % {"error": "".join((job.error or "").strip().splitlines()[-1:])})
        run.refresh_from_db()
        self._summary(run, dry_run)

    def _summary(self, run: ImportRun, dry_run: bool) -> None:
        counts = run.dry_run_result if dry_run else {
            "created": run.created, "updated": run.updated, "unchanged": run.unchanged,
            "rejected": run.rejected}
        phase = ImportProblem.PREVIEW if dry_run else ImportProblem.IMPORT
        for problem in run.problems.filter(phase=phase)[:SHOWN_PROBLEMS]:
            reasons = "；".join(f"{c}：{r}" if c else r for c, r in problem.reasons)
            self.stdout.write(_("第 %(row)d 行　%(reasons)s") % {"row": problem.row,
                                                                 "reasons": reasons})
        if counts["rejected"] > SHOWN_PROBLEMS:
            self.stdout.write(_("……另有 %(count)d 行被拒绝") % {
                "count": counts["rejected"] - SHOWN_PROBLEMS})
        line = _("新建 %(created)d，更新 %(updated)d，未变 %(unchanged)d，拒绝 %(rejected)d") % {
            **counts, "unchanged": counts["unchanged"] + counts.get("merged", 0)}
        self.stdout.write((_("预览（未写入）：") if dry_run else _("导入完成：")) + line
                          + _("（导入编号 %(id)d）") % {"id": run.pk})
        if run.report_path:
            self.stdout.write(_("错误报告：%(path)s") % {
                "path": Path(settings.MEDIA_ROOT) / run.report_path})
