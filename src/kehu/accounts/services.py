"""Users, departments and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import ApiToken, Department, Role, User
from kehu.accounts.policy import forget_access
from kehu.core.errors import ValidationError

TOKEN_PREFIX = "kehu_"  # noqa: S105 -- a public prefix, not a secret


def department_path(name_path: str) -> Department:
    """Get or create a department by "总部/华东区/上海组" (each level nested in the previous)."""
    parent = None
    for name in [part.strip() for part in name_path.split("/") if part.strip()]:
        parent, _created = Department.objects.get_or_create(parent=parent, name=name)
    if parent is None:
        raise ValidationError({"department": [_("部门名称不能为空")]})
    return parent


@transaction.atomic
def user_create(
    *,
    username: str,
    role_code: str,
    password: str | None = None,
    department: Department | None = None,
    manager: User | None = None,
    display_name: str = "",
    language: str = "zh-hans",
) -> tuple[User, str]:
    """Create a user; returns (user, password) — the password generated when none is given.

    A given password must pass the password validators (AUTH_PASSWORD_VALIDATORS)."""
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [_("用户名已存在")]})
    role = Role.objects.filter(code=role_code).first()
    if role is None:
        codes = ", ".join(Role.objects.values_list("code", flat=True))
        raise ValidationError({"role": [_("没有这个角色（可用：%(codes)s）") % {"codes": codes}]})
    password = password or generate_password()
    user = User(username=username, role=role, department=department, manager=manager,
                display_name=display_name or username, language=language,
                is_staff=role.is_admin, is_superuser=role.is_admin)
    errors: dict[str, list[str]] = {}
    try:
        _validate_password(password, user)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:  # every bad field at once
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    return user, password


def user_set_password(*, user: User, password: str) -> None:
    """Give `user` a new password; it must pass the password validators."""
    _validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


def generate_password() -> str:
    """A random password long enough for the configured minimum (at least 16 characters)."""
    return secrets.token_urlsafe(max(12, settings.KEHU_PASSWORD_MIN_LENGTH))


def _validate_password(password: str, user: User) -> None:
    """Every validator's complaint at once, on the `password` field."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def user_set_language(*, user: User, language: str) -> None:
    if language not in ("zh-hans", "en"):
        raise ValidationError({"language": [_("不支持的语言")]})
    user.language = language
    user.save(update_fields=["language"])


def user_set_role(*, user: User, role: Role) -> None:
    user.role = role
    user.save(update_fields=["role"])
    forget_access(user)


def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token; the secret is returned once and only its hash is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], key_hash=_hash(secret)
    )
    return token, secret


def token_authenticate(secret: str) -> User | None:
    """The active user behind a bearer token, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__role")
        .filter(key_hash=_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        # Write at most every five minutes: a token in a hot loop must not cost a write per call.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_revoke(*, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


SYSTEM_USERNAME = "system"


def system_actor() -> User:
    """The actor background jobs and the command line act as, so provenance is never empty."""
    user, _created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_system": True, "is_active": False, "display_name": "System"},
    )
    return user
