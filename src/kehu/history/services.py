"""Every write to a customer's history goes through here.

Services take a required keyword `actor`, validate with `cleaning`, write in one
transaction, log the change with the customer's id, and raise ValidationError,
Http404, PermissionDenied or VersionConflict. Orders and products live in
`history.orders`, pipelines and opportunities in `history.opportunities`; they are
re-exported here so callers import one module.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.selectors import user_get_active
from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.core.services import log_change
from kehu.customers.models import Contact, Customer
from kehu.history import cleaning
from kehu.history.choices import TicketStatus
from kehu.history.models import (
    Attachment,
    Communication,
    Need,
    Preference,
    ProductCategory,
    Survey,
    Ticket,
)
from kehu.history.opportunities import (  # noqa: F401 -- re-exported
    opportunity_close,
    opportunity_create,
    opportunity_delete,
    opportunity_move,
    opportunity_update,
    pipeline_save,
    stage_save,
)
from kehu.history.orders import (  # noqa: F401 -- re-exported
    order_create,
    order_delete,
    order_update,
    orders_ingest,
    product_save,
)
from kehu.history.records import (
    customer_writable,
    record_create,
    record_delete,
    record_for_change,
    record_update,
)
from kehu.history.selectors import last_channel

DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

# --- communications (跟进记录) ---------------------------------------------


@transaction.atomic
def communication_log(
    *, actor: User, customer: Customer | int, data: dict[str, Any], origin: str = Origin.MANUAL
) -> Communication:
    """Log a touch point. Defaults: now, the primary contact, the actor's last channel."""
    customer = customer_writable(actor, customer)
    values = _communication_values(customer, cleaning.clean_communication(data))
    values.setdefault("occurred_at", timezone.now())
    values.setdefault("channel", last_channel(viewer=actor))
    if "contact_id" not in values:
        values["contact_id"] = _primary_contact_id(customer.pk)
    communication = Communication(customer=customer, **values)
    return record_create(actor=actor, instance=communication, origin=origin,
                         summary={"channel": communication.channel,
                                  "subject": communication.subject})


@transaction.atomic
def communication_update(
    *, actor: User, communication: Communication, data: dict[str, Any],
    expected_version: int | None = None,
) -> Communication:
    def clean(current: Communication) -> dict[str, Any]:
        values = _communication_values(current.customer, cleaning.clean_communication(data))
        if values.get("occurred_at", True) is None:
            raise ValidationError({"occurred_at": [_("必填")]})
        if values.get("channel") == "":
            raise ValidationError({"channel": [_("必填")]})
        return values

    return record_update(actor=actor, instance=communication, clean=clean,
                         expected_version=expected_version)


@transaction.atomic
def communication_delete(
    *, actor: User, communication: Communication, expected_version: int | None = None
) -> None:
    files = list(Attachment.objects.filter(communication_id=communication.pk)
                 .values_list("file", flat=True))
    record_delete(actor=actor, instance=communication, expected_version=expected_version)
    transaction.on_commit(lambda: _remove_files(files))


def _primary_contact_id(customer_id: int) -> int | None:
    return (Contact.objects.filter(customer_id=customer_id, is_primary=True)
            .values_list("pk", flat=True).first())


def _communication_values(customer: Customer, values: dict[str, Any]) -> dict[str, Any]:
    if "contact" in values:
        values["contact_id"] = _contact_of(customer, values.pop("contact"), "contact")
    return values


def _contact_of(customer: Customer, contact_id: int | None, field: str) -> int | None:
    """A contact id, checked to belong to `customer` (a contact of another customer is an error)."""
    if contact_id is None:
        return None
    if not Contact.objects.filter(pk=contact_id, customer_id=customer.pk).exists():
        raise ValidationError({field: [_("该联系人不属于这个客户")]})
    return contact_id


# --- attachments --------------------------------------------------------------


@transaction.atomic
def attachment_add(*, actor: User, communication: Communication, upload: UploadedFile) -> Attachment:
    """Store an uploaded file under the data directory, after checking its size and type."""
    communication = record_for_change(actor, Communication, communication.pk)
    content_type = _check_upload(upload)
    attachment = Attachment(communication=communication, original_name=upload.name[:255],
                            content_type=content_type, size=upload.size, uploaded_by=actor)
    attachment.file.save(Path(upload.name).name, upload, save=False)
    try:
        attachment.save()
        log_change(actor=actor, action="attach", instance=communication,
                   customer_id=communication.customer_id,
                   changes={"file": attachment.original_name, "size": attachment.size})
    except Exception:
        attachment.file.delete(save=False)  # no orphan file when the row is not written
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, actor: User, attachment: Attachment) -> None:
    attachment = Attachment.objects.select_related("communication").get(pk=attachment.pk)
    communication = record_for_change(actor, Communication, attachment.communication_id)
    log_change(actor=actor, action="detach", instance=communication,
               customer_id=communication.customer_id, changes={"file": attachment.original_name})
    name = attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: _remove_files([name]))


