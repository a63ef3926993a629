"""Writing the audit trail: `record` (everything that is audited calls it) and `prune`
(retention, keeping the chain verifiable from an anchor)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from kehu.accounts.models import User
from kehu.accounts.throttle import client_address
from kehu.audit import chain
from kehu.audit.context import current_request
from kehu.audit.masking import mask_details, mask_term
from kehu.audit.models import Action, AuditEntry

ACTIONS = frozenset(Action.values)


def record(
    request_or_actor: HttpRequest | User | None, action: str, *, customer_id: int | None = None,
    label: str = "", details: dict[str, Any] | None = None, actor: User | None = None,
) -> AuditEntry:
    """Append one entry. Given a request, the actor is its person (the API's `request.auth`,
    else `request.user`); given a person, the address and user agent come from the request
    being served, if any (a job has none). `details` are masked before they are kept."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    request = request_or_actor if isinstance(request_or_actor, HttpRequest) else current_request()
    if actor is None:
        actor = _actor_of(request_or_actor)
    if action == Action.SEARCHED:  # the label is the term: masked as details' "q" is
        label = mask_term(str(label))
    entry = AuditEntry(
        at=chain.now(), actor_id=actor.pk if actor else None,
        actor_name=(actor.get_username() if actor else "")[:150], action=action,
        customer_id=customer_id, label=str(label)[:200], details=mask_details(details or {}),
        ip=_address(request), user_agent=_agent(request),
    )
    return chain.append(entry)


def _actor_of(value: HttpRequest | User | None) -> User | None:
    if isinstance(value, HttpRequest):
        auth = getattr(value, "auth", None)
        value = auth if isinstance(auth, User) else getattr(value, "user", None)
    return value if isinstance(value, User) and value.is_authenticated else None


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def _agent(request: HttpRequest | None) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""


def retention_cutoff(now=None):
    return (now or chain.now()) - timedelta(days=settings.KEHU_AUDIT_RETENTION_DAYS)


def prune(*, now=None, batch: int = 5000) -> int:
    """Delete entries older than the retention period, a batch per transaction. The head's
    anchor moves to the last deleted entry (its id and digest, under the head's MAC), so
    `verify` starts there; one `pruned` entry records each batch. Returns how many went."""
    cutoff, gone = retention_cutoff(now), 0
    while True:
        with transaction.atomic():
            head = chain.lock_head()
            ids = list(AuditEntry.objects.filter(pk__gt=head.anchor_id, at__lt=cutoff)
                       .order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                return gone
            last = AuditEntry.objects.get(pk=ids[-1])
            deleted, _kinds = AuditEntry.objects.filter(pk__gt=head.anchor_id,
                                                        pk__lte=last.pk).delete()
            head.anchor_id, head.anchor_digest = last.pk, last.digest
            head.mac = chain.head_mac(head)
            head.save(update_fields=["anchor_id", "anchor_digest", "mac"])
            gone += deleted
            record(None, Action.PRUNED, label=f"#{ids[0]}–#{last.pk}",
                   details={"deleted": deleted, "through": last.pk,
                            "before": cutoff.isoformat(),
                            "days": settings.KEHU_AUDIT_RETENTION_DAYS})
