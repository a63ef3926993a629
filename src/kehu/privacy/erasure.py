"""Erasure by anonymising in place (删除个人信息, PIPL art. 47, GDPR art. 17).

One transaction per customer. The customer keeps its id, owner, tags, region and every
order, so totals and counts do not move; what named the person goes: the name becomes
已删除客户 #id, contact fields and free text are cleared or redacted (holdings.py), the match
keys and search grams are rebuilt from what is left (nothing), attachments are deleted
from disk, merge snapshots are emptied (such a merge can no longer be undone), and the
person's values are replaced by *** wherever else they appear — notifications, jobs, the
audit trail and the change log, the last two without breaking `kehu audit verify`
(audit/redaction.py). Registered erasers do the rest (transfer: import ledgers and sheets,
export files). One `erase` change-log row and one `erased` audit entry say who did it, why
and for which request — without the old values.

This bypasses `core.records.record_update` on purpose: that path would log the very
values being erased as "before".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kehu.accounts.models import User
from kehu.audit import redaction
from kehu.core.models import ChangeLog
from kehu.core.records import log_change
from kehu.customers.keys import keys_refresh
from kehu.customers.models import (
    Contact,
    Customer,
    CustomerKey,
    CustomValue,
    DuplicatePair,
    MergeRecord,
)
from kehu.customers.searchindex import search_index_refresh
from kehu.history.models import Attachment
from kehu.jobs.models import Job
from kehu.notifications.models import Notification
from kehu.privacy.holdings import REDACTED, Target, erasers, holdings

ERASED_CUSTOMER = "已删除客户 #%(id)s"
ERASED_CONTACT = "已删除联系人"
MIN_TERM = 2  # a one-character term would scrub half of every Chinese text


def person_terms(customer: Customer | None, contacts: Iterable[Contact]) -> tuple[str, ...]:
    """The person's own values as they may appear in other text: names, phones (E.164 and
    the national number), e-mails, WeChat ids, ID numbers — longest first, so a phone is
    replaced whole before any shorter value inside it."""
    values: set[str] = set()
    if customer is not None:
        values.update([customer.name, customer.short_name, customer.wechat,
                       customer.id_number, *customer.emails])
        values.update(_phone_forms(customer.phones))
    for contact in contacts:
        values.update([contact.name, contact.email, contact.wechat])
        values.update(_phone_forms(contact.phones))
    values.update({v.lower() for v in values if "@" in v})
    return tuple(sorted((v for v in values if v and len(v) >= MIN_TERM),
                        key=lambda v: (-len(v), v)))


def _phone_forms(phones: Iterable[str]) -> set[str]:
    forms: set[str] = set()
    for phone in phones:
        number = phone.split(";")[0]
        forms.add(number)
        if number.startswith("+86"):
            forms.add(number[3:])
    return forms


@transaction.atomic
def erase_customer(*, actor: User, origin: str, customer_id: int, reason: str,
                   request_id: int | None = None) -> dict[str, int]:
    """Anonymise one customer (in the recycle bin or not) and everything naming it."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    contacts = list(Contact.objects.filter(customer_id=customer_id))
    target = Target(customer_id, tuple(c.pk for c in contacts), True,
                    person_terms(customer, contacts))
    counts: Counter[str] = Counter()
    _clear_customer(customer)
    counts["contacts"] = _clear_contacts(target.contact_ids)
    counts["custom_values"] = CustomValue.objects.filter(
        customer_id=customer_id, field__field_type="text").update(text=REDACTED)
    counts["attachments"] = _delete_attachments(customer_id, None)
    counts["rows"] = _redact_holdings(target)
    counts["merges"] = _empty_merges(customer_id)
    counts["duplicate_pairs"] = DuplicatePair.objects.filter(a_id=customer_id).delete()[0] + \
        DuplicatePair.objects.filter(b_id=customer_id).delete()[0]
    return _finish(actor, origin, target, counts, reason, request_id, customer)


