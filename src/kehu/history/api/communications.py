"""Communications (跟进记录) and their attachments."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import File, Router
from ninja.files import UploadedFile

from kehu.api.responses import json_response
from kehu.api.schemas import WRITE_ERRORS
from kehu.history import services
from kehu.history.api import schemas as s
from kehu.history.api import serializers
from kehu.history.api.records import API, CUSTOMER, RecordKind
from kehu.history.api.records import register as register_kind
from kehu.history.models import Communication

COMMUNICATION = RecordKind(
    kind="communication", plural="communications", model=Communication,
    schema_in=s.CommunicationIn, schema_out=s.CommunicationOut, page=s.CommunicationPage,
    create=services.communication_log, update=services.communication_update,
    delete=services.communication_delete, filters=(CUSTOMER,),
    create_doc="Log a touch point. Defaults: now, the primary contact, your last channel.",
)


def register(router: Router) -> None:
    register_kind(router, COMMUNICATION)
    router.post("/communications/{int:communication_id}/attachments",
                response={201: s.AttachmentOut, **WRITE_ERRORS})(attachment_add)


def attachment_add(
    request: HttpRequest, communication_id: int, file: File[UploadedFile]
) -> HttpResponse:
    """Upload one file (multipart/form-data, field `file`); size, type and content are checked."""
    attachment = services.attachment_add(actor=request.auth, origin=API,
                                         communication=Communication(pk=communication_id),
                                         upload=file)
    return json_response(serializers.attachment_dict(attachment), status=201)
