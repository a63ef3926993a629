"""Team settings (设置 → 成员与权限): the people of the company, written by admins.

Every function is a service: keyword-only, a required `actor` (an admin — anyone else is
refused with 403, so the API or a command could call them too) and `origin`, one
transaction, one cleaning pass that names every bad field, one change-log row. Passwords
never reach the log. Roles and departments are in `accounts/org.py`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import Department, Role, User
from kehu.accounts.policy import forget_access, require_admin, subordinate_ids
from kehu.accounts.services import _validate_password, generate_password, tokens_revoke_live
from kehu.accounts.sessions import sessions_end_every
from kehu.core.cleaning import Collector, text_cleaner
from kehu.core.errors import Http404, ValidationError
from kehu.core.inputs import parse_id
from kehu.core.records import log_change

EDITABLE = ("display_name", "email", "department", "manager", "role")


ADMINS_ONLY = gettext_lazy("只有管理员可以管理成员与权限")


def team_member(pk: Any) -> User:
    """A person of the company (not the system actor) by id, or 404."""
    number = parse_id(pk, field="user", required=False)
    user = User.objects.filter(pk=number, is_system=False).select_related(
        "role", "department", "manager").first() if number else None
    if user is None:
        raise Http404
    return user


# --- cleaning -----------------------------------------------------------------------------


def _pick(model: type, value: Any, *, message: str, query: Q | None = None) -> Any:
    """The row an id names (or None for a blank), else a ValidationError saying `message`."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**63:
        raise ValidationError(message)
    found = model.objects.filter(query or Q(), pk=int(text)).first()
    if found is None:
        raise ValidationError(message)
    return found


def clean_user(data: dict[str, Any], *, user: User | None) -> dict[str, Any]:
    """Every field of a new person (`user` None) or a change to one, every error at once.

    The username is fixed once made; a manager is an active colleague who does not report
    to the person (no loop in the reporting line)."""
    errors = Collector()
    if user is None:
        errors.run("username", _clean_username, data.get("username"))
    errors.run("display_name", text_cleaner(100), data.get("display_name"))
    errors.run("email", _clean_email, data.get("email"))
    errors.run("department", _clean_department, data.get("department"))
    errors.run("role", _clean_role, data.get("role"))
    errors.run("manager", lambda v: _clean_manager(v, user), data.get("manager"))
    return errors.result()


def _clean_username(value: Any) -> str:
    name = text_cleaner(150)(value)
    if not name:
        raise ValidationError(_("请填写登录用户名"))
    UnicodeUsernameValidator()(name)
    if User.objects.filter(username=name).exists():
        raise ValidationError(_("用户名“%(name)s”已被使用") % {"name": name})
    return name


def _clean_email(value: Any) -> str:
    email = text_cleaner(254)(value)
    if email:
        validate_email(email)
    return email


def _clean_department(value: Any) -> Department | None:
    return _pick(Department, value, message=_("没有这个部门"))


def _clean_role(value: Any) -> Role:
    role = _pick(Role, value, message=_("没有这个角色"))
    if role is None:
        raise ValidationError(_("请选择角色"))
    return role


def _clean_manager(value: Any, user: User | None) -> User | None:
    # An active colleague; a deactivated one only where they are the manager already (a
    # change of department must not make the admin drop a line nobody has replaced yet).
    keep = Q(pk=user.manager_id) if user is not None and user.manager_id else Q(pk__in=[])
    manager = _pick(User, value, message=_("上级应为在职的同事"),
                    query=(Q(is_active=True) | keep) & Q(is_system=False))
    if manager is not None and user is not None:
        if manager.pk == user.pk:
            raise ValidationError(_("不能把自己设为自己的上级"))
        if manager.pk in subordinate_ids(user):
            raise ValidationError(_("%(name)s 是 %(user)s 的下属，不能再做其上级")
                                  % {"name": manager.label, "user": user.label})
    return manager


# --- writes -------------------------------------------------------------------------------


