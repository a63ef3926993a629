"""Web pages of the customer's history: the card panel, quick logging, the kanban.

Thin by rule: parse the request, call a selector or a service, render. Scope
comes from the selectors and services (out of scope = 404, read-only = 403);
service errors are translated by `kehu.core.views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from kehu.accounts import selectors as account_selectors
from kehu.accounts.policy import access_for
from kehu.core.errors import Http404, ValidationError, VersionConflict
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.versions import parse_version
from kehu.core.views import (
    attach_errors,
    conflict_message,
    error_messages,
    is_partial,
    redirect,
    render_page,
    safe_next,
    web_view,
)
from kehu.customers import selectors as customer_selectors
from kehu.customers.scoping import CHANGE
from kehu.history import selectors, services, timeline
from kehu.history.choices import OpportunityStatus, OrderStatus, TicketStatus
from kehu.history.forms import (
    CommunicationForm,
    NeedForm,
    OpportunityForm,
    OrderForm,
    SurveyForm,
    TicketForm,
    communication_form,
)

WEB = Origin.MANUAL  # provenance of every write made through these pages
TIMELINE_PAGE = 20
LIST_PAGE = 50



# --- the card panel and its timeline ----------------------------------------


def history_panel_context(request: HttpRequest, customer: Any, *, page: Any = None,
                          selected: list[str] | None = None) -> dict[str, Any]:
    """What the "客户历史" panel on the customer card needs (see apps.ready); `page`, when
    the caller has read it already (the page of its own, filtered or deeper)."""
    viewer = request.user
    return {
        "history": {
            "summary": selectors.customer_summary(viewer=viewer, customer_id=customer.pk),
            "page": page if page is not None else _timeline(request, customer, kinds=None,
                                                            cursor=None),
            "can_write": access_for(viewer).can_write,
            "kinds": timeline.LABELS,
            "selected": selected or [],
            "log_form": _log_form(request, customer),
            "customer": customer,
        }
    }


@web_view
def customer_history(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The timeline on a page of its own; HTMX asks it for one more page or a filter."""
    customer = customer_selectors.customer_get(viewer=request.user, pk=customer_id)
    kinds = [k for k in request.GET.getlist("kind") if k in timeline.SOURCES]
    page = _timeline(request, customer, kinds=kinds, cursor=request.GET.get("cursor") or None)
    if is_partial(request):
        return render(request, "history/partials/timeline_items.html",
                      {"history": {"page": page, "selected": kinds, "customer": customer}})
    # The page read once: reading it again for the panel's context was half of this view
    # (61.7 ms for a customer with 5,000 entries at 1,000,000 customers, SQLite, quiet).
    context = history_panel_context(request, customer, page=page, selected=kinds)
    return render(request, "history/customer_history.html", {"customer": customer, **context})


def _timeline(request: HttpRequest, customer: Any, *, kinds: list[str] | None,
              cursor: str | None) -> Any:
    return selectors.timeline(viewer=request.user, customer_id=customer.pk, kinds=kinds or None,
                              cursor=cursor, limit=TIMELINE_PAGE)


