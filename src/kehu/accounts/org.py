"""Team settings (设置 → 成员与权限): roles and the department tree, written by admins.

Services like `accounts/team.py`'s: keyword-only, a required admin `actor` and `origin`,
one transaction, every bad field named at once, one change-log row per change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kehu.accounts.models import DataScope, Department, Role, User
from kehu.accounts.policy import require_admin
from kehu.accounts.team import ADMINS_ONLY, ensure_an_admin_remains
from kehu.core.cleaning import Collector, choice_cleaner, text_cleaner
from kehu.core.errors import ValidationError
from kehu.core.records import log_change

BUILTIN_ROLES = ("admin", "manager", "sales", "analyst")  # the command line and demo name them
ROLE_FLAGS = ("can_write", "masks_sensitive", "may_reveal", "is_admin", "manages_catalogue",
              "may_export", "may_import", "may_delete", "may_merge", "may_use_pool",
              "requires_two_factor")


def _clean_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValidationError(_("“%(value)s” 不是是/否") % {"value": value})


def clean_role(data: dict[str, Any], *, role: Role | None) -> dict[str, Any]:
    """Name, data scope and the permission flags; a new role's code (blank: made for it).
    A code is fixed once made: `kehu user create --role` names it."""
    errors = Collector()
    errors.run("name", text_cleaner(100), data.get("name"))
    if errors.cleaned.get("name") == "":
        errors.add_error("name", _("请填写角色名称"))
    elif "name" in errors.cleaned and Role.objects.filter(name=errors.cleaned["name"]) \
            .exclude(pk=getattr(role, "pk", None)).exists():
        errors.add_error("name", _("已有同名的角色"))
    errors.run("data_scope", choice_cleaner(DataScope, required=True), data.get("data_scope"))
    if errors.cleaned.get("data_scope") == "":
        errors.add_error("data_scope", _("请选择数据范围"))
    for flag in ROLE_FLAGS:
        errors.run(flag, _clean_flag, data.get(flag))
    if role is None:
        errors.run("code", _clean_code, data.get("code"))
    return errors.result()


def _clean_code(value: Any) -> str:
    code = text_cleaner(50)(value)
    if code and (slugify(code) != code):
        raise ValidationError(_("代码只能用小写字母、数字、连字符和下划线"))
    if code and Role.objects.filter(code=code).exists():
        raise ValidationError(_("代码“%(code)s”已被使用") % {"code": code})
    return code


def _free_code() -> str:
    number = Role.objects.count() + 1
    while Role.objects.filter(code=f"role-{number}").exists():
        number += 1
    return f"role-{number}"


def role_save(*, actor: User, origin: str, data: dict[str, Any], role: Role | None = None) -> Role:
    """Create a role (no `role`) or change one: name, data scope (本人 … 全公司), write or
    read-only, masking, admin, export, catalogue, two-factor. Turning the admin flag on or
    off changes its people's admin flags with it; the last active admin stays one."""
    require_admin(actor, ADMINS_ONLY)
    current = {name: getattr(role, name) for name in ("name", "data_scope", *ROLE_FLAGS)} \
        if role else {}
    values = clean_role({**current, **data}, role=role)  # what `data` leaves out stays
    with transaction.atomic():
        if role is None:
            role = Role(**{**values, "code": values["code"] or _free_code()})
            role.save()
            log_change(actor=actor, action="create", instance=role, origin=origin,
                       changes={name: [None, value] for name, value in values.items()})
            return role
        role = Role.objects.select_for_update().get(pk=role.pk)
        changes = {name: [getattr(role, name), value] for name, value in values.items()
                   if getattr(role, name) != value}
        for name, value in values.items():
            setattr(role, name, value)
        role.save()
        if "is_admin" in changes:
            User.objects.filter(role=role).update(is_staff=role.is_admin,
                                                  is_superuser=role.is_admin)
            ensure_an_admin_remains()
        log_change(actor=actor, action="update", instance=role, origin=origin, changes=changes)
    return role


def role_delete(*, actor: User, origin: str, role: Role) -> None:
    """Delete a role nobody holds (deactivated people count: they may come back). The
    built-in roles stay."""
    require_admin(actor, ADMINS_ONLY)
    with transaction.atomic():
        role = Role.objects.select_for_update().get(pk=role.pk)
        if role.code in BUILTIN_ROLES:
            raise ValidationError({"role": [_("内置角色“%(name)s”不能删除，可以修改它的权限")
                                            % {"name": role.name}]})
        holders = User.objects.filter(role=role).count()
        if holders:
            raise ValidationError({"role": [
                _("还有 %(n)d 名成员（含已停用的）使用角色“%(name)s”，请先给他们换一个角色")
                % {"n": holders, "name": role.name}]})
        log_change(actor=actor, action="delete", instance=role, origin=origin,
                   changes={"name": role.name, "code": role.code})
        role.delete()