@transaction.atomic
def erase_contact(*, actor: User, origin: str, contact_id: int, reason: str,
                  request_id: int | None = None) -> dict[str, int]:
    """Anonymise one contact of a company customer: its row, the rows that are its own
    (its communications, surveys, consents), and its values wherever the customer's other
    rows mention them; the company itself stays as it is."""
    contact = Contact.objects.get(pk=contact_id)
    customer = Customer.objects.select_for_update().get(pk=contact.customer_id)
    target = Target(customer.pk, (contact.pk,), False, person_terms(None, [contact]))
    counts: Counter[str] = Counter()
    counts["contacts"] = _clear_contacts(target.contact_ids)
    customer.notes = redaction.scrub(customer.notes, target.terms)
    customer.save(update_fields=["notes"])
    for value in CustomValue.objects.filter(customer_id=customer.pk, field__field_type="text"):
        CustomValue.objects.filter(pk=value.pk).update(
            text=redaction.scrub(value.text or "", target.terms) or None)
    counts["attachments"] = _delete_attachments(customer.pk, target.contact_ids)
    counts["rows"] = _redact_holdings(target)
    return _finish(actor, origin, target, counts, reason, request_id, customer)


def _finish(actor: User, origin: str, target: Target, counts: Counter[str], reason: str,
            request_id: int | None, customer: Customer) -> dict[str, int]:
    counts["notifications"] = _scrub_notifications(target)
    counts["jobs"] = _scrub_jobs(target.terms)
    for name, eraser in erasers().items():
        counts[name] = eraser(target)
    Customer.objects.filter(pk=target.customer_id).update(version=F("version") + 1,
                                                          updated_at=timezone.now())
    keys_refresh([target.customer_id])
    search_index_refresh([target.customer_id])
    counts["change_log"], resealed = redaction.redact_changes(
        _erased_change_rows(target), scrub_customer=None if target.whole else target.customer_id,
        terms=target.terms)
    log_change(actor=actor, action="erase", instance=customer, origin=origin,
               changes={"request": request_id, "contacts": list(target.contact_ids),
                        "whole": target.whole})
    label = ERASED_CUSTOMER % {"id": target.customer_id}
    macs = redaction.redact_audit(customer_ids=[target.customer_id] if target.whole else [],
                                  terms=target.terms, label=ERASED_CUSTOMER)
    counts["audit_entries"] = len(macs)
    redaction.record_erasure(actor=actor, customer_id=target.customer_id, label=label, details={
        "request": request_id, "whole": target.whole, "contacts": list(target.contact_ids),
        "reason": redaction.scrub(reason, target.terms), "counts": dict(counts),
        "redacted": macs, "resealed": resealed})
    return dict(counts)


def _clear_customer(customer: Customer) -> None:
    customer.name = ERASED_CUSTOMER % {"id": customer.pk}
    for field in ("short_name", "name_pinyin", "name_initials", "name_key", "address",
                  "wechat", "id_number", "gender", "credit_code", "notes"):
        setattr(customer, field, "")
    customer.phones, customer.emails, customer.birthday = [], [], None
    customer.save(update_fields=[
        "name", "short_name", "name_pinyin", "name_initials", "name_key", "address", "wechat",
        "id_number", "gender", "credit_code", "notes", "phones", "emails", "birthday"])
    CustomerKey.objects.filter(customer_id=customer.pk).delete()


def _clear_contacts(contact_ids: tuple[int, ...]) -> int:
    count = 0
    for contact in Contact.objects.filter(pk__in=contact_ids):
        contact.name, contact.title, contact.email, contact.wechat = ERASED_CONTACT, "", "", ""
        contact.phones, contact.notes = [], ""
        contact.version += 1
        contact.save(update_fields=["name", "title", "email", "wechat", "phones", "notes",
                                    "version", "updated_at"])
        count += 1
    return count


