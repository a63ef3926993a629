"""Team settings (设置 → 成员与权限): roles and the department tree, written by admins.

Services like `accounts/team.py`'s: keyword-only, a required admin `actor` and `origin`,
one transaction, every bad field named at once, one change-log row per change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kehu.accounts.models import DataScope, Role, User
from kehu.accounts.team import ensure_an_admin_remains, require_admin
from kehu.core.cleaning import Collector, choice_cleaner, text_cleaner
from kehu.core.errors import ValidationError
from kehu.core.records import log_change

BUILTIN_ROLES = ("admin", "manager", "sales", "analyst")  # the command line and demo name them
ROLE_FLAGS = ("can_write", "masks_sensitive", "is_admin", "manages_catalogue", "may_export",
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
    require_admin(actor)
    values = clean_role(data, role=role)
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
    require_admin(actor)
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
