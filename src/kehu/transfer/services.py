"""Imports: upload a sheet, configure its mapping and match keys, save named mappings.

Contract with the reader (transfer/reading.py, mapping.py) as agreed: `open_sheet(path)`
-> Sheet(headers, header_row, encoding, kind, rows()); `importable_fields(target)`;
`guess_mapping(headers, target)`. No change to it so far.

Starting the import (dry run or real), undo, the batched pipeline and the job kinds are
the next part (issue 9); they read the run these services leave configured.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.accounts.selectors import owner_candidate
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.records import log_change
from kehu.transfer.mapping import TARGETS, guess_mapping, importable_fields
from kehu.transfer.models import ImportRun, MappingTemplate, RunStatus
from kehu.transfer.reading import SheetError, open_sheet

# Match key -> the mapped fields that can carry it, per target. Contacts' phones and
# e-mails count for a customer (a sheet often holds only the contact's mobile).
MATCH_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {"phone": ("phones", "contact.phones"), "email": ("emails", "contact.email"),
                  "credit_code": ("credit_code",), "id_number": ("id_number",)},
    # For orders and communications the keys find the customer a row belongs to.
    "orders": {"credit_code": ("customer.credit_code",), "phone": ("customer.phone",),
               "name": ("customer",)},
    "communications": {"credit_code": ("customer.credit_code",), "phone": ("customer.phone",),
                       "name": ("customer",)},
}
CONFIGURABLE = (RunStatus.UPLOADED, RunStatus.PREVIEWED)


@transaction.atomic
def import_upload(*, actor: User, origin: str, target: str, file: UploadedFile | Path,
                  filename: str) -> ImportRun:
    """Store the sheet under <data dir>/files/imports/<id>/, read its header and guess the
    mapping. A file that is no sheet is refused naming the file (and nothing is kept)."""
    if target not in TARGETS:
        raise ValidationError({"target": [_("无法导入这种数据：%(target)s") % {"target": target}]})
    may_import(actor)
    name = _safe_name(filename)
    run = ImportRun.objects.create(actor=actor, target=target, filename=name)
    relative = Path("imports") / str(run.pk) / name
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _store(file, path)
        sheet = open_sheet(path)
    except SheetError as exc:
        # The run row rolls back with this error; its folder must go too.
        shutil.rmtree(path.parent, ignore_errors=True)
        raise ValidationError({"file": [_("无法读取 %(name)s：%(reason)s")
                                        % {"name": name, "reason": exc}]}) from exc
    run.stored_path, run.headers, run.header_row = str(relative), sheet.headers, sheet.header_row
    run.encoding, run.kind = sheet.encoding or "", sheet.kind
    run.mapping = guess_mapping(sheet.headers, target)
    run.match = default_match(target, run.mapping)
    run.save()
    log_change(actor=actor, action="upload", instance=run, origin=origin,
               changes={"target": target, "filename": name, "rows_header": sheet.header_row})
    return run


DEFAULT_MATCH = ("credit_code", "id_number", "phone", "email", "name")  # the most certain key first


def default_match(target: str, mapping: dict[str, str]) -> list[str]:
    """The default match keys the sheet has columns for, most certain first, so that a
    re-import of the same sheet updates instead of duplicating."""
    mapped = set(mapping.values())
    known = MATCH_FIELDS[target]
    return [k for k in DEFAULT_MATCH if k in known and mapped & set(known[k])]


@transaction.atomic
def import_configure(*, actor: User, origin: str, run: ImportRun, mapping: dict[str, str],
                     match: list[str], owner: User | int | None = None) -> ImportRun:
    """Set the mapping (header -> field key), the match keys (priority order, [] = none)
    and the owner of created customers; every problem is named at once."""
    may_touch(actor, run)
    if run.status not in CONFIGURABLE:
        raise ValidationError({"status": [_("这次导入已开始，不能再修改设置")]})
    errors: dict[str, list[str]] = {}
    clean_map = _check_mapping(run, mapping, errors)
    clean_match = _check_match(run.target, match, clean_map, errors)
    chosen = None
    if owner not in (None, ""):
        chosen = owner_candidate(actor, owner)
        if chosen is None:
            errors.setdefault("owner", []).append(_("不能把客户分配给这位同事"))
    if errors:
        raise ValidationError(errors)
    run.mapping, run.match, run.owner = clean_map, clean_match, chosen
    run.status = RunStatus.UPLOADED
    run.save(update_fields=["mapping", "match", "owner", "status", "updated_at"])
    log_change(actor=actor, action="configure", instance=run, origin=origin,
               changes={"mapping": clean_map, "match": clean_match,
                        "owner": chosen.pk if chosen else None})
    return run


@transaction.atomic
def mapping_template_save(*, actor: User, origin: str, name: str, target: str,
                          mapping: dict[str, str], shared: bool = False) -> MappingTemplate:
    """Save (or replace, by name) a named mapping of `actor` for `target`."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("请填写模板名称（不超过100字）")]})
    if target not in TARGETS:
        raise ValidationError({"target": [_("无法导入这种数据：%(target)s") % {"target": target}]})
    keys = {f.key for f in importable_fields(target)} | {""}
    unknown = sorted({str(v) for v in mapping.values()} - keys)
    if unknown:
        raise ValidationError({"mapping": [_("没有这些字段：%(keys)s") % {"keys": "、".join(unknown)}]})
    template, _new = MappingTemplate.objects.update_or_create(
        created_by=actor, target=target, name=name,
        defaults={"mapping": {str(k): str(v) for k, v in mapping.items()}, "shared": shared})
    log_change(actor=actor, action="save", instance=template, origin=origin,
               changes={"name": name, "target": target, "shared": shared})
    return template


