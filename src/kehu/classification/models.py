"""Classification: dimensions and their values, rules, each customer's place and its history,
and the stored per-customer figures (RFM) that rules, lists and filters read.

A dimension (生命周期, 价值等级, 客户类型, or one an admin adds) holds one value per
customer (`CustomerClass`), set by the first rule of that dimension whose condition holds
(a decision list in priority order) or by a person (a manual override, kept until cleared).
Every change is a `ClassChange` row: from, to, the rule or the person, and the figures
that decided it. See docs/architecture.md, "Classification".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.customers.scoping import CustomerBoundQuerySet

MONEY = {"max_digits": 16, "decimal_places": 2}


class Dimension(models.Model):
    """A way of sorting customers into values: lifecycle, value tier, type, or an admin's own."""

    key = models.SlugField(_("键"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名称"), max_length=50, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class DimensionValue(models.Model):
    """One value of a dimension (A 类, 流失 …), in the admin's order."""

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="values")
    key = models.SlugField(_("键"), max_length=50)
    label = models.CharField(_("名称"), max_length=50)
    label_en = models.CharField(_("英文名称"), max_length=50, blank=True)
    color = models.CharField(max_length=7, default="#64748b")
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["dimension_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["dimension", "key"],
                                               name="dimension_value_key")]

    def __str__(self) -> str:
        return self.label


class Rule(models.Model):
    """When `condition` holds (a customers.conditions tree; empty: every customer), set
    `value` of its dimension — or add or remove `tag`. The rules of a dimension (of a
    tag) run in `priority` order (lowest first) and the first that holds decides; for a
    tag, no rule holding leaves it as a person left it."""

    ADD, REMOVE = "add", "remove"
    TAG_ACTIONS = ((ADD, _("添加标签")), (REMOVE, _("移除标签")))

    name = models.CharField(_("规则名称"), max_length=100)
    value = models.ForeignKey(DimensionValue, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="rules", verbose_name=_("设为"))
    tag = models.ForeignKey("customers.Tag", null=True, blank=True, on_delete=models.PROTECT,
                            related_name="+", verbose_name=_("标签"))
    tag_action = models.CharField(_("标签动作"), max_length=10, blank=True, default="",
                                  choices=TAG_ACTIONS)
    condition = models.JSONField(_("条件"), null=True, blank=True)
    priority = models.IntegerField(_("优先级"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    # The shipped defaults carry a key, so an upgrade can find them (never to overwrite edits).
    builtin_key = models.CharField(max_length=50, blank=True, default="")
    description = models.CharField(_("说明"), max_length=255, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["priority", "id"]
        constraints = [models.CheckConstraint(
            name="rule_sets_a_value_or_a_tag",
            condition=(Q(value__isnull=False, tag__isnull=True, tag_action="")
                       | Q(value__isnull=True, tag__isnull=False, tag_action__in=["add", "remove"])))]

    def __str__(self) -> str:
        return self.name


class CustomerClass(models.Model):
    """A customer's value in one dimension, and why: the rule that set it, or a person."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="classes")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    value = models.ForeignKey(DimensionValue, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    manual = models.BooleanField(default=False)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        # (dimension, customer): a run walks one dimension's rows in customer order.
        constraints = [models.UniqueConstraint(fields=["dimension", "customer"],
                                               name="one_class_per_dimension")]
        # A filter "价值等级 = A" is an index range (dimension, value) of customer ids.
        indexes = [models.Index(fields=["dimension", "value", "customer"], name="class_members")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.value_id}"


class ClassChange(models.Model):
    """One change of a customer's value in a dimension: on the timeline, never edited."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="+")
    # A dimension's change (from → to), or a tag a rule added or removed (`tag_action`).
    dimension = models.ForeignKey(Dimension, null=True, on_delete=models.CASCADE,
                                  related_name="+")
    tag = models.ForeignKey("customers.Tag", null=True, on_delete=models.CASCADE,
                            related_name="+")
    tag_action = models.CharField(max_length=10, blank=True, default="")
    from_value = models.ForeignKey(DimensionValue, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    to_value = models.ForeignKey(DimensionValue, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(max_length=100, blank=True)  # kept if the rule is deleted
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    manual = models.BooleanField(default=False)
    figures = models.JSONField(default=dict, blank=True)  # the figures that decided it
    at = models.DateTimeField()

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["customer", "at", "id"], name="class_change_timeline")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_value_id} -> {self.to_value_id}"

    @property
    def reasons(self) -> list[str]:
        """The figures that decided the change, in words, as the card says them."""
        from kehu.classification.explain import figure_text

        return [figure_text(key, value) for key, value in (self.figures or {}).items()
                if value is not None]


class CustomerFigures(models.Model):
    """Per-customer figures over the RFM window, computed set-based (`figures.py`).

    r, f, m are quintile scores 1–5 among customers with an order in the window (5 best);
    `revenue_share` is the share (%) of the window's revenue made by the customers ranked
    above this one — "位列前 70%" means below 70. A customer with no order in the window
    has frequency 0, monetary 0 and no scores.
    """

    # No foreign key in the database: every row is written from orders, whose own key
    # names an existing customer, and Django's delete still takes a customer's figures
    # with it. The key's check of each row cost a whole rewrite (figures.figures_compute,
    # 706,556 rows at 1,000,000 customers) 4.1 s at PostgreSQL's COMMIT and 2.7 s on
    # SQLite, a quarter of the rewrite.
    customer = models.OneToOneField("customers.Customer", primary_key=True, db_constraint=False,
                                    on_delete=models.CASCADE, related_name="figures")
    last_order_on = models.DateField(null=True)  # ever, not only within the window
    first_order_on = models.DateField(null=True)  # ever
    orders_total = models.IntegerField(default=0)  # ever
    recency_days = models.IntegerField(null=True)
    frequency = models.IntegerField(default=0)
    monetary = models.DecimalField(**MONEY, default=0)
    r = models.SmallIntegerField(null=True)
    f = models.SmallIntegerField(null=True)
    m = models.SmallIntegerField(null=True)
    segment = models.CharField(max_length=16, blank=True, default="")
    revenue_share = models.DecimalField(max_digits=7, decimal_places=3, null=True)
    computed_on = models.DateField()

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["r", "f"], name="figures_rf"),
                   models.Index(fields=["segment"], name="figures_segment")]

    def __str__(self) -> str:
        return f"{self.customer_id}: R{self.r} F{self.f} M{self.m}"


class Pending(models.Model):
    """A customer whose data changed since its rules last ran (triggers.py): marked in the
    writer's own transaction, cleared by the refresh job once it re-ran them. A plain id,
    not a key: bookkeeping, like the duplicate finder's pairs."""

    customer_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return str(self.customer_id)


class Scheme(models.Model):
    """The one row of classification settings and bookkeeping."""

    rfm_window_days = models.PositiveIntegerField(_("RFM 统计窗口（天）"), default=365)
    # Lower bounds of scores 2..5 per letter and the revenue-share curve, from the last
    # full computation: one customer's refresh is scored against them (figures.py).
    cuts = models.JSONField(default=dict, blank=True)
    figures_computed_at = models.DateTimeField(null=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"RFM {self.rfm_window_days}"