# --- departments --------------------------------------------------------------------------


def clean_department(data: dict[str, Any], *, department: Department | None) -> dict[str, Any]:
    """Name and parent (blank: at the top). A department goes under neither itself nor one
    of its own sub-departments, and sits beside no sibling of the same name."""
    errors = Collector()
    errors.run("name", text_cleaner(100), data.get("name"))
    if errors.cleaned.get("name") == "":
        errors.add_error("name", _("请填写部门名称"))
    errors.run("parent", lambda value: _clean_parent(value, department), data.get("parent"))
    if not errors.errors:
        siblings = Department.objects.filter(parent=errors.cleaned["parent"],
                                             name=errors.cleaned["name"])
        if siblings.exclude(pk=getattr(department, "pk", None)).exists():
            errors.add_error("name", _("同一上级部门下已有“%(name)s”") % {"name": errors.cleaned["name"]})
    return errors.result()


def _clean_parent(value: Any, department: Department | None) -> Department | None:
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    parent = Department.objects.filter(pk=int(text)).first() \
        if text.isascii() and text.isdigit() and 0 < int(text) < 2**63 else None
    if parent is None:
        raise ValidationError(_("没有这个部门"))
    if department is not None and parent.path.startswith(department.path):
        if parent.pk == department.pk:
            raise ValidationError(_("部门不能放在它自己之下"))
        raise ValidationError(_("“%(parent)s”是“%(name)s”的下级部门，不能把“%(name)s”移到它之下")
                              % {"parent": parent.name, "name": department.name})
    return parent


def department_save(*, actor: User, origin: str, data: dict[str, Any],
                    department: Department | None = None) -> Department:
    """Create a department (no `department`), or rename or move one. A move carries the
    whole subtree: every `path` below follows (the data scopes 本部门及下属 read it), in the
    same transaction."""
    require_admin(actor, ADMINS_ONLY)
    with transaction.atomic():
        if department is not None:
            department = Department.objects.select_for_update().get(pk=department.pk)
        current = {"name": department.name, "parent": department.parent_id} if department else {}
        values = clean_department({**current, **data}, department=department)
        if department is None:
            department = Department(**values)
            department.save()
            log_change(actor=actor, action="create", instance=department, origin=origin,
                       changes={"name": [None, department.name],
                                "parent": [None, department.parent_id]})
            return department
        before = {"name": department.name, "parent": department.parent_id,
                  "path": department.path}
        department.name, department.parent = values["name"], values["parent"]
        department.save()  # Department.save moves the subtree's paths with it
        after = {"name": department.name, "parent": department.parent_id,
                 "path": department.path}
        log_change(actor=actor, action="update", instance=department, origin=origin,
                   changes={k: [before[k], after[k]] for k in before if before[k] != after[k]})
    return department


def department_delete(*, actor: User, origin: str, department: Department) -> None:
    """Delete an empty department; else refused, naming what is inside it: sub-departments,
    people (deactivated ones too) and anything else that names it (a pool's departments)."""
    require_admin(actor, ADMINS_ONLY)
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=department.pk)
        inside = department_contents(department)
        if inside:
            raise ValidationError({"department": [
                _("“%(name)s”不是空的，不能删除：%(inside)s")
                % {"name": department.name, "inside": "；".join(inside)}]})
        log_change(actor=actor, action="delete", instance=department, origin=origin,
                   changes={"name": department.name, "parent": department.parent_id,
                            "path": department.path})
        department.delete()


def department_contents(department: Department) -> list[str]:
    """What keeps a department from being deleted, in words ([] when it is empty). Every
    relation pointing at departments is asked, so an app added later is named too."""
    found = []
    for relation in Department._meta.related_objects:
        model, field = relation.field.model, relation.field
        rows = list(model._base_manager.filter(**{field.name: department})[:6])
        if not rows:
            continue
        names = "、".join(str(row) for row in rows[:5]) + ("…" if len(rows) > 5 else "")
        count = model._base_manager.filter(**{field.name: department}).count()
        if model is Department:
            found.append(_("%(n)d 个下级部门（%(names)s）") % {"n": count, "names": names})
        elif model is User:
            found.append(_("%(n)d 名成员（含已停用的）（%(names)s）") % {"n": count, "names": names})
        else:
            found.append(_("%(what)s 用到它（%(names)s）") % {"what": field.verbose_name,
                                                          "names": names})
    return found