def user_add(*, actor: User, origin: str, data: dict[str, Any]) -> tuple[User, str | None]:
    """A new person: username, display name, email, department, manager, role and an initial
    password through the password validators — or, left blank, a generated one returned to
    be shown once. Returns (user, the generated password or None)."""
    require_admin(actor, ADMINS_ONLY)
    given = str(data.get("password") or "")
    errors: dict[str, list[str]] = {}
    try:
        values = clean_user(data, user=None)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        values = {}
    password = given or generate_password()
    probe = User(username=values.get("username") or str(data.get("username") or ""),
                 display_name=values.get("display_name", ""), email=values.get("email", ""))
    try:
        _validate_password(password, probe)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:  # every bad field at once, the password's with the others
        raise ValidationError(errors)
    with transaction.atomic():
        user = User(**values)
        user.display_name = user.display_name or user.username
        _admin_flags(user)
        user.set_password(password)
        user.save()
        log_change(actor=actor, action="create", instance=user, origin=origin,
                   changes=_summary(values))
    return user, None if given else password


def user_change(*, actor: User, origin: str, user: User, data: dict[str, Any]) -> User:
    """Change a person's display name, email, department, manager and role; a field `data`
    leaves out keeps its value (so a caller changing the role alone clears nothing)."""
    require_admin(actor, ADMINS_ONLY)
    current = {"display_name": user.display_name, "email": user.email,
               "department": user.department_id, "manager": user.manager_id,
               "role": user.role_id}
    values = clean_user({**current, **data}, user=user)
    values["display_name"] = values["display_name"] or user.username
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        changes = _changes(user, values)
        for name, value in values.items():
            setattr(user, name, value)
        _admin_flags(user)
        user.save(update_fields=[*EDITABLE, "is_staff", "is_superuser"])
        forget_access(user)
        ensure_an_admin_remains()
        log_change(actor=actor, action="update", instance=user, origin=origin, changes=changes)
    return user


def user_deactivate(*, actor: User, origin: str, user: User) -> User:
    """Deactivate a person: they cannot sign in, every session of theirs ends now and every
    API token of theirs is revoked (a reactivation does not bring old tokens back). Their
    customers stay theirs — hand them over first (离职交接)."""
    require_admin(actor, ADMINS_ONLY)
    if user.pk == actor.pk:
        raise ValidationError({"user": [_("不能停用自己的账号")]})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            return user
        user.is_active = False
        user.save(update_fields=["is_active"])
        forget_access(user)
        ensure_an_admin_remains()
        tokens = len(tokens_revoke_live(user))
        sessions = sessions_end_every(user)
        log_change(actor=actor, action="deactivate", instance=user, origin=origin,
                   changes={"is_active": [True, False], "sessions_ended": sessions,
                            "tokens_revoked": tokens})
    return user


def user_reactivate(*, actor: User, origin: str, user: User) -> User:
    """Let a deactivated person sign in again (with the password they had)."""
    require_admin(actor, ADMINS_ONLY)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            return user
        user.is_active = True
        user.save(update_fields=["is_active"])
        log_change(actor=actor, action="reactivate", instance=user, origin=origin,
                   changes={"is_active": [False, True]})
    return user


def user_password_reset(*, actor: User, origin: str, user: User,
                        password: str = "") -> str | None:
    """Give a person a new password — the one typed (through the password validators) or,
    blank, a generated one returned to be shown once. Every session of theirs ends."""
    require_admin(actor, ADMINS_ONLY)
    new = password or generate_password()
    _validate_password(new, user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new)
        user.save(update_fields=["password"])
        sessions = sessions_end_every(user)
        log_change(actor=actor, action="password_reset", instance=user, origin=origin,
                   changes={"generated": not password, "sessions_ended": sessions})
    return None if password else new


def ensure_an_admin_remains() -> None:
    """Refuse (inside the caller's transaction) a change that leaves no active admin."""
    admins = User.objects.filter(is_active=True, is_system=False).filter(
        Q(role__is_admin=True) | Q(is_superuser=True))
    if not admins.exists():
        raise ValidationError({"role": [_("至少要保留一位在职的管理员")]})


def _admin_flags(user: User) -> None:
    """An admin role's people may open Django's admin; nobody else may (the policy treats a
    superuser as an admin whatever the role says, so the flags follow the role)."""
    is_admin = bool(user.role and user.role.is_admin)
    user.is_staff = user.is_superuser = is_admin


def _summary(values: dict[str, Any]) -> dict[str, Any]:
    return {name: [None, getattr(value, "pk", value)] for name, value in values.items()
            if value not in (None, "")}


def _changes(user: User, values: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} of what changes; a department, manager or role by its id."""
    found = {}
    for name, new in values.items():
        old = getattr(user, f"{name}_id") if name in ("department", "manager", "role") \
            else getattr(user, name)
        new = getattr(new, "pk", new)
        if old != new:
            found[name] = [old, new]
    return found
