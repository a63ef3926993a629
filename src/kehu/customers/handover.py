"""离职交接: a leaving person's customers handed to a colleague in one step (admins).

It lives in customers, not accounts, because it moves customers — through the one transfer
path, `services.customer_transfer` (a transfer record per customer, the change log, the
version), never a second one — and may then deactivate the leaver through accounts'
`user_deactivate` (sessions and tokens end). The transfer moves customers only: open deals
and follow-up tasks keep their owner and assignee, as with every transfer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import require_admin
from kehu.accounts.selectors import user_get_active
from kehu.accounts.team import ADMINS_ONLY, user_deactivate
from kehu.core.cleaning import Collector, text_cleaner
from kehu.core.errors import ValidationError
from kehu.core.inputs import parse_id
from kehu.core.records import log_change
from kehu.customers.models import Customer
from kehu.customers.scoping import MANAGE
from kehu.customers.services import customer_transfer
from kehu.customers.signals import handed_over


@dataclass(frozen=True)
class Handover:
    """Who leaves, who receives, and what would move (or moved)."""

    from_user: User
    to_user: User | None
    customers: int  # live customers the leaver owns: all of them move
    in_recycle_bin: int  # soft-deleted ones stay with the leaver (restore them first)
    deactivated: bool = False
    also: dict[str, int] = field(default_factory=dict)  # open deals, tasks … moved with them


def _leaver(value: Any) -> User:
    pk = parse_id(value, field="from_user", required=False)
    found = User.objects.filter(pk=pk, is_system=False).first() if pk else None
    if found is None:
        raise ValidationError(_("请选择离职的成员"))
    return found


def _receiver(value: Any) -> User:
    found = user_get_active(value)
    if found is None:
        raise ValidationError(_("请选择接收客户的在职成员"))
    return found


def handover_clean(data: dict[str, Any], *, need_receiver: bool = True) -> dict[str, Any]:
    """from_user (anyone but the system actor, deactivated too), to_user (an active person,
    not the leaver), reason; every bad field at once."""
    errors = Collector()
    errors.run("from_user", _leaver, data.get("from_user"))
    if need_receiver or data.get("to_user"):
        errors.run("to_user", _receiver, data.get("to_user"))
    errors.run("reason", text_cleaner(255), data.get("reason"))
    leaver, receiver = errors.cleaned.get("from_user"), errors.cleaned.get("to_user")
    if leaver and receiver and leaver.pk == receiver.pk:
        errors.add_error("to_user", _("接收人不能是离职的成员本人"))
    return errors.result()


def handover_preview(*, viewer: User, data: dict[str, Any]) -> Handover:
    """What a handover would move, for the admin to confirm."""
    require_admin(viewer, ADMINS_ONLY)
    clean = handover_clean(data, need_receiver=False)
    return _counted(viewer, clean["from_user"], clean.get("to_user"))


def _counted(viewer: User, leaver: User, receiver: User | None) -> Handover:
    return Handover(
        from_user=leaver, to_user=receiver,
        customers=Customer.objects.visible_to(viewer, MANAGE).filter(owner=leaver).count(),
        in_recycle_bin=Customer.objects.in_recycle_bin_of(viewer).filter(owner=leaver).count())


def handover_run(*, actor: User, origin: str, data: dict[str, Any]) -> Handover:
    """Move every live customer of `from_user` to `to_user` through the transfer service
    (reason 离职交接 unless given), record the handover on the leaver, and with `deactivate`
    deactivate them in the same transaction. All or nothing."""
    require_admin(actor, ADMINS_ONLY)
    clean = handover_clean(data)
    leaver, receiver = clean["from_user"], clean["to_user"]
    reason = clean["reason"] or _("离职交接")
    deactivate = str(data.get("deactivate") or "").lower() in ("1", "on", "true", "yes")
    with transaction.atomic():
        ids = list(Customer.objects.visible_to(actor, MANAGE).filter(owner=leaver)
                   .values_list("pk", flat=True))
        moved = customer_transfer(actor=actor, origin=origin, customer_ids=ids,
                                  to_user=receiver, reason=reason)
        also: dict[str, int] = {}
        for _receiver, counts in handed_over.send(sender=None, ids=ids, from_user=leaver,
                                                  to_user=receiver, actor=actor, origin=origin):
            also.update(counts or {})
        left = Customer.objects.in_recycle_bin_of(actor).filter(owner=leaver).count()
        log_change(actor=actor, action="handover", instance=leaver, origin=origin, changes={
            "to_user": receiver.pk, "customers": moved, "in_recycle_bin": left,
            "reason": reason, "deactivate": deactivate, **also})
        if deactivate:
            user_deactivate(actor=actor, origin=origin, user=leaver)
    return Handover(leaver, receiver, moved, left, deactivate, also)
