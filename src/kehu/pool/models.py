"""The customer pool (公海): customers nobody follows up on go back, so someone else can.

A `Pool` serves some departments: its members are the active people of those departments
and the departments below them. `PoolRule`s say when an owned customer goes back (idle
past N days since the last contact or hand-over, or no deal for M days), warning the
owner X days before. A customer in a pool has no owner and one `PoolEntry`; members see it
(masked) and may claim it within the pool's limits. Every move is a `PoolMove`, shown on
the customer's timeline. See docs/architecture.md, "Customer pool (公海)".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Origin
from kehu.customers.scoping import CustomerBoundQuerySet


class Pool(models.Model):
    """一个公海: the departments it serves, its claim limits and the previous owner's wait."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    departments = models.ManyToManyField("accounts.Department", related_name="+",
                                         verbose_name=_("适用部门"))
    daily_claims = models.PositiveIntegerField(_("每人每日可领取"), default=5)
    # Customers a rep may own at most to claim another (all they own, not only claimed ones).
    max_held = models.PositiveIntegerField(_("每人最多持有客户"), null=True, blank=True)
    reclaim_wait_days = models.PositiveIntegerField(_("原负责人再领取等待（天）"), default=30)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PoolRule(models.Model):
    """When an owned customer goes back to a pool: those of one classification value (a tier,
    a lifecycle stage) or all, idle `idle_days` (no communication, no hand-over) or, when
    set, without a deal (a won opportunity or a spending order) for `no_deal_days`."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rules")
    target_value = models.ForeignKey("classification.DimensionValue", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("适用分类"))  # empty: every customer
    idle_days = models.PositiveIntegerField(_("未跟进天数"))
    no_deal_days = models.PositiveIntegerField(_("未成交天数"), null=True, blank=True)
    warn_days = models.PositiveIntegerField(_("提前提醒天数"), default=3)
    exempt_won = models.BooleanField(_("已成交客户不回收"), default=True)
    exempt_open_opportunities = models.BooleanField(_("有进行中商机不回收"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pool", "position", "id"]

    def __str__(self) -> str:
        return f"{self.pool_id}: {self.idle_days}"


class PoolEntry(models.Model):
    """A customer currently in a pool (its owner is NULL): why, since when, and until when
    its previous owner may not claim it back."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE,
                                    related_name="+")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="entries")
    rule = models.ForeignKey(PoolRule, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    entered_at = models.DateTimeField()
    previous_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    no_reclaim_until = models.DateTimeField(null=True, blank=True)

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["pool", "entered_at", "id"], name="pool_entry_list")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.pool_id}"


class PoolStageTally(models.Model):
    """How many opportunities, of what amount, stand in one stage for the live customers of
    one pool, per deal owner: what a member's kanban adds to the tallies of the owners in
    their scope (`history.tallies`), without reading the pool's deals — a pool of 200,000
    customers cost a member's board ~0.9 s at 1,000,000 customers.

    Kept by database triggers (migration 0003) on deals, pool entries and the customers'
    soft deletion, in the writing transaction, like `history.StageTally`; plain integers,
    whole cents; rebuilt by `kehu stage-tallies --rebuild`.
    """

    pool = models.IntegerField()
    stage = models.IntegerField()
    deal_owner = models.IntegerField()
    opportunities = models.IntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "stage", "deal_owner"],
                                               name="pool_stage_tally_key")]

    def __str__(self) -> str:
        return f"{self.pool}/{self.stage}/{self.deal_owner}: {self.opportunities}"


class MoveKind(models.TextChoices):
    RECLAIMED = "reclaimed", _("自动回收")
    RELEASED = "released", _("释放到公海")
    CLAIMED = "claimed", _("领取")
    ASSIGNED = "assigned", _("分配")


class PoolMove(models.Model):
    """One move into or out of a pool: who, from whom, to whom, why and when."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    pool = models.ForeignKey(Pool, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=MoveKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                related_name="+")
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    # Shares the move into the pool ended (each in the change log): the card's timeline
    # says who lost sight of the customer along with the move.
    shares_ended = models.PositiveIntegerField(_("结束的共享"), default=0)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    at = models.DateTimeField()

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["customer", "at", "id"], name="pool_move_timeline"),
                   # A rep's claims today (the daily limit).
                   models.Index(fields=["to_user", "kind", "at"], name="pool_move_claims")]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id}"


class PoolWarning(models.Model):
    """The owner was warned that the customer goes back soon — once per customer, owner and
    idle clock (`idle_since`: the last contact or hand-over). Inserted in the transaction
    that writes the notification, so a rerun (or a worker killed mid-way) warns once."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    idle_since = models.DateTimeField()
    rule = models.ForeignKey(PoolRule, null=True, on_delete=models.SET_NULL, related_name="+")
    warned_at = models.DateTimeField()

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "owner", "idle_since"],
                                               name="pool_warning_once")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.owner_id}"