def _check_mapping(run: ImportRun, mapping: dict[str, Any], errors: dict) -> dict[str, str]:
    fields = {f.key: f for f in importable_fields(run.target)}
    clean: dict[str, str] = {}
    for header in run.headers:
        key = str(mapping.get(header) or "")
        if key and key not in fields:
            errors.setdefault("mapping", []).append(
                _("列“%(header)s”：没有字段 %(key)s") % {"header": header, "key": key})
            continue
        clean[header] = key
    strange = [str(h) for h in mapping if h not in run.headers]
    if strange:
        errors.setdefault("mapping", []).append(
            _("文件里没有这些列：%(headers)s") % {"headers": "、".join(strange)})
    mapped = set(clean.values())
    if run.target != "customers" and not mapped & {"customer", "customer.phone",
                                                     "customer.credit_code"}:
        errors.setdefault("mapping", []).append(
            _("需要一列指明客户：客户名称、客户电话或客户统一社会信用代码"))
    for field in fields.values():
        if field.required and field.key not in mapped:
            errors.setdefault("mapping", []).append(
                _("必填字段“%(label)s”没有对应的列") % {"label": field.label})
    return clean


def _check_match(target: str, match: list[str], mapping: dict[str, str],
                 errors: dict) -> list[str]:
    keys = [str(k).strip() for k in match if str(k).strip()]
    known = MATCH_FIELDS[target]
    if keys == ["none"] or not keys:
        if target != "customers":
            errors.setdefault("match", []).append(
                _("导入订单或沟通记录需要按客户名称、电话或统一社会信用代码找到客户"))
        return []
    mapped = set(mapping.values())
    for key in keys:
        if key not in known:
            errors.setdefault("match", []).append(_("不能按“%(key)s”匹配") % {"key": key})
        elif not mapped & set(known[key]):
            errors.setdefault("match", []).append(
                _("按“%(key)s”匹配，但没有列对应它") % {"key": key})
    if len(set(keys)) != len(keys):
        errors.setdefault("match", []).append(_("匹配键重复了"))
    return keys


def _safe_name(filename: str) -> str:
    name = Path(str(filename or "").replace("\\", "/")).name.strip().lstrip(".")
    return (name or "import")[-120:]


def _store(file: UploadedFile | Path, path: Path) -> None:
    if isinstance(file, (str, Path)):
        shutil.copyfile(file, path)
        return
    with path.open("wb") as out:
        for chunk in file.chunks():
            out.write(chunk)


def may_import(actor: User) -> None:
    if not access_for(actor).may_import:
        raise PermissionDenied(_("你没有导入数据的权限"))


def may_touch(actor: User, run: ImportRun) -> None:
    if run.actor_id != actor.pk and not access_for(actor).is_admin:
        raise PermissionDenied(_("这不是你的导入"))
