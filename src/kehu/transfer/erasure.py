"""What an erasure (privacy.erasure) removes from imports and exports: the import ledger's
before / after values of the person's records, rejected rows and previews that name them,
and every stored file — uploaded sheets, error reports, export files — in which one of the
person's values appears (such a file is deleted: a sheet is a snapshot, and re-exporting
gives the anonymised one). Registered with privacy's holdings from TransferConfig.ready.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from kehu.audit.redaction import ERASED_DETAILS, matching, scrub
from kehu.jobs.models import JobFile
from kehu.privacy.holdings import Target, holdings
from kehu.transfer.models import ImportProblem, ImportRecord, ImportRun
from kehu.transfer.report import write_report

_NOT_DIGIT = re.compile(r"\D")


def erase_from_transfers(target: Target) -> int:
    count = _erase_ledger(target)
    count += _scrub_problems(target.terms)
    for run in matching(ImportRun.objects.all(), ["dry_run_result"], target.terms):
        ImportRun.objects.filter(pk=run.pk).update(
            dry_run_result=scrub(run.dry_run_result, target.terms))
        count += 1
    return count + _delete_files(target.terms)


def _erase_ledger(target: Target) -> int:
    """Before / after of every record of the person an import wrote (undo of those rows
    can no longer restore the old values: it refuses them as changed since)."""
    objects: dict[str, list[int]] = {"customers.contact": list(target.contact_ids)}
    if target.whole:
        objects["customers.customer"] = [target.customer_id]
        for holding in holdings():
            model = holding.model_class
            objects[model._meta.label_lower] = list(model.objects.filter(
                **{holding.customer_field: target.customer_id}).values_list("pk", flat=True))
    count = 0
    for label, ids in objects.items():
        for start in range(0, len(ids), 500):
            count += ImportRecord.objects.filter(model=label, object_id__in=ids[start:start + 500]) \
                .update(before=ERASED_DETAILS, after=ERASED_DETAILS)
    return count


def _scrub_problems(terms: tuple[str, ...]) -> int:
    """Rejected rows are sealed at rest, so they are read and compared here, not in SQL;
    the error reports of the runs they belong to are written again without the person."""
    runs: set[int] = set()
    for problem in ImportProblem.objects.iterator(chunk_size=2000):
        cells = _scrub_phones(scrub(problem.cells, terms), terms)
        reasons = scrub(problem.reasons, terms)
        if cells != problem.cells or reasons != problem.reasons:
            ImportProblem.objects.filter(pk=problem.pk).update(cells=cells, reasons=reasons)
            runs.add(problem.run_id)
    for run in ImportRun.objects.filter(pk__in=runs).exclude(stored_path=""):
        for phase in run.problems.values_list("phase", flat=True).distinct():
            write_report(run, phase)
    return len(runs)


def _delete_files(terms: tuple[str, ...]) -> int:
    root = Path(settings.MEDIA_ROOT)
    count = 0
    for run in ImportRun.objects.exclude(stored_path=""):
        folder = (root / run.stored_path).parent
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.is_file() and file_mentions(path, terms):
                path.unlink()
                count += 1
    for file in JobFile.objects.all():
        path = root / file.path
        if path.is_file() and file_mentions(path, terms):
            path.unlink()
            file.delete()
            count += 1
    return count


def file_mentions(path: Path, terms: tuple[str, ...]) -> bool:
    """Whether a sheet (csv, xlsx …) holds any term in any cell — a phone however typed."""
    return any(_cell_mentions(cell, terms) for cell in _cells(path))


def _cells(path: Path):
    if path.suffix.lower() in (".csv", ".txt"):
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                yield data.decode(encoding)
                return
            except UnicodeDecodeError:
                continue
        yield data.decode("latin-1")
        return
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception:  # noqa: BLE001 -- not a sheet: look at its bytes
        yield path.read_bytes().decode("utf-8", "replace")
        return
    for name in book.sheet_names:
        for row in book.get_sheet_by_name(name).to_python():
            yield "\t".join(str(v) for v in row)


def _cell_mentions(text: str, terms: tuple[str, ...]) -> bool:
    return any(term in text for term in terms) or _has_phone([text], terms)


def _phone_terms(terms: tuple[str, ...]) -> list[str]:
    return [t for t in terms if t.isdigit() and len(t) >= 7]


def _has_phone(cells: list, terms: tuple[str, ...]) -> bool:
    phones = _phone_terms(terms)
    if not phones:
        return False
    return any(phone in _NOT_DIGIT.sub("", str(value)) for value in cells for phone in phones)


def _scrub_phones(cells: object, terms: tuple[str, ...]) -> object:
    """A cell holding one of the phones however typed (138-1234-5678) is cleared whole."""
    if not isinstance(cells, list):
        return cells
    phones = _phone_terms(terms)
    return ["***" if any(p in _NOT_DIGIT.sub("", str(c)) for p in phones) else c for c in cells]
