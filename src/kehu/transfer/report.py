"""The error report: the rejected rows in their own columns plus 错误原因, to fix and re-import.

The reason column's header is no field's word, so the fixed report re-imports as it is
(its mapping guessed like the original's) with the reason column ignored. Written as
xlsx and as CSV (UTF-8 with BOM) with the export's formula-safe writers; every cell as
text, so a phone or a credit code keeps every digit.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from kehu.transfer.export.columns import Column
from kehu.transfer.export.writers import open_writer
from kehu.transfer.models import ImportProblem, ImportRun

FORMATS = ("xlsx", "csv")


def report_name(run: ImportRun, phase: str, fmt: str) -> str:
    stem = Path(run.filename).stem
    return f"{stem}-{_('错误报告')}{'-' + _('预览') if phase == ImportProblem.PREVIEW else ''}.{fmt}"


def write_report(run: ImportRun, phase: str) -> str | None:
    """Write both files next to the upload; the xlsx's path relative to MEDIA_ROOT, or None
    when no row was rejected."""
    problems = run.problems.filter(phase=phase).order_by("row", "id")
    if not problems.exists():
        return None
    folder = Path(settings.MEDIA_ROOT) / Path(run.stored_path).parent
    columns = [Column(str(i), header, _nothing, id_like=True)
               for i, header in enumerate([*run.headers, _("错误原因")])]
    for fmt in FORMATS:
        with (folder / report_name(run, phase, fmt)).open("wb") as stream:
            writer = open_writer(fmt, stream, columns)
            for problem in problems.iterator(chunk_size=2000):
                cells = [str(c) if c not in (None, "") else "" for c in problem.cells]
                cells += [""] * (len(run.headers) - len(cells))
                writer.write([*cells[:len(run.headers)], _reason(problem)])
            writer.close()
    return str(Path(run.stored_path).parent / report_name(run, phase, "xlsx"))


def report_path(run: ImportRun, phase: str, fmt: str) -> Path | None:
    path = Path(settings.MEDIA_ROOT) / Path(run.stored_path).parent / report_name(run, phase, fmt)
    return path if path.is_file() else None


def _reason(problem: ImportProblem) -> str:
    return "；".join(f"{column}：{reason}" if column else reason
                    for column, reason in problem.reasons)


def _nothing(row: object) -> None:
    return None
