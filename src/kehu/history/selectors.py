"""Reads of the customer's history on behalf of a viewer. Every one starts from `visible_to`.

Lists are keyset-paginated (`kehu.core.pagination.paginate`); filters are plain
keyword arguments, an empty value meaning "any". The timeline lives in
`history.timeline` and the card's figures in `history.summary`; both are
re-exported here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import Http404
from kehu.core.pagination import Page, paginate
from kehu.customers import selectors as customer_selectors
from kehu.customers.scoping import customer_for, scope_is_small
from kehu.history import tallies
from kehu.history.choices import Channel, StageKind
from kehu.history.models import (
    Attachment,
    Communication,
    Need,
    Opportunity,
    Order,
    OrderLine,
    Pipeline,
    Preference,
    Product,
    Stage,
    Survey,
    Ticket,
)
from kehu.history.summary import CustomerSummary, customer_summary  # noqa: F401 -- re-exported
from kehu.history.timeline import TimelineEntry, timeline  # noqa: F401 -- re-exported

DATETIMES = {"created_at", "updated_at", "occurred_at", "opened_at", "closed_at"}


def _filtered(qs: QuerySet, **filters: Any) -> QuerySet:
    """Apply the filters that were given (None and "" mean "any")."""
    return qs.filter(**{k: v for k, v in filters.items() if v not in (None, "")})


def _get(qs: QuerySet, pk: int):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


# --- communications ----------------------------------------------------------------


def communications_visible(*, viewer: User) -> QuerySet[Communication]:
    return Communication.objects.visible_to(viewer).select_related("contact", "created_by", "customer")


def communication_list(
    *, viewer: User, customer_id: int | None = None, channel: str = "", direction: str = "",
    created_by: int | None = None, since: dt.datetime | None = None,
    cursor: str | None = None, limit: int = 50,
) -> Page:
    qs = _filtered(communications_visible(viewer=viewer).prefetch_related("attachments"),
                   customer_id=customer_id,
                   channel=channel, direction=direction, created_by_id=created_by,
                   occurred_at__gte=since)
    return paginate(qs, sort="-occurred_at", cursor=cursor, limit=limit, datetime_fields=DATETIMES)


def communication_get(*, viewer: User, pk: int) -> Communication:
    qs = communications_visible(viewer=viewer).prefetch_related("attachments")
    return _get(qs, pk)


def attachment_get(*, viewer: User, pk: int) -> Attachment:
    """An attachment whose communication's customer the viewer can see (for downloads)."""
    return _get(Attachment.objects.visible_to(viewer).select_related("communication"), pk)


def due_follow_ups(
    *, viewer: User, on: dt.date, created_by: int | None = None
) -> QuerySet[Communication]:
    """Communications whose next follow-up is due on or before `on`, oldest due first."""
    qs = communications_visible(viewer=viewer).filter(next_follow_up__lte=on)
    return _filtered(qs, created_by_id=created_by).order_by("next_follow_up", "id")


def last_channel(*, viewer: User) -> str:
    """The channel the viewer logged last: the communication form's default (a rep who
    phones all day should not pick 电话 each time)."""
    channel = (Communication.objects.filter(created_by=viewer).order_by("-created_at", "-id")
               .values_list("channel", flat=True).first())
    return channel or Channel.PHONE


def communication_defaults(*, viewer: User, customer_id: int) -> dict[str, Any]:
    """What a new touch point defaults to, for the form and the service alike (one rule):
    now, the customer's primary contact, and the channel the viewer logged last."""
    return {"occurred_at": timezone.now(), "channel": last_channel(viewer=viewer),
            "contact_id": customer_selectors.primary_contact_id(customer_id)}


# --- products and orders --------------------------------------------------------------


def product_list(
    *, viewer: User | None = None, q: str = "", category: str = "", active: bool | None = None,
    cursor: str | None = None, limit: int = 50,
) -> Page:
    """The catalogue is company-wide (no customer data): `viewer` is accepted for symmetry."""
    qs = _filtered(Product.objects.select_related("category"), category__name=category,
                   is_active=active)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(sku__icontains=q))
    return paginate(qs, sort="sku", cursor=cursor, limit=limit, datetime_fields=set())


def product_get(*, viewer: User | None = None, pk: int) -> Product:
    return _get(Product.objects.select_related("category"), pk)


def product_choices(*, viewer: User | None = None, limit: int = 2000) -> list[Product]:
    """Active products for a form's picker (not paginated; capped)."""
    return list(Product.objects.filter(is_active=True).select_related("category")
                .order_by("sku")[:limit])


def orders_visible(*, viewer: User) -> QuerySet[Order]:
    lines = OrderLine.objects.select_related("product").order_by("id")
    return (Order.objects.visible_to(viewer).select_related("customer", "created_by")
            .prefetch_related(Prefetch("lines", queryset=lines)))