@web_view
@require_POST
def communication_log(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The quick log form: the new entry lands at the top of the timeline."""
    customer = customer_selectors.customer_get(viewer=request.user, pk=customer_id)
    form = communication_form(viewer=request.user, customer_id=customer.pk, data=request.POST)
    entry = None
    if form.is_valid():
        try:
            # One service writes the call and its files, all or nothing.
            communication = services.communication_log(
                actor=request.user, customer=customer, data=form.data_for_service(),
                attachments=request.FILES.getlist("attachments"), origin=WEB)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            entry = selectors.TimelineEntry(kind="communication", at=communication.occurred_at,
                                            obj=communication)
    if entry is None:
        return _log_form_invalid(request, customer, form)
    if not is_partial(request):
        return redirect(safe_next(request, _card_url(customer)))
    return render(request, "history/partials/logged.html", {
        "entry": entry, "customer": customer,
        "history": {"log_form": _log_form(request, customer), "customer": customer,
                    "summary": selectors.customer_summary(viewer=request.user,
                                                          customer_id=customer.pk)},
    })


def _log_form_invalid(request: HttpRequest, customer: Any, form: CommunicationForm) -> HttpResponse:
    context = {"history": {"log_form": form, "customer": customer}}
    if not is_partial(request):
        return render(request, "history/log_page.html", {"customer": customer, **context},
                      status=400)
    response = render(request, "history/partials/log_form.html", context)
    return reswap(retarget(response, "#history-log-form"), "outerHTML")


def _log_form(request: HttpRequest, customer: Any) -> CommunicationForm:
    return communication_form(viewer=request.user, customer_id=customer.pk)


def _card_url(customer: Any) -> str:
    return reverse("customers:detail", args=[customer.pk]) + "#history"


# --- adding orders, needs, surveys, tickets, opportunities from the card ------


@dataclass(frozen=True)
class RecordKind:
    title: Any
    form: type
    create: Any  # the service: create(actor=, customer=, data=, ...)


RECORD_KINDS = {
    "order": RecordKind(gettext_lazy("新增订单"), OrderForm, services.order_create),
    "need": RecordKind(gettext_lazy("记录需求"), NeedForm, services.need_create),
    "survey": RecordKind(gettext_lazy("记录满意度"), SurveyForm, services.survey_record),
    "ticket": RecordKind(gettext_lazy("新建工单"), TicketForm, services.ticket_create),
    "opportunity": RecordKind(gettext_lazy("新建商机"), OpportunityForm,
                              services.opportunity_create),
}


@web_view
def record_add(request: HttpRequest, customer_id: int, kind: str) -> HttpResponse:
    """One small form per record kind; on success back to the card's history."""
    spec = RECORD_KINDS.get(kind)
    # The form is for writers: a read-only viewer gets 403 before typing anything.
    customer = customer_selectors.customer_get(viewer=request.user, pk=customer_id, action=CHANGE)
    if spec is None:
        raise _not_found()
    form = spec.form(request.POST or None, **_form_choices(request, kind))
    if request.method == "POST" and form.is_valid():
        try:
            spec.create(actor=request.user, customer=customer, data=form.data_for_service(),
                        origin=WEB)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return redirect(safe_next(request, _card_url(customer)))
    status = 400 if form.is_bound else 200
    context = {"customer": customer, "form": form, "title": spec.title, "kind": kind,
               "action": request.path}
    return render_page(request, "history/record_form.html", "history/partials/record_form.html",
                       context, status=status)


def _form_choices(request: HttpRequest, kind: str) -> dict[str, Any]:
    if kind == "order":
        return {"products": selectors.product_choices(viewer=request.user)}
    if kind == "opportunity":
        return {"stages": selectors.open_stages(viewer=request.user)}
    return {}


def _not_found() -> Exception:
    return Http404()


# --- opportunities: the kanban and the list --------------------------------


@web_view
def board(request: HttpRequest, pipeline_id: int | None = None) -> HttpResponse:
    """The kanban of one pipeline (the default one when none is named), of one owner's deals
    when `owner` is given."""
    pipelines = list(selectors.pipeline_list(viewer=request.user))
    pipeline = _pick_pipeline(pipelines, pipeline_id)
    owner = _owner(request)
    context = {"pipelines": pipelines, "pipeline": pipeline, "owner": owner,
               "owners": account_selectors.users_in_scope(request.user).order_by("username"),
               **_board_context(request, pipeline, owner)}
    return render_page(request, "history/board.html", "history/partials/board_columns.html",
                       context)


def _board_context(request: HttpRequest, pipeline: Any, owner: int | None) -> dict[str, Any]:
    if pipeline is None:
        return {"board": None, "stages": []}
    columns = selectors.opportunity_board(viewer=request.user, pipeline=pipeline, owner_id=owner)
    return {"board": columns, "stages": [c.stage for c in columns], "owner": owner}


def _owner(request: HttpRequest) -> int | None:
    """The owner filter: a person's id, or None for everyone (a malformed one is a 422)."""
    raw = request.GET.get("owner") or ""
    return parse_id(raw, field="owner") if raw else None


@web_view
def board_cards(request: HttpRequest, stage_id: int) -> HttpResponse:
    """The next page of one column's cards ("加载更多", on a click or when scrolled into view)."""
    stage = selectors.stage_get(viewer=request.user, pk=stage_id)
    owner = _owner(request)
    page = selectors.board_cards(viewer=request.user, stage=stage, owner_id=owner,
                                 cursor=request.GET.get("cursor") or None)
    context = {"page": page, "stage": stage, "owner": owner,
               "stages": selectors.stages_of(viewer=request.user, pipeline=stage.pipeline_id)}
    return render(request, "history/partials/board_cards.html", context)


def _pick_pipeline(pipelines: list, pipeline_id: int | None) -> Any:
    if pipeline_id is not None:
        found = next((p for p in pipelines if p.pk == pipeline_id), None)
        if found is None:
            raise _not_found()
        return found
    default = selectors.default_pipeline()
    return next((p for p in pipelines if default and p.pk == default.pk), None)


@web_view
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card dropped on another column (or moved with the select on a phone)."""
    opportunity = selectors.opportunity_get(viewer=request.user, pk=pk)
    message, status = "", 200
    try:
        services.opportunity_move(
            actor=request.user, origin=WEB, opportunity=opportunity,
            stage=parse_id(request.POST.get("stage"), field="stage"),
            expected_version=parse_version(request.POST.get("version")),  # never skipped
        )
    except VersionConflict:
        message, status = conflict_message(), 409
    except ValidationError as exc:
        message, status = " ".join(error_messages(exc)), 400
    if not is_partial(request):
        if message:
            messages.error(request, message)
        return redirect(reverse("history:board_pipeline", args=[opportunity.pipeline_id]))
    context = {"pipeline": opportunity.pipeline, "message": message,
               **_board_context(request, opportunity.pipeline, _owner(request))}
    return render(request, "history/partials/board_columns.html", context, status=status)


@web_view
def opportunity_list(request: HttpRequest) -> HttpResponse:
    page = selectors.opportunity_list(viewer=request.user, status=request.GET.get("status") or None,
                                      cursor=request.GET.get("cursor") or None, limit=LIST_PAGE)
    return _list_page(request, "opportunities", page, _("商机列表"), OpportunityStatus.choices)


@web_view
def order_list(request: HttpRequest) -> HttpResponse:
    page = selectors.order_list(viewer=request.user, status=request.GET.get("status") or None,
                                cursor=request.GET.get("cursor") or None, limit=LIST_PAGE)
    return _list_page(request, "orders", page, _("订单"), OrderStatus.choices)


@web_view
def ticket_list(request: HttpRequest) -> HttpResponse:
    page = selectors.ticket_list(viewer=request.user, status=request.GET.get("status") or None,
                                 cursor=request.GET.get("cursor") or None, limit=LIST_PAGE)
    return _list_page(request, "tickets", page, _("工单"), TicketStatus.choices)


def _list_page(
    request: HttpRequest, name: str, page: Any, title: str, statuses: list
) -> HttpResponse:
    rows = f"history/partials/{name}_rows.html"
    context = {"page": page, "title": title, "status": request.GET.get("status", ""),
               "statuses": statuses, "rows_template": rows,
               "show_board_link": name == "opportunities",
               "exportable": name == "orders"}  # the export button (transfer's template tag)
    return render_page(request, "history/list_page.html", rows, context)
