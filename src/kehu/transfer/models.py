"""Imports: one run per uploaded sheet, its saved mappings, and the row-level ledger.

`ImportRecord` is what makes an import undoable and traceable: one row per record the
import created or updated, with the old values of the fields it changed (`before`) and
the new ones (`after`), so undo restores exactly those fields and refuses where the
record's version moved on since.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import EncryptedJSONField

TARGET_CHOICES = [("customers", _("客户")), ("orders", _("订单")),
                  ("communications", _("沟通记录"))]


class RunStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    PREVIEWING = "previewing", _("预览中")
    PREVIEWED = "previewed", _("已预览")
    IMPORTING = "importing", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    UNDOING = "undoing", _("撤销中")
    UNDONE = "undone", _("已撤销")


class ImportRun(models.Model):
    """One uploaded sheet on its way in: file, mapping, match keys, outcome counts."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="import_runs")
    target = models.CharField(max_length=16, choices=TARGET_CHOICES)
    filename = models.CharField(max_length=255)
    # Relative to MEDIA_ROOT: imports/<id>/<name>.
    stored_path = models.CharField(max_length=500, blank=True)
    headers = models.JSONField(default=list, blank=True)
    header_row = models.PositiveIntegerField(default=1)
    encoding = models.CharField(max_length=32, blank=True)
    kind = models.CharField(max_length=8, blank=True)  # csv | xlsx
    mapping = models.JSONField(default=dict, blank=True)  # header -> field key ("" = ignore)
    match = models.JSONField(default=list, blank=True)  # keys in priority order; [] = none
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=RunStatus.choices,
                              default=RunStatus.UPLOADED)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    dry_run_result = models.JSONField(default=dict, blank=True)
    preview_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    import_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    undo_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    report_path = models.CharField(max_length=500, blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # data rows, once counted
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.target})"


class MappingTemplate(models.Model):
    """A named mapping (header -> field key) to reuse on the next sheet of the same shape."""

    name = models.CharField(max_length=100)
    target = models.CharField(max_length=16, choices=TARGET_CHOICES)
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="import_mappings")
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["created_by", "target", "name"],
                                               name="transfer_mapping_unique_name")]

    def __str__(self) -> str:
        return self.name


class ImportRecord(models.Model):
    """One record an import created or updated: undo and provenance read these."""

    CREATED, UPDATED = "created", "updated"

    # No index of its own: (run, row) below serves "a run's records".
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="records",
                            db_index=False)
    row = models.PositiveIntegerField()  # as Excel shows it
    model = models.CharField(max_length=64)  # app_label.model
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=8, choices=[(CREATED, _("新建")), (UPDATED, _("更新"))])
    # Old and new values of the changed fields: phones, ID numbers … so sealed at rest
    # (core/fields.py, always; rotated with the columns by `kehu keys rotate`).
    before = EncryptedJSONField(default=dict, blank=True)
    after = EncryptedJSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)  # the record's version after

    class Meta:
        indexes = [models.Index(fields=["run", "row"]),
                   models.Index(fields=["model", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.model}#{self.object_id} (row {self.row})"


class ImportProblem(models.Model):
    """A rejected row: its cells as the sheet held them and why, for the preview and the
    error report (the rows in their own columns plus 错误原因, to fix and re-import)."""

    PREVIEW, IMPORT = "preview", "import"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="problems")
    phase = models.CharField(max_length=8, choices=[(PREVIEW, _("预览")), (IMPORT, _("导入"))])
    row = models.PositiveIntegerField()  # as Excel shows it
    cells = EncryptedJSONField(default=list)  # the row as typed: sealed at rest too
    reasons = models.JSONField(default=list)  # [[column, reason], ...]

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["run", "phase", "row"])]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reasons}"
