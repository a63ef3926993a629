"""Writes of the consent ledger: grant and withdraw. Both go through the customers' gate with
CHANGE (404 out of scope, 403 read-only) and the one write path (`core.records`), so every
grant and withdrawal is a change-log row on the customer — which the audit trail seals and
shows — with its actor and origin.

Withdrawal takes effect at once: the customer's derived state (`selectors.states_for`,
the `consent.<purpose>` condition) reads the rows themselves, there is nothing to refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import ValidationError
from kehu.core.records import record_create, record_update
from kehu.customers.scoping import CHANGE, as_pk, customer_for
from kehu.customers.selectors import contact_list
from kehu.customers.sensitive import has_separate_consent
from kehu.customers.services import sensitive_values_drop
from kehu.privacy.choices import Purpose
from kehu.privacy.cleaning import clean_grant, clean_withdrawal_note
from kehu.privacy.models import Consent


def _same_subject(consent_or_values: Any) -> dict[str, Any]:
    """The filter for the rows of one subject (the customer itself, or one contact) and purpose."""
    get = consent_or_values.get if isinstance(consent_or_values, dict) else \
        lambda name: getattr(consent_or_values, name)
    subject = {"contact_id": get("contact_id")} if get("contact_id") else \
        {"contact__isnull": True, "contact_name": get("contact_name") or ""}
    return {"customer_id": get("customer_id"), "purpose": get("purpose"), **subject}


@transaction.atomic
def consent_grant(*, actor: User, origin: str, customer: Any, data: dict[str, Any]) -> Consent:
    """Record one grant (同意) for one purpose, of the customer or one of its contacts.

    Refused, naming the field, while the same subject holds a live grant for the purpose
    (withdraw it first: a re-grant under a new notice is a new row, so the ledger says when
    each notice was agreed to). `collected_by` defaults to the actor, `granted_at` to now."""
    customer = customer_for(actor, customer, CHANGE, lock=True)  # grants of one customer take turns
    values = clean_grant(data)
    contact = None
    if values["contact"] is not None:
        contact = next((c for c in contact_list(viewer=actor, customer_id=customer.pk)
                        if c.pk == values["contact"]), None)
        if contact is None:
            raise ValidationError({"contact": [_("不是该客户的联系人")]})
    subject = {"customer_id": customer.pk, "purpose": values["purpose"],
               "contact_id": contact.pk if contact else None, "contact_name": ""}
    live = Consent.objects.filter(**_same_subject(subject), is_current=True,
                                  withdrawn_at__isnull=True).first()
    if live is not None:
        raise ValidationError({"purpose": [_("已有一条有效的“%(purpose)s”同意（%(notice)s，%(day)s），"
                                             "如需按新的告知文本重新取得同意，请先撤回它") % {
            "purpose": Purpose(values["purpose"]).label, "notice": live.notice_version,
            "day": date_format(timezone.localtime(live.granted_at), "Y-m-d")}]})
    Consent.objects.filter(**_same_subject(subject), is_current=True).update(is_current=False)
    consent = Consent(
        customer=customer, contact=contact, contact_name=contact.name if contact else "",
        purpose=values["purpose"], legal_basis=values["legal_basis"],
        notice_version=values["notice_version"], channel=values["channel"],
        sensitive=values["sensitive"], note=values["note"],
        collected_by=values["collected_by"] or actor, granted_at=values["granted_at"])
    return record_create(actor=actor, instance=consent, origin=origin, summary={
        "consent": "grant", "purpose": consent.purpose, "legal_basis": consent.legal_basis,
        "notice_version": consent.notice_version, "channel": consent.channel,
        "sensitive": consent.sensitive, "contact": consent.contact_id,
        "collected_by": consent.collected_by_id, "granted_at": consent.granted_at.isoformat()})


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal did: the consent as it is now, and whether this call changed it
    (False: it was withdrawn already — said, not done twice)."""

    consent: Consent
    changed: bool
    message: str


@transaction.atomic
def consent_withdraw(*, actor: User, origin: str, consent: Any, note: Any = "") -> Withdrawal:
    """撤回: one click, effective at once. Withdrawing a withdrawn consent changes nothing and
    says so. Any other live grant of the same subject and purpose (two customers merged, each
    with one) is withdrawn with it: a person withdraws a purpose, not a sheet of paper."""
    note = clean_withdrawal_note(note)
    pk = as_pk(consent)
    row = Consent.objects.get_for(actor, pk, CHANGE)  # 404 out of sight, 403 read-only
    customer_for(actor, row.customer_id, CHANGE, lock=True)  # withdrawals of one customer take turns
    row = Consent.objects.select_related("withdrawn_by").get(pk=pk)
    if row.withdrawn_at is not None:
        return Withdrawal(row, False, _("这条同意已于 %(day)s 由 %(who)s 撤回，无需再次撤回") % {
            "day": date_format(timezone.localtime(row.withdrawn_at), "Y-m-d H:i"),
            "who": row.withdrawn_by.label if row.withdrawn_by else "—"})
    now = timezone.now()
    same = Consent.objects.filter(**_same_subject(row), withdrawn_at__isnull=True) \
        .exclude(pk=row.pk).order_by("id")
    for consent_row in [row, *same]:
        record_update(actor=actor, instance=consent_row, origin=origin, action="withdraw",
                      values={"withdrawn_at": now, "withdrawn_by_id": actor.pk,
                              "withdrawal_note": note})
    row.refresh_from_db()
    if row.sensitive and not has_separate_consent(row.customer_id):
        # PIPL arts. 15, 47: without the separate consent the sensitive values must go.
        sensitive_values_drop(actor=actor, origin=origin, customer_id=row.customer_id)
    return Withdrawal(row, True, _("已撤回“%(purpose)s”同意，立即生效") % {
        "purpose": Purpose(row.purpose).label})
