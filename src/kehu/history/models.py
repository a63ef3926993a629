"""The customer's history: communications, orders, needs, opportunities, surveys, tickets.

Every row hangs off one customer and is visible exactly when its customer is
(`CustomerBoundQuerySet`). Each kind has an index on (customer, time, id) so the
card's timeline can take the newest N of each kind and merge them.
"""

from __future__ import annotations

import decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Origin
from kehu.customers.scoping import CustomerBoundQuerySet, ScopedQuerySet
from kehu.history.choices import (
    Channel,
    ContactTime,
    Direction,
    NeedStatus,
    OpportunityStatus,
    OpportunityType,
    OrderStatus,
    StageKind,
    SurveyKind,
    TicketKind,
    TicketStatus,
)

MONEY = {"max_digits": 14, "decimal_places": 2}
# Enough digits to quantize any finite value SQLite can hand back (a float, at most ~1.8e308).
READ_PRECISION = 400


class DecimalColumn(models.DecimalField):
    """A DecimalField whose rows stay readable when a stored value does not fit the column.

    SQLite does not enforce max_digits, and Django's SQLite converter quantizes every value
    it reads with the field's `context` (precision max_digits): one row holding a wider
    value — written before the cleaning functions checked widths — raised InvalidOperation
    on every page that read it, so the row could be neither shown, fixed nor deleted. Here
    the read context is wide enough for any stored number and does not trap, so such a row
    reads back as the number it holds (Decimal NaN for the unreadable: infinity). Writes do
    not rely on this: `history.cleaning` checks every value against max_digits first.
    """

    @cached_property
    def context(self) -> decimal.Context:
        return decimal.Context(prec=max(self.max_digits, READ_PRECISION), traps=[])

    def to_python(self, value: Any) -> Any:
        if isinstance(value, float):  # rounded to the column's digits, as DecimalField does
            value = decimal.Context(prec=self.max_digits).create_decimal_from_float(value)
        return super().to_python(value)


class AttachmentQuerySet(ScopedQuerySet):
    customer_path = "communication__customer__"


class OrderLineQuerySet(ScopedQuerySet):
    customer_path = "order__customer__"