def _delete_attachments(customer_id: int, contact_ids: tuple[int, ...] | None) -> int:
    rows = Attachment.objects.filter(communication__customer_id=customer_id)
    if contact_ids is not None:
        rows = rows.filter(communication__contact_id__in=contact_ids)
    files = [row.file for row in rows]
    count = rows.delete()[0]
    # The rows go with the transaction; the files only once it commits (a rollback keeps them).
    transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files if f.name])
    return count


def _redact_holdings(target: Target) -> int:
    count = 0
    for holding in holdings():
        rows = holding.model_class.objects.filter(**{holding.customer_field: target.customer_id})
        if target.whole:
            count += _redact_whole(rows, holding)
            continue
        if holding.contact_field:
            own = rows.filter(**{f"{holding.contact_field}__in": target.contact_ids})
            count += _redact_whole(own, holding)
            rows = rows.exclude(**{f"{holding.contact_field}__in": target.contact_ids})
        count += _scrub_rows(rows, holding, target.terms)
    return count


def _redact_whole(rows: Any, holding: Any) -> int:
    ids = list(rows.values_list("pk", flat=True))
    for field in holding.text:
        rows.model.objects.filter(pk__in=ids).exclude(**{field: ""}).update(**{field: REDACTED})
    for field in holding.json:
        rows.model.objects.filter(pk__in=ids).update(**{field: redaction.ERASED_DETAILS})
    return len(ids)


def _scrub_rows(rows: Any, holding: Any, terms: tuple[str, ...]) -> int:
    count = 0
    fields = [*holding.text, *holding.json]
    for row in rows.only("pk", *fields):
        values = {f: redaction.scrub(getattr(row, f), terms) for f in fields}
        if any(values[f] != getattr(row, f) for f in fields):
            rows.model.objects.filter(pk=row.pk).update(**values)
            count += 1
    return count


def _empty_merges(customer_id: int) -> int:
    """A merge snapshot holds both customers whole: emptied, and the merge no longer undoable."""
    merges = MergeRecord.objects.filter(survivor_id=customer_id) | \
        MergeRecord.objects.filter(duplicate_id=customer_id)
    count = 0
    for merge in merges:
        merge.survivor_before, merge.duplicate_before = {}, {}
        merge.removed, merge.parked, merge.choices = [], {}, {}
        merge.duplicate_name, merge.duplicate = REDACTED, None
        merge.save(update_fields=["survivor_before", "duplicate_before", "removed", "parked",
                                  "choices", "duplicate_name", "duplicate"])
        count += 1
    return count


def _scrub_notifications(target: Target) -> int:
    count = 0
    for note in redaction.matching(Notification.objects.all(), ["title", "body"], target.terms):
        Notification.objects.filter(pk=note.pk).update(
            title=redaction.scrub(note.title, target.terms),
            body=redaction.scrub(note.body, target.terms))
        count += 1
    return count


def _scrub_jobs(terms: tuple[str, ...]) -> int:
    fields = ["title", "params", "result", "error", "state"]
    count = 0
    for job in redaction.matching(Job.objects.all(), fields, terms):
        Job.objects.filter(pk=job.pk).update(
            **{f: redaction.scrub(getattr(job, f), terms) for f in fields})
        count += 1
    return count


def _erased_change_rows(target: Target) -> list[int]:
    """The change-log rows erased whole: every row on the customer (and its contacts) when
    the whole customer goes; else the contact's own rows — the customer's other rows keep
    their values, scrubbed of the contact's (`redact_changes`)."""
    rows = set(ChangeLog.objects.filter(model="customers.contact",
                                        object_id__in=target.contact_ids)
               .values_list("pk", flat=True))
    if target.whole:
        rows.update(ChangeLog.objects.filter(customer_id=target.customer_id)
                    .values_list("pk", flat=True))
    return sorted(rows)
