"""The nightly backup: one file in KEHU_BACKUP_DIR, then retention."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.backups import archive, retention
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

BACKUP_JOB = "backups.nightly"
STAGES = {"数据库": _("数据库"), "文件": _("文件")}  # archive's stage names, for the job page


@job(BACKUP_JOB, title=_("定期备份"), max_attempts=3, schedule="30 2 * * *")
def nightly_backup(ctx: JobContext) -> dict[str, Any]:
    folder = Path(settings.KEHU_BACKUP_DIR)
    path = folder / archive.stamp_name(timezone.now())

    def progress(stage: str, total: int | None, done: int | None) -> None:
        ctx.stage(str(STAGES.get(stage, stage)), total=total, done=done)

    manifest = archive.backup_create(path, progress=progress)
    ctx.stage(str(_("校验")))
    archive.backup_verify(path)
    ctx.stage(str(_("清理旧备份")))
    gone = retention.prune(folder, daily=settings.KEHU_BACKUP_KEEP_DAILY,
                           weekly=settings.KEHU_BACKUP_KEEP_WEEKLY)
    return {str(_("文件")): path.name, str(_("大小")): path.stat().st_size,
            str(_("数据表")): len(manifest["row_counts"]), str(_("删除旧备份")): len(gone)}
