"""What commands that act for a user share (`kehu import`, `export`, `dedup`): who they act as."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from kehu.accounts.models import User


def acting_user(username: str | None) -> User:
    """The user named by --as, or the only admin; one clear 错误 line otherwise."""
    users = User.objects.filter(is_active=True, is_system=False)
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(_("没有用户“%(name)s”") % {"name": username})
        return user
    admins = list(users.filter(role__is_admin=True)[:2])
    if len(admins) != 1:
        raise CommandError(_("请用 --as 指定以哪个用户操作"))
    return admins[0]
