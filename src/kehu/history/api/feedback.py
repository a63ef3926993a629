"""Needs (需求), satisfaction surveys and tickets (complaints, suggestions, inquiries)."""

from __future__ import annotations

from ninja import Router

from kehu.history import services
from kehu.history.api import schemas as s
from kehu.history.api.records import CUSTOMER, STATUS, Filter, RecordKind
from kehu.history.api.records import register as register_kind
from kehu.history.models import Need, Survey, Ticket

NEED = RecordKind(
    kind="need", plural="needs", model=Need, schema_in=s.NeedIn, schema_out=s.NeedOut,
    page=s.NeedPage, create=services.need_create, update=services.need_update,
    delete=services.need_delete, filters=(CUSTOMER, STATUS),
)
SURVEY = RecordKind(
    kind="survey", plural="surveys", model=Survey, schema_in=s.SurveyIn, schema_out=s.SurveyOut,
    page=s.SurveyPage, create=services.survey_record, delete=services.survey_delete,
    filters=(CUSTOMER,), create_doc="One answer: CSAT 1–5 or NPS 0–10.",
)
TICKET = RecordKind(
    kind="ticket", plural="tickets", model=Ticket, schema_in=s.TicketIn, schema_out=s.TicketOut,
    page=s.TicketPage, create=services.ticket_create, update=services.ticket_update,
    delete=services.ticket_delete,
    filters=(CUSTOMER, STATUS, Filter("kind", str | None, "kind", "complaint, suggestion or inquiry")),
)


def register(router: Router) -> None:
    for spec in (NEED, SURVEY, TICKET):
        register_kind(router, spec)