def attachment_limits() -> tuple[int, list[str]]:
    """(max bytes, allowed extensions) from KEHU_ATTACHMENT_MAX_BYTES / KEHU_ATTACHMENT_TYPES."""
    max_bytes = getattr(settings, "KEHU_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES)
    types = getattr(settings, "KEHU_ATTACHMENT_TYPES", ["pdf", "png", "jpg", "jpeg", "txt"])
    return max_bytes, [t.lower().lstrip(".") for t in types]


def _check_upload(upload: UploadedFile) -> str:
    max_bytes, types = attachment_limits()
    name = upload.name or ""
    if upload.size > max_bytes:
        raise ValidationError({"file": [_("文件“%(name)s”大小为 %(size)s，超过上限 %(limit)s") % {
            "name": name, "size": human_size(upload.size), "limit": human_size(max_bytes)}]})
    extension = Path(name).suffix.lower().lstrip(".")
    if extension not in types:
        raise ValidationError({"file": [_("文件“%(name)s”的类型不允许（允许：%(types)s）") % {
            "name": name, "types": "、".join(types)}]})
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _remove_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name and default_storage.exists(name):
            default_storage.delete(name)


# --- preferences and needs (需求及偏好) --------------------------------------


@transaction.atomic
def preference_save(
    *, actor: User, customer: Customer | int, data: dict[str, Any],
    expected_version: int | None = None,
) -> Preference:
    """Create or change the customer's one preference row."""
    customer = customer_writable(actor, customer)
    values = cleaning.clean_preference(data)
    interests = values.pop("interests", None)
    if "decision_maker" in values:
        values["decision_maker_id"] = _contact_of(customer, values.pop("decision_maker"),
                                                  "decision_maker")
    preference = Preference.objects.filter(customer=customer).first()
    if preference is None:
        preference = record_create(actor=actor, instance=Preference(customer=customer, **values))
        _set_interests(preference, interests)
        return preference
    return record_update(actor=actor, instance=preference, clean=lambda current: values,
                         expected_version=expected_version,
                         after_save=lambda current: _set_interests(current, interests))


def _set_interests(preference: Preference, names: list[str] | None) -> dict[str, Any]:
    if names is None:
        return {}
    before = sorted(preference.interests.values_list("name", flat=True))
    categories = [ProductCategory.objects.get_or_create(name=name)[0] for name in names]
    preference.interests.set(categories)
    after = sorted(c.name for c in categories)
    return {"interests": [before, after]} if before != after else {}


@transaction.atomic
def need_create(*, actor: User, customer: Customer | int, data: dict[str, Any],
                origin: str = Origin.MANUAL) -> Need:
    customer = customer_writable(actor, customer)
    need = Need(customer=customer, **cleaning.clean_need(data, partial=False))
    return record_create(actor=actor, instance=need, origin=origin,
                         summary={"content": need.content[:100]})


@transaction.atomic
def need_update(*, actor: User, need: Need, data: dict[str, Any],
                expected_version: int | None = None) -> Need:
    values = cleaning.clean_need(data, partial=True)
    if values.get("content", "x") == "":
        raise ValidationError({"content": [_("必填")]})
    return record_update(actor=actor, instance=need, clean=lambda current: values,
                         expected_version=expected_version)


@transaction.atomic
def need_delete(*, actor: User, need: Need, expected_version: int | None = None) -> None:
    record_delete(actor=actor, instance=need, expected_version=expected_version)


# --- satisfaction and feedback (满意度 / 反馈) --------------------------------


@transaction.atomic
def survey_record(*, actor: User, customer: Customer | int, data: dict[str, Any],
                  origin: str = Origin.MANUAL) -> Survey:
    """Record one survey answer; CSAT 1–5 and NPS 0–10 are checked against the kind."""
    customer = customer_writable(actor, customer)
    values = cleaning.clean_survey(data)
    if "contact" in values:
        values["contact_id"] = _contact_of(customer, values.pop("contact"), "contact")
    survey = Survey(customer=customer, **values)
    return record_create(actor=actor, instance=survey, origin=origin,
                         summary={"kind": survey.kind, "score": survey.score})


@transaction.atomic
def survey_delete(*, actor: User, survey: Survey, expected_version: int | None = None) -> None:
    record_delete(actor=actor, instance=survey, expected_version=expected_version)


@transaction.atomic
def ticket_create(*, actor: User, customer: Customer | int, data: dict[str, Any],
                  origin: str = Origin.MANUAL) -> Ticket:
    customer = customer_writable(actor, customer)
    values = _ticket_values(cleaning.clean_ticket(data, partial=False))
    values["opened_at"] = values.get("opened_at") or timezone.now()
    ticket = Ticket(customer=customer, **values)
    _stamp_resolution(ticket, was_done=False)
    return record_create(actor=actor, instance=ticket, origin=origin,
                         summary={"kind": ticket.kind, "subject": ticket.subject})


@transaction.atomic
def ticket_update(*, actor: User, ticket: Ticket, data: dict[str, Any],
                  expected_version: int | None = None) -> Ticket:
    """Change a ticket; resolving or closing stamps resolved_at, reopening clears it."""
    values = _ticket_values(cleaning.clean_ticket(data, partial=True))
    for field in ("subject", "opened_at"):
        if field in values and not values[field]:
            raise ValidationError({field: [_("必填")]})

    def clean(current: Ticket) -> dict[str, Any]:
        was_done = current.status in DONE_STATUSES
        status = values.get("status", current.status)
        if status in DONE_STATUSES and not was_done:
            values["resolved_at"] = timezone.now()
        elif status not in DONE_STATUSES and was_done:
            values["resolved_at"] = None
        return values

    return record_update(actor=actor, instance=ticket, clean=clean,
                         expected_version=expected_version)


@transaction.atomic
def ticket_delete(*, actor: User, ticket: Ticket, expected_version: int | None = None) -> None:
    record_delete(actor=actor, instance=ticket, expected_version=expected_version)


DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def _stamp_resolution(ticket: Ticket, *, was_done: bool) -> None:
    if ticket.status in DONE_STATUSES and not was_done:
        ticket.resolved_at = timezone.now()


def _ticket_values(values: dict[str, Any]) -> dict[str, Any]:
    if "handler" in values:
        handler_id = values.pop("handler")
        if handler_id is not None and user_get_active(handler_id) is None:
            raise ValidationError({"handler": [_("处理人不存在")]})
        values["handler_id"] = handler_id
    return values