class CustomerRecord(models.Model):
    """Columns every history row shares: its customer, provenance and version."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    version = models.PositiveIntegerField(default=1)

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        abstract = True


class Communication(CustomerRecord):
    """One touch point (跟进记录): a call, visit, WeChat chat, email or meeting."""

    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("方式"), max_length=16, choices=Channel.choices)
    direction = models.CharField(
        _("方向"), max_length=16, choices=Direction.choices, default=Direction.OUTBOUND
    )
    occurred_at = models.DateTimeField(_("时间"))
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    content = models.TextField(_("内容"), blank=True)
    outcome = models.CharField(_("结果"), max_length=500, blank=True)
    next_step = models.CharField(_("下一步"), max_length=500, blank=True)
    next_follow_up = models.DateField(_("下次跟进日期"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "occurred_at", "id"], name="comm_timeline"),
                   models.Index(fields=["next_follow_up"], name="comm_next_follow_up"),
                   # Each history list's own order (history.selectors.*_list, newest
                   # first; `*_list` below likewise): the admin's page walks it and stops
                   # instead of sorting the table (migration 0005 has the numbers).
                   models.Index(fields=["occurred_at", "id"], name="comm_list"),
                   # The form's default channel, the one the viewer logged last
                   # (selectors.last_channel, on every card): without it PostgreSQL sorted a
                   # rep's ~100,000 communications at 1,000,000 customers, 190-250 ms.
                   models.Index(fields=["created_by", "created_at", "id"], name="comm_by_author")]

    def __str__(self) -> str:
        return self.subject or self.get_channel_display()


class Attachment(models.Model):
    """A file attached to a communication, stored under the data directory."""

    communication = models.ForeignKey(
        Communication, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AttachmentQuerySet.as_manager()

    def __str__(self) -> str:
        return self.original_name


class ProductCategory(models.Model):
    """A group of products (interests and cross-sell are reasoned about per category)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """An item of the catalogue. Prices are decimals with a currency, never floats."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    category = models.ForeignKey(
        ProductCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    unit_price = DecimalColumn(_("单价"), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    is_active = models.BooleanField(_("在售"), default=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Order(CustomerRecord):
    """A purchase (交易). `external_number` makes pushes from an ERP or shop idempotent."""

    number = models.CharField(_("订单号"), max_length=64, unique=True)
    external_number = models.CharField(
        _("外部单号"), max_length=64, null=True, blank=True, unique=True
    )
    ordered_on = models.DateField(_("下单日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    total = DecimalColumn(_("金额"), **MONEY, default=0)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "ordered_on", "id"], name="order_timeline"),
                   # The list's order, id included: SQLite's indexes end in the rowid anyway,
                   # PostgreSQL's do not, and (ordered_on) alone made it sort a whole day's
                   # 38,922 orders for each first page (admin, 10,000,000 orders: 251 ms).
                   models.Index(fields=["ordered_on", "id"], name="order_recent"),
                   # Covers the RFM pass (classification.figures): one walk in customer
                   # order, no table reads and no sort for the GROUP BY.
                   models.Index(fields=["customer", "status", "ordered_on", "total"],
                                name="order_figures")]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """One product on an order; amount = quantity × unit price − discount."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = DecimalColumn(_("数量"), max_digits=12, decimal_places=3)
    unit_price = DecimalColumn(_("单价"), **MONEY)
    discount = DecimalColumn(_("折扣金额"), **MONEY, default=0)
    amount = DecimalColumn(_("金额"), **MONEY)

    objects = OrderLineQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class Preference(CustomerRecord):
    """The customer's structured preferences (需求及偏好), one row per customer."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="preference"
    )
    preferred_channel = models.CharField(
        _("偏好联系方式"), max_length=16, choices=Channel.choices, blank=True
    )
    preferred_contact_time = models.CharField(
        _("方便联系时间"), max_length=16, choices=ContactTime.choices, blank=True
    )
    interests = models.ManyToManyField(
        ProductCategory, verbose_name=_("感兴趣的产品类别"), blank=True, related_name="+"
    )
    budget_min = DecimalColumn(_("预算下限"), **MONEY, null=True, blank=True)
    budget_max = DecimalColumn(_("预算上限"), **MONEY, null=True, blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    decision_maker = models.ForeignKey(
        "customers.Contact", verbose_name=_("决策人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    pain_points = models.TextField(_("痛点"), blank=True)

    def __str__(self) -> str:
        return f"preference of {self.customer_id}"


class Need(CustomerRecord):
    """A free-text need with a status (open, being met, met, dropped)."""

    content = models.TextField(_("需求"))
    status = models.CharField(
        _("状态"), max_length=16, choices=NeedStatus.choices, default=NeedStatus.OPEN
    )

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at", "id"], name="need_timeline"),
                   models.Index(fields=["created_at", "id"], name="need_list")]

    def __str__(self) -> str:
        return self.content[:50]


class Pipeline(models.Model):
    """A sales pipeline whose stages and win probabilities an admin configures."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    is_default = models.BooleanField(_("默认"), default=False)

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """A column of the pipeline's kanban, with the chance of winning from there."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("名称"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(_("赢率 %"), default=10)
    kind = models.CharField(max_length=8, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique")]

    def __str__(self) -> str:
        return self.name


class Opportunity(CustomerRecord):
    """A chance to sell (商机): new, cross-sell, upsell or renewal."""

    title = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(
        _("类型"), max_length=16, choices=OpportunityType.choices, default=OpportunityType.NEW
    )
    products = models.ManyToManyField(Product, verbose_name=_("产品"), blank=True, related_name="+")
    amount = DecimalColumn(_("金额"), **MONEY, default=0)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    expected_close = models.DateField(_("预计成交日期"), null=True, blank=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="opportunities")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), null=True,
        on_delete=models.PROTECT, related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
    )
    close_reason = models.CharField(_("赢单/输单原因"), max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "created_at", "id"], name="opp_timeline"),
            models.Index(fields=["pipeline", "stage", "status"], name="opp_board"),
            models.Index(fields=["created_at", "id"], name="opp_list"),
            # A kanban column's cards, newest first, by keyset (`selectors.board_cards`).
            models.Index(fields=["stage", "updated_at", "id"], name="opp_stage_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class StageTally(models.Model):
    """How many opportunities, and of what amount, stand in one stage for one pair of the
    customer's owner and the deal's owner (0: nobody), live customers only: the kanban's
    column heads without reading the opportunities (`selectors.opportunity_board`).

    Kept by database triggers (migration 0006) in the writing transaction, so every path —
    services, imports, bulk updates, merges, transfers, soft deletion, cascades — keeps it
    true without knowing about it. Plain integers, not foreign keys: it is derived data,
    rebuilt from scratch by `kehu stage-tallies --rebuild` (`tallies.stage_tallies_rebuild`).
    Amounts are whole cents so adding and taking away never drifts as floats do on SQLite.
    """

    stage = models.IntegerField()
    customer_owner = models.IntegerField()
    deal_owner = models.IntegerField()
    opportunities = models.IntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stage", "customer_owner", "deal_owner"],
                                               name="stage_tally_key")]

    def __str__(self) -> str:
        return f"{self.stage}/{self.customer_owner}/{self.deal_owner}: {self.opportunities}"


class Survey(CustomerRecord):
    """One survey answer: CSAT 1–5 or NPS 0–10, with a comment."""

    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField(_("分数"))
    comment = models.TextField(_("评价"), blank=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, blank=True)
    answered_on = models.DateField(_("日期"))

    class Meta:
        indexes = [models.Index(fields=["customer", "answered_on", "id"], name="survey_timeline"),
                   models.Index(fields=["answered_on", "id"], name="survey_list")]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"


class Ticket(CustomerRecord):
    """A complaint, suggestion or inquiry (投诉 / 建议 / 咨询) and how it was handled."""

    kind = models.CharField(_("类型"), max_length=16, choices=TicketKind.choices)
    subject = models.CharField(_("主题"), max_length=200)
    content = models.TextField(_("内容"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处理人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    resolution = models.TextField(_("处理结果"), blank=True)
    opened_at = models.DateTimeField(_("提出时间"))
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "opened_at", "id"], name="ticket_timeline"),
                   models.Index(fields=["opened_at", "id"], name="ticket_list")]

    def __str__(self) -> str:
        return self.subject
