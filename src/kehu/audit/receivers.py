"""Audit entries for what Django and the accounts models announce: signing in and out, failed
sign-ins (wrong password, wrong second-factor code, a locked account — django-axes and the
two-factor step all send `user_login_failed`), and changes of a role or of a person's role
and admin flags, wherever they are made (Django's admin, `kehu user`, a service)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from kehu.accounts.models import Role, User
from kehu.audit.context import current_request
from kehu.audit.models import Action
from kehu.audit.services import record

ROLE_FIELDS = ("code", "name", "data_scope", "can_write", "masks_sensitive", "is_admin",
               "manages_catalogue", "may_export", "may_import", "may_delete", "may_merge",
               "may_use_pool", "may_reveal", "requires_two_factor")
USER_FIELDS = ("role_id", "is_staff", "is_superuser", "is_active")


@receiver(user_logged_in, dispatch_uid="audit-signed-in")
def _signed_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    record(request, Action.SIGNED_IN, actor=user, label=user.get_username())


@receiver(user_logged_out, dispatch_uid="audit-signed-out")
def _signed_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        record(request, Action.SIGNED_OUT, actor=user, label=user.get_username())


@receiver(user_login_failed, dispatch_uid="audit-sign-in-failed")
def _sign_in_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")[:150]
    record(request if request is not None else None, Action.SIGN_IN_FAILED, label=username,
           details={"username": username})


def _label(instance: Role | User) -> str:
    return f"role:{instance.code}" if isinstance(instance, Role) else f"user:{instance.get_username()}"


def _acting() -> User | None:
    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    return user if isinstance(user, User) and user.is_authenticated else None


def _before(sender: type, instance: Any, fields: tuple[str, ...],
            update_fields: Any) -> dict[str, Any] | None:
    if update_fields is not None and not {f.removesuffix("_id") for f in fields} & {
            f.removesuffix("_id") for f in update_fields}:
        return None  # e.g. last_login on every sign-in: nothing audited changed, no query
    if instance.pk is None:
        return {}
    return sender._base_manager.filter(pk=instance.pk).values(*fields).first() or {}


@receiver(pre_save, sender=Role, dispatch_uid="audit-role-before")
@receiver(pre_save, sender=User, dispatch_uid="audit-user-before")
def _remember(sender: type, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    fields = ROLE_FIELDS if sender is Role else USER_FIELDS
    instance._audit_before = _before(sender, instance, fields, update_fields)


@receiver(post_save, sender=Role, dispatch_uid="audit-role-after")
@receiver(post_save, sender=User, dispatch_uid="audit-user-after")
def _changed(sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    before = getattr(instance, "_audit_before", None)
    if raw or before is None:
        return
    fields = ROLE_FIELDS if sender is Role else USER_FIELDS
    changes = {f.removesuffix("_id"): [before.get(f), getattr(instance, f)] for f in fields
               if before.get(f) != getattr(instance, f) and not (created and not getattr(instance, f))}
    instance._audit_before = None
    if not changes:
        return
    target = "role" if sender is Role else "user"
    record(_acting(), Action.ROLE_CHANGED, label=_label(instance),
           details={"target": target, "id": instance.pk, "created": created, "changes": changes})


@receiver(post_delete, sender=Role, dispatch_uid="audit-role-deleted")
def _role_deleted(sender: type, instance: Role, **kwargs: Any) -> None:
    record(_acting(), Action.ROLE_CHANGED, label=_label(instance),
           details={"target": "role", "id": instance.pk, "deleted": True})


@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="audit-user-perms")
@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="audit-user-groups")
def _permissions(sender: type, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or not isinstance(instance, User):
        return
    what = "permissions" if sender is User.user_permissions.through else "groups"
    record(_acting(), Action.ROLE_CHANGED, label=_label(instance),
           details={"target": "user", "id": instance.pk, what: action.removeprefix("post_"),
                    "ids": sorted(pk_set or [])})