def order_list(
    *, viewer: User, customer_id: int | None = None, status: str = "",
    ordered_from: dt.date | None = None, ordered_to: dt.date | None = None,
    cursor: str | None = None, limit: int = 50,
) -> Page:
    """Orders newest first, each with its lines and their products (two extra queries per page)."""
    qs = _filtered(orders_visible(viewer=viewer), customer_id=customer_id, status=status,
                   ordered_on__gte=ordered_from, ordered_on__lte=ordered_to)
    return paginate(qs, sort="-ordered_on", cursor=cursor, limit=limit, datetime_fields=DATETIMES)


def order_get(*, viewer: User, pk: int) -> Order:
    return _get(orders_visible(viewer=viewer), pk)


# --- needs and preferences ---------------------------------------------------------------


def preference_get(*, viewer: User, customer_id: int) -> Preference | None:
    """The customer's preferences, or None when none were recorded yet (404 out of sight)."""
    customer_id = customer_for(viewer, customer_id).pk
    return (Preference.objects.visible_to(viewer).filter(customer_id=customer_id)
            .select_related("decision_maker").prefetch_related("interests").first())


def need_list(
    *, viewer: User, customer_id: int | None = None, status: str = "",
    cursor: str | None = None, limit: int = 50,
) -> Page:
    qs = _filtered(Need.objects.visible_to(viewer).select_related("created_by"),
                   customer_id=customer_id, status=status)
    return paginate(qs, sort="-created_at", cursor=cursor, limit=limit, datetime_fields=DATETIMES)


def need_get(*, viewer: User, pk: int) -> Need:
    return _get(Need.objects.visible_to(viewer), pk)


# --- opportunities -------------------------------------------------------------------------


def opportunities_visible(*, viewer: User) -> QuerySet[Opportunity]:
    return (Opportunity.objects.visible_to(viewer)
            .select_related("customer", "stage", "pipeline", "owner", "created_by")
            .prefetch_related("products"))


def opportunity_list(
    *, viewer: User, customer_id: int | None = None, pipeline_id: int | None = None,
    stage_id: int | None = None, status: str = "", owner_id: int | None = None, kind: str = "",
    cursor: str | None = None, limit: int = 50,
) -> Page:
    qs = _filtered(opportunities_visible(viewer=viewer), customer_id=customer_id,
                   pipeline_id=pipeline_id, stage_id=stage_id, status=status,
                   owner_id=owner_id, kind=kind)
    return paginate(qs, sort="-created_at", cursor=cursor, limit=limit, datetime_fields=DATETIMES)


def opportunity_get(*, viewer: User, pk: int) -> Opportunity:
    return _get(opportunities_visible(viewer=viewer), pk)


BOARD_PAGE = 20  # cards per column and per "more"
# What a card shows and its move form posts: not the customer's every column (its encrypted
# ones decrypted per row) — 14.6 -> 9.4 ms for a manager's six columns at 1,000,000 customers.
CARD_FIELDS = ("title", "amount", "currency", "expected_close", "version", "stage_id",
               "pipeline_id", "updated_at", "customer__name", "owner__username",
               "owner__display_name")


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the kanban: its first page of cards and the figures of all its deals."""

    stage: Stage
    page: Page
    count: int
    amount: Decimal  # the sum of all the column's amounts, not just the ones shown

    @property
    def opportunities(self) -> list[Opportunity]:
        return self.page.items

    @property
    def weighted(self) -> Decimal:
        """The amount at the stage's chance of winning (加权金额)."""
        return (self.amount * self.stage.probability / 100).quantize(Decimal("0.01"))


def board_cards(
    *, viewer: User, stage: Stage | int, owner_id: int | None = None,
    cursor: str | None = None, limit: int = BOARD_PAGE,
) -> Page:
    """One page of a column's cards, most recently touched first, by keyset on
    (updated_at, id): the `opp_stage_recent` index, so a deep page costs as much as the first."""
    stage_id = stage.pk if isinstance(stage, Stage) else int(stage)
    qs = _filtered(Opportunity.objects.visible_to(viewer).select_related("customer", "owner")
                   .only(*CARD_FIELDS), owner_id=owner_id)
    if scope_is_small(viewer):
        # `+ 0` hides the column's index: the few customers' deals are read through their
        # customers and sorted (a team owning 100 customers: 865 ms walking the column at
        # 1,000,000 customers, bench/org.py's company).
        qs = qs.alias(_stage=F("stage_id") + 0).filter(_stage=stage_id)
    else:
        qs = qs.filter(stage_id=stage_id)
    return paginate(qs, sort="-updated_at", cursor=cursor, limit=limit, datetime_fields=DATETIMES)


def opportunity_board(
    *, viewer: User, pipeline: Pipeline | int, owner_id: int | None = None,
    per_column: int = BOARD_PAGE,
) -> list[BoardColumn]:
    """The kanban: each stage with its first page of cards and the count and sum of all the
    opportunities in it the viewer sees, from the kept tallies (`history.tallies`): a few
    dozen rows whatever the size."""
    stages = stages_of(viewer=viewer, pipeline=pipeline)
    figures = tallies.stage_figures(viewer=viewer, stage_ids=[s.pk for s in stages],
                                    owner_id=owner_id)
    columns = []
    for stage in stages:
        head = figures.get(stage.pk) or tallies.Figures()
        page = board_cards(viewer=viewer, stage=stage, owner_id=owner_id, limit=per_column)
        columns.append(BoardColumn(stage, page, head.count, head.amount))
    return columns


