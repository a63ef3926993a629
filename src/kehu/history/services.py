"""Every write to a customer's history goes through here.

Services take a required keyword `actor`, validate with `cleaning`, write in one
transaction, log the change with the customer's id, and raise ValidationError,
Http404, PermissionDenied or VersionConflict. Orders and products live in
`history.orders`, pipelines and opportunities in `history.opportunities`; they are
re-exported here so callers import one module.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.selectors import user_get_active
from kehu.core import uploads
from kehu.core.errors import ValidationError
from kehu.core.records import log_change, record_create, record_delete, record_update
from kehu.customers import selectors as customer_selectors
from kehu.customers.scoping import CHANGE, customer_for
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
from kehu.history.selectors import communication_defaults

if TYPE_CHECKING:
    from kehu.customers.models import Customer

# --- communications (跟进记录) ---------------------------------------------


@transaction.atomic
def communication_log(
    *, actor: User, customer: Customer | int, data: dict[str, Any], origin: str,
    attachments: Sequence[UploadedFile] = (),
) -> Communication:
    """Log a touch point with its files, all or nothing (the web's quick log, the API).

    Defaults: now, the primary contact, the actor's last channel. Every field and every
    file (size, type, content) is checked before anything is written, and all their
    errors are reported at once; the files reach the disk only when the transaction
    commits (see `_attach`).
    """
    customer = customer_for(actor, customer, CHANGE, lock=True)
    errors: dict[str, list] = {}
    try:
        values = _communication_values(customer, cleaning.clean_communication(data))
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    checked, problems = [], []
    for upload in attachments:
        problem = _upload_problem(upload)
        if problem:
            problems.append(problem)
        else:
            checked.append(upload)
    if problems:
        errors.setdefault("attachments", []).extend(ValidationError(p) for p in problems)
    if errors:
        raise ValidationError(errors)
    values = {**communication_defaults(viewer=actor, customer_id=customer.pk), **values}
    communication = Communication(customer=customer, **values)
    communication = record_create(actor=actor, instance=communication, origin=origin,
                                  summary={"channel": communication.channel,
                                           "subject": communication.subject})
    for upload in checked:
        _attach(actor=actor, communication=communication, upload=upload, origin=origin)
    return communication


@transaction.atomic
def communication_update(
    *, actor: User, communication: Communication, data: dict[str, Any],
    origin: str, expected_version: int | None = None,
) -> Communication:
    def clean(current: Communication) -> dict[str, Any]:
        values = _communication_values(current.customer, cleaning.clean_communication(data))
        if values.get("occurred_at", True) is None:
            raise ValidationError({"occurred_at": [_("必填")]})
        if values.get("channel") == "":
            raise ValidationError({"channel": [_("必填")]})
        return values

    current = Communication.objects.get_for(actor, communication, CHANGE, lock=True)
    return record_update(actor=actor, instance=current, values=clean, origin=origin,
                         expected_version=expected_version)


@transaction.atomic
def communication_delete(
    *, actor: User, communication: Communication, origin: str, expected_version: int | None = None
) -> None:
    communication = Communication.objects.get_for(actor, communication, CHANGE, lock=True)
    files = list(Attachment.objects.filter(communication_id=communication.pk)
                 .values_list("file", flat=True))
    record_delete(actor=actor, instance=communication, origin=origin,
                  expected_version=expected_version)
    transaction.on_commit(lambda: _remove_files(files))


def _communication_values(customer: Customer, values: dict[str, Any]) -> dict[str, Any]:
    if "contact" in values:
        values["contact_id"] = _contact_of(customer, values.pop("contact"), "contact")
    return values


def _contact_of(customer: Customer, contact_id: int | None, field: str) -> int | None:
    """A contact id, checked to belong to `customer` (a contact of another customer is an error)."""
    if contact_id is None:
        return None
    if not customer_selectors.contact_belongs_to(contact_id, customer.pk):
        raise ValidationError({field: [_("该联系人不属于这个客户")]})
    return contact_id


# --- attachments --------------------------------------------------------------


@transaction.atomic
def attachment_add(
    *, actor: User, communication: Communication, upload: UploadedFile, origin: str
) -> Attachment:
    """Attach one file to a logged call (the API's upload), checked like the quick log's."""
    communication = Communication.objects.get_for(actor, communication, CHANGE, lock=True)
    problem = _upload_problem(upload)
    if problem:
        raise ValidationError({"file": [problem]})
    return _attach(actor=actor, communication=communication, upload=upload, origin=origin)


def _attach(*, actor: User, communication: Communication, upload: UploadedFile,
            origin: str) -> Attachment:
    """The row now, the file when the transaction commits — whoever's transaction it is.

    Writing the file at commit (not before) means a rollback anywhere, in this service or
    in a caller's transaction around it, leaves nothing on disk: Django drops the
    callbacks of a rolled-back transaction or savepoint. The name is chosen here (a random
    one; the original name is kept in the row) so the row and the file agree. Should the
    write fail after the commit, the row goes too rather than point at nothing.
    """
    name = Path(upload.name or "").name
    attachment = Attachment(communication=communication, original_name=name[:255],
                            content_type=_content_type(name), size=upload.size,
                            uploaded_by=actor)
    attachment.file = Attachment.file.field.generate_filename(
        attachment, uuid.uuid4().hex + Path(name).suffix.lower())
    attachment.save()
    log_change(actor=actor, action="attach", instance=communication, origin=origin,
               changes={"file": attachment.original_name, "size": attachment.size})
    stored_name, storage, pk = attachment.file.name, attachment.file.storage, attachment.pk

    def store() -> None:
        try:
            saved = storage.save(stored_name, upload)
        except Exception:
            Attachment.objects.filter(pk=pk).delete()
            raise
        if saved != stored_name:  # the storage picked another name: follow it
            Attachment.objects.filter(pk=pk).update(file=saved)

    transaction.on_commit(store)
    return attachment


@transaction.atomic
def attachment_delete(*, actor: User, attachment: Attachment, origin: str) -> None:
    attachment = Attachment.objects.select_related("communication").get(pk=attachment.pk)
    communication = Communication.objects.get_for(actor, attachment.communication_id, CHANGE, lock=True)
    log_change(actor=actor, action="detach", instance=communication, origin=origin,
               changes={"file": attachment.original_name})
    name = attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: _remove_files([name]))


def attachment_limits() -> tuple[int, list[str]]:
    """(max bytes, allowed extensions) from KEHU_ATTACHMENT_MAX_BYTES / KEHU_ATTACHMENT_TYPES."""
    max_bytes = uploads.attachment_max_bytes()
    types = getattr(settings, "KEHU_ATTACHMENT_TYPES", ["pdf", "png", "jpg", "jpeg", "txt"])
    return max_bytes, [t.lower().lstrip(".") for t in types]


def _upload_problem(upload: UploadedFile) -> str | None:
    """What is wrong with a file (naming it), or None: its size, its extension, its content.

    Over HTTP an oversized file never gets here: the upload handler stops it while it
    streams in (kehu.core.uploads); this check serves every other caller.
    """
    max_bytes, types = attachment_limits()
    name = Path(upload.name or "").name
    if upload.size > max_bytes:
        return _("文件“%(name)s”大小为 %(size)s，超过上限 %(limit)s") % {
            "name": name, "size": human_size(upload.size), "limit": human_size(max_bytes)}
    extension = Path(name).suffix.lower().lstrip(".")
    if extension not in types:
        return _("文件“%(name)s”的类型不允许（允许：%(types)s）") % {
            "name": name, "types": "、".join(types)}
    return uploads.content_problem(name, extension, upload)


def _content_type(name: str) -> str:
    # From the extension, which the content was just checked against (not the client's word).
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


human_size = uploads.human_size


def _remove_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name and default_storage.exists(name):
            default_storage.delete(name)


# --- preferences and needs (需求及偏好) --------------------------------------


@transaction.atomic
def preference_save(
    *, actor: User, customer: Customer | int, data: dict[str, Any],
    origin: str, expected_version: int | None = None,
) -> Preference:
    """Create or change the customer's one preference row."""
    customer = customer_for(actor, customer, CHANGE, lock=True)
    values = cleaning.clean_preference(data)
    interests = values.pop("interests", None)
    if "decision_maker" in values:
        values["decision_maker_id"] = _contact_of(customer, values.pop("decision_maker"),
                                                  "decision_maker")
    preference = Preference.objects.filter(customer=customer).first()
    if preference is None:
        preference = record_create(actor=actor, instance=Preference(customer=customer, **values),
                                   origin=origin)
        _set_interests(preference, interests)
        return preference
    preference = Preference.objects.select_for_update().get(pk=preference.pk)
    return record_update(actor=actor, instance=preference, values=values, origin=origin,
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
                origin: str) -> Need:
    customer = customer_for(actor, customer, CHANGE, lock=True)
    need = Need(customer=customer, **cleaning.clean_need(data, partial=False))
    return record_create(actor=actor, instance=need, origin=origin,
                         summary={"content": need.content[:100]})


@transaction.atomic
def need_update(*, actor: User, need: Need, data: dict[str, Any], origin: str,
                expected_version: int | None = None) -> Need:
    values = cleaning.clean_need(data, partial=True)
    if values.get("content", "x") == "":
        raise ValidationError({"content": [_("必填")]})
    current = Need.objects.get_for(actor, need, CHANGE, lock=True)
    return record_update(actor=actor, instance=current, values=values, origin=origin,
                         expected_version=expected_version)


@transaction.atomic
def need_delete(
    *, actor: User, need: Need, origin: str, expected_version: int | None = None
) -> None:
    current = Need.objects.get_for(actor, need, CHANGE, lock=True)
    record_delete(actor=actor, instance=current, origin=origin, expected_version=expected_version)


# --- satisfaction and feedback (满意度 / 反馈) --------------------------------


@transaction.atomic
def survey_record(*, actor: User, customer: Customer | int, data: dict[str, Any],
                  origin: str) -> Survey:
    """Record one survey answer; CSAT 1–5 and NPS 0–10 are checked against the kind."""
    customer = customer_for(actor, customer, CHANGE, lock=True)
    values = cleaning.clean_survey(data)
    if "contact" in values:
        values["contact_id"] = _contact_of(customer, values.pop("contact"), "contact")
    survey = Survey(customer=customer, **values)
    return record_create(actor=actor, instance=survey, origin=origin,
                         summary={"kind": survey.kind, "score": survey.score})


@transaction.atomic
def survey_delete(
    *, actor: User, survey: Survey, origin: str, expected_version: int | None = None
) -> None:
    current = Survey.objects.get_for(actor, survey, CHANGE, lock=True)
    record_delete(actor=actor, instance=current, origin=origin, expected_version=expected_version)


@transaction.atomic
def ticket_create(*, actor: User, customer: Customer | int, data: dict[str, Any],
                  origin: str) -> Ticket:
    customer = customer_for(actor, customer, CHANGE, lock=True)
    values = _ticket_values(cleaning.clean_ticket(data, partial=False))
    values["opened_at"] = values.get("opened_at") or timezone.now()
    ticket = Ticket(customer=customer, **values)
    _stamp_resolution(ticket, was_done=False)
    return record_create(actor=actor, instance=ticket, origin=origin,
                         summary={"kind": ticket.kind, "subject": ticket.subject})


@transaction.atomic
def ticket_update(*, actor: User, ticket: Ticket, data: dict[str, Any], origin: str,
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

    current = Ticket.objects.get_for(actor, ticket, CHANGE, lock=True)
    return record_update(actor=actor, instance=current, values=clean, origin=origin,
                         expected_version=expected_version)


@transaction.atomic
def ticket_delete(
    *, actor: User, ticket: Ticket, origin: str, expected_version: int | None = None
) -> None:
    current = Ticket.objects.get_for(actor, ticket, CHANGE, lock=True)
    record_delete(actor=actor, instance=current, origin=origin, expected_version=expected_version)


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
