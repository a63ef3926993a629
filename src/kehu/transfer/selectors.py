"""Reads of imports: a run is seen by whoever started it and by admins, nobody else."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.http import Http404

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.transfer.models import ImportRun, MappingTemplate
from kehu.transfer.reading import SheetError, open_sheet, sample_rows


def import_get(*, viewer: User, pk: int | str) -> ImportRun:
    """The run `pk`, or 404 — also when it exists but `viewer` neither started it nor is admin
    (an import's file holds customer data of its actor's scope)."""
    text = str(pk).strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**63:
        raise Http404
    run = ImportRun.objects.filter(pk=int(text)).select_related("actor", "owner").first()
    if run is None or not _may_see(viewer, run):
        raise Http404
    return run


def import_list(*, viewer: User) -> list[ImportRun]:
    """The runs `viewer` started, newest first (an admin sees everyone's)."""
    runs = ImportRun.objects.select_related("actor", "owner")
    if not access_for(viewer).is_admin:
        runs = runs.filter(actor=viewer)
    return list(runs[:200])


def mapping_templates(*, viewer: User, target: str) -> list[MappingTemplate]:
    """The saved mappings for `target` that `viewer` may pick: their own and shared ones."""
    return list(MappingTemplate.objects.filter(target=target)
                .filter(Q(created_by=viewer) | Q(shared=True)).select_related("created_by"))


def _may_see(viewer: User, run: ImportRun) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    return run.actor_id == viewer.pk or access_for(viewer).is_admin


def import_samples(run: ImportRun, count: int = 3) -> list[list[str]]:
    """The first rows of the run's sheet under its headers, to show beside the mapping."""
    try:
        sheet = open_sheet(Path(settings.MEDIA_ROOT) / run.stored_path)
    except SheetError:
        return []
    return [[str(v) for v in values] for _number, values in sample_rows(sheet, count)]


def import_problems(run: ImportRun, *, phase: str, limit: int = 200) -> list:
    """The first rejected rows of a preview or an import, in sheet order."""
    return list(run.problems.filter(phase=phase).order_by("row", "id")[:limit])