def pipeline_list(*, viewer: User | None = None) -> list[Pipeline]:
    """Pipelines with their stages (configuration, not customer data)."""
    stages = Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))
    return list(Pipeline.objects.prefetch_related(stages).order_by("-is_default", "name"))


def pipelines_configured(*, viewer: User) -> list[Pipeline]:
    """The settings page's pipelines: stages in order, and on each pipeline and stage `held`,
    how many opportunities stand in it. Every one counts, recycled customers' too: it is the
    number a deletion is refused by (`opportunities.stage_delete`), shown on an admin's page."""
    stages = Prefetch("stages", queryset=Stage.objects.order_by("position", "id")
                      .annotate(held=Count("opportunities")))
    return list(Pipeline.objects.prefetch_related(stages).annotate(held=Count("opportunities"))
                .order_by("-is_default", "name"))


def stage_get(*, viewer: User | None = None, pk: int) -> Stage:
    """One stage (configuration, not customer data), or 404."""
    return _get(Stage.objects.all(), pk)


def stages_of(*, viewer: User | None = None, pipeline: Pipeline | int) -> list[Stage]:
    """A pipeline's stages in board order (the cards' "移到" picker)."""
    pipeline_id = pipeline.pk if isinstance(pipeline, Pipeline) else int(pipeline)
    return list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("position", "id"))


def default_pipeline() -> Pipeline | None:
    """The pipeline new deals go to: the one marked default, else the oldest (the one rule)."""
    return Pipeline.objects.order_by("-is_default", "pk").first()


def open_stages(*, viewer: User | None = None, pipeline: Pipeline | int | None = None) -> list[Stage]:
    """The open stages of `pipeline` (the default one when not given), for a form's picker."""
    pipeline = default_pipeline() if pipeline is None else pipeline
    if pipeline is None:
        return []
    pipeline_id = pipeline.pk if isinstance(pipeline, Pipeline) else int(pipeline)
    qs = Stage.objects.filter(kind=StageKind.OPEN, pipeline_id=pipeline_id).select_related("pipeline")
    return list(qs.order_by("position", "id"))


# --- satisfaction and feedback ----------------------------------------------------------------


def survey_list(
    *, viewer: User, customer_id: int | None = None, kind: str = "",
    cursor: str | None = None, limit: int = 50,
) -> Page:
    qs = _filtered(Survey.objects.visible_to(viewer).select_related("contact", "created_by"),
                   customer_id=customer_id, kind=kind)
    return paginate(qs, sort="-answered_on", cursor=cursor, limit=limit, datetime_fields=DATETIMES)


def survey_get(*, viewer: User, pk: int) -> Survey:
    return _get(Survey.objects.visible_to(viewer), pk)


def ticket_list(
    *, viewer: User, customer_id: int | None = None, kind: str = "", status: str = "",
    handler_id: int | None = None, cursor: str | None = None, limit: int = 50,
) -> Page:
    qs = _filtered(Ticket.objects.visible_to(viewer).select_related("customer", "handler",
                                                                     "created_by"),
                   customer_id=customer_id, kind=kind, status=status, handler_id=handler_id)
    return paginate(qs, sort="-opened_at", cursor=cursor, limit=limit, datetime_fields=DATETIMES)


def ticket_get(*, viewer: User, pk: int) -> Ticket:
    return _get(Ticket.objects.visible_to(viewer), pk)


# --- generic access by kind (the API's list and detail endpoints) ----------------------

LISTS = {
    "communication": communication_list, "order": order_list, "need": need_list,
    "opportunity": opportunity_list, "survey": survey_list, "ticket": ticket_list,
    "product": product_list,
}
GETS = {
    "communication": communication_get, "order": order_get, "need": need_get,
    "opportunity": opportunity_get, "survey": survey_get, "ticket": ticket_get,
    "product": product_get,
}


def record_get(*, viewer: User, kind: str, pk: int):
    """One record of `kind` the viewer can see, or 404."""
    return GETS[kind](viewer=viewer, pk=pk)


def record_page(
    *, viewer: User, kind: str, cursor: str | None = None, limit: int = 50, **filters: Any
) -> Page:
    """One page of records of `kind`; `filters` are the keyword filters of that kind's list."""
    return LISTS[kind](viewer=viewer, cursor=cursor, limit=limit, **filters)


# --- exports ----------------------------------------------------------------------------


def order_lines_visible(*, viewer: User) -> QuerySet[OrderLine]:
    """The lines of the orders whose customer the viewer can see (an export reads a page of
    orders, then their lines in one query through this)."""
    return OrderLine.objects.visible_to(viewer)
