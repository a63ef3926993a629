"""Data-quality rows: one settings row, one row per customer, verifications, daily snapshots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Origin
from kehu.customers.scoping import CustomerBoundQuerySet

DEFAULT_STALE_DAYS = 180


class QualitySettings(models.Model):
    """The one row of data-quality settings (设置 → 数据质量): a weight per field (a key of
    `scoring.FIELDS` or `cf.<custom key>`; a key not stored has its default) and after how
    many days without an update or a verification a customer counts as stale."""

    weights = models.JSONField(default=dict, blank=True)
    stale_days = models.PositiveIntegerField(_("多少天未更新或核实算过期"), default=DEFAULT_STALE_DAYS)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"quality settings v{self.version}"


class CustomerQuality(models.Model):
    """A customer's data quality as last computed: the completeness score (0–100, written
    set-based by `scoring`), the problems re-validation found (`checking`: [{"field",
    "reason"}]) and the last verification ("信息已核实", `services.customer_verify`)."""

    customer = models.OneToOneField("customers.Customer", primary_key=True,
                                    on_delete=models.CASCADE, related_name="quality")
    completeness = models.SmallIntegerField(default=0)
    scored_at = models.DateTimeField(null=True)
    problems = models.JSONField(default=list, blank=True)
    problem_count = models.SmallIntegerField(default=0)
    checked_at = models.DateTimeField(null=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [
            # The page's worst records and `quality.completeness` filters: a range of scores.
            models.Index(fields=["completeness", "customer"], name="quality_score"),
            models.Index(fields=["customer"], name="quality_invalid",
                         condition=Q(problem_count__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.completeness}"


class CustomerVerification(models.Model):
    """One "信息已核实": someone looked at the customer's data and found it current."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="verifications")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"], name="verification_latest")]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.created_at:%Y-%m-%d}"


class QualitySnapshot(models.Model):
    """One day's data quality of one owner's live customers (the nightly job): the trend.

    Per owner, so a reader's trend is the sum over the owners in their scope; a plain id,
    like the duplicate finder's pairs (bookkeeping, not a row of anyone's)."""

    day = models.DateField()
    owner_id = models.BigIntegerField(null=True)
    customers = models.IntegerField(default=0)
    completeness_sum = models.BigIntegerField(default=0)
    stale = models.IntegerField(default=0)
    invalid = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "owner_id"], name="quality_snapshot_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.owner_id}: {self.customers}"


class QualityPending(models.Model):
    """A customer written since its quality was last computed (triggers.py): marked in the
    writer's transaction, cleared by the refresh job. A plain id, like classification's."""

    customer_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return str(self.customer_id)
