"""Customers (companies and persons), their contacts, tags, shares and custom fields."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import EncryptedCharField, EncryptedJSONField
from kehu.core.models import Origin
from kehu.customers.choices import (
    CompanySize,
    CustomerKind,
    CustomFieldType,
    DecisionRole,
    Gender,
    Industry,
    ShareLevel,
    Source,
)
from kehu.customers.scoping import CustomerBoundQuerySet, ScopedQuerySet, ShareQuerySet

LIVE = Q(deleted_at__isnull=True)


class CustomerQuerySet(ScopedQuerySet):
    customer_path = ""


class Tag(models.Model):
    """A free label on customers (重点客户, 渠道商 ...)."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    color = models.CharField(max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A company (企业客户) or a person (个人客户) the team sells to."""

    kind = models.CharField(_("客户类型"), max_length=10, choices=CustomerKind.choices)
    name = models.CharField(_("客户名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=100, blank=True)
    name_pinyin = models.CharField(max_length=600, blank=True, editable=False)
    name_initials = models.CharField(max_length=200, blank=True, editable=False)
    # The name's core for duplicate detection (customers.names: 字节跳动科技 for every way
    # of writing 北京字节跳动科技有限公司); kept by the write paths next to the pinyin.
    name_key = models.CharField(max_length=200, blank=True, editable=False, default="")
    industry = models.CharField(_("行业"), max_length=32, choices=Industry.choices, blank=True)
    company_size = models.CharField(
        _("公司规模"), max_length=16, choices=CompanySize.choices, blank=True
    )
    province = models.CharField(_("省份"), max_length=32, blank=True)
    city = models.CharField(_("城市"), max_length=32, blank=True)
    district = models.CharField(_("区县"), max_length=32, blank=True)
    # The deepest division of the official list the three fields above name, set by the
    # cleaner (customers/regions); NULL with region text = not in the list (data quality).
    region_code = models.CharField(_("区划代码"), max_length=6, null=True, blank=True,
                                   editable=False)
    address = models.CharField(_("详细地址"), max_length=255, blank=True)
    # Encrypted at rest when KEHU_ENCRYPT_FIELDS names them (core/fields.py); found then by
    # their blind indexes in CustomerKey only.
    phones = EncryptedJSONField(_("电话"), default=list, blank=True, encrypt_when="phones",
                                mask="phone")
    emails = EncryptedJSONField(_("邮箱"), default=list, blank=True, encrypt_when="emails",
                                mask="email")
    wechat = EncryptedCharField(_("微信"), max_length=64, blank=True, encrypt_when="wechat")
    # 身份证号 of a person: always encrypted; found by its blind index (CustomerKey id_number).
    id_number = EncryptedCharField(_("身份证号"), max_length=18, blank=True, default="")
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    source = models.CharField(_("客户来源"), max_length=32, choices=Source.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="customers")
    notes = models.TextField(_("备注"), blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        indexes = [
            # Keyset pagination: every sortable column is paired with id, live rows only. The
            # owner rides along so that a large scope's walk of the index (scope_plans) skips
            # other owners' rows without reading them: SQLite defers the row's read until a
            # row matches. A regional manager's first page at 1,000,000 customers: 10.2 ms
            # of walking without it, 0.25 ms with it.
            models.Index(fields=["updated_at", "id", "owner"], name="cust_updated_live",
                         condition=LIVE),
            models.Index(fields=["created_at", "id", "owner"], name="cust_created_live",
                         condition=LIVE),
            models.Index(fields=["name", "id", "owner"], name="cust_name_live", condition=LIVE),
            models.Index(fields=["owner", "updated_at", "id"], name="cust_owner_live",
                         condition=LIVE),
            models.Index(fields=["name_initials"], name="cust_initials"),
            # Quick search ranks an exact or leading pinyin match first (searchindex, ranking).
            models.Index(fields=["name_pinyin"], name="cust_pinyin"),
            models.Index(fields=["credit_code"], name="cust_credit_code"),
            models.Index(fields=["name_key", "id"], name="cust_name_key_live", condition=LIVE),
            models.Index(fields=["region_code"], name="cust_region_code"),
            # Only the recycle bin's rows: an index over every row's deleted_at would tempt
            # SQLite (without statistics) to serve `deleted_at IS NULL` from it and sort.
            models.Index(fields=["deleted_at"], name="cust_in_bin",
                         condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_company(self) -> bool:
        return self.kind == CustomerKind.COMPANY

    @property
    def region(self) -> str:
        return " ".join(part for part in (self.province, self.city, self.district) if part)


class Contact(models.Model):
    """A person at a company customer (联系人)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("姓名"), max_length=100)
    title = models.CharField(_("职务"), max_length=100, blank=True)
    decision_role = models.CharField(
        _("决策角色"), max_length=20, choices=DecisionRole.choices, blank=True
    )
    phones = EncryptedJSONField(_("电话"), default=list, blank=True, encrypt_when="phones",
                                mask="phone")
    email = EncryptedCharField(_("邮箱"), max_length=254, blank=True, encrypt_when="emails",
                               mask="email")
    wechat = EncryptedCharField(_("微信"), max_length=64, blank=True, encrypt_when="wechat")
    is_primary = models.BooleanField(_("主联系人"), default=False)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    version = models.PositiveIntegerField(default=1)

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.name


class CustomerShare(models.Model):
    """A customer shared with a user outside its owner's reach (共享客户).

    A grant to look (`view`) or also to edit fields and log history (`edit`), until
    `ends_on` (inclusive) when set — never to transfer, re-share, delete or restore.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_customers"
    )
    level = models.CharField(_("权限"), max_length=8, choices=ShareLevel.choices,
                             default=ShareLevel.VIEW)
    ends_on = models.DateField(_("截止日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "customer"], name="share_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.user_id}"


class OwnershipTransfer(models.Model):
    """One hand-over of a customer from one owner to another (转移记录)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="transfers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_user_id} → {self.to_user_id}"


class CustomField(models.Model):
    """An admin-defined extra field on customers."""

    key = models.SlugField(_("字段键"), max_length=50, unique=True)
    label = models.CharField(_("名称"), max_length=100)
    label_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    field_type = models.CharField(_("类型"), max_length=16, choices=CustomFieldType.choices)
    choices = models.JSONField(_("选项"), default=list, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    show_in_list = models.BooleanField(_("列表显示"), default=False)
    # 敏感个人信息 (PIPL art. 28: health, finance, religion, precise location…): shown to
    # admins only (others see SENSITIVE_MASK, or reveal one value with a reason), written
    # only by admins and only with a live separate consent (art. 29), never a filter,
    # never imported, logged masked (customers/sensitive.py).
    sensitive = models.BooleanField(_("敏感个人信息"), default=False)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def value_column(self) -> str:
        """The typed column of CustomValue that holds this field's values."""
        return {"number": "number", "date": "date"}.get(self.field_type, "text")


class CustomValue(models.Model):
    """One value of one custom field on one customer, typed so that filters use an index.

    A multiple-choice answer is one row per chosen option.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    text = models.CharField(max_length=500, null=True, blank=True)
    number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    date = models.DateField(null=True, blank=True)

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["field", "text"], name="cv_text"),
            models.Index(fields=["field", "number"], name="cv_number"),
            models.Index(fields=["field", "date"], name="cv_date"),
            models.Index(fields=["customer", "field"], name="cv_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}={self.text or self.number or self.date}"


class CustomerKey(models.Model):
    """A customer's normalised match keys: each E.164 phone and lower-cased e-mail of the
    customer and of its contacts, its credit code and its ID number. Imports match rows on
    these (issue 9), the duplicate finder groups on them (10), quick search finds an
    encrypted value by them. For a kind whose column is encrypted (ID numbers always;
    phones, e-mails and WeChat ids per KEHU_ENCRYPT_FIELDS) the value is its blind index
    (`h1:` + a keyed hash, core/crypto.py), never the value (14). Written only by
    `customers.keys` (every write path calls it); soft-deleted customers keep their keys,
    readers filter them."""

    # No index of its own: the unique (customer, kind, value) serves "a customer's keys".
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="keys",
                                 db_index=False)
    kind = models.CharField(max_length=16)  # phone | email | credit_code | id_number | wechat
    value = models.CharField(max_length=254)

    # Scoped like every customer-bound row; the import's batch lookup reads it unscoped
    # on purpose (customers.bulk.keys_lookup) and refuses out-of-scope matches itself.
    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "kind", "value"],
                                               name="custkey_unique")]
        indexes = [models.Index(fields=["kind", "value"], name="custkey_lookup")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class MergeQuerySet(ScopedQuerySet):
    # A merge is reached through its survivor: whoever may see the survivor sees its merges.
    customer_path = "survivor__"


class MergeRecord(models.Model):
    """One merge of a duplicate customer into a survivor (合并客户), with all undo needs:
    both rows as they were, which rows of which table moved (ids, and their versions to
    notice a later edit), the survivor's rows parked on the duplicate (custom values whose
    duplicate value was chosen) and rows set aside (a one-to-one row that lost). Written
    and read only by `customers.merging`."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # Null once the duplicate is deleted for good: the merge can no longer be undone.
    duplicate = models.ForeignKey(Customer, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    duplicate_name = models.CharField(max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    at = models.DateTimeField(auto_now_add=True)
    choices = models.JSONField(default=dict, blank=True)  # field -> the value kept
    # Both customers' rows whole (phones, ID number …): sealed at rest, always (core/fields.py).
    survivor_before = EncryptedJSONField(default=dict)
    duplicate_before = EncryptedJSONField(default=dict)
    survivor_version = models.PositiveIntegerField()  # both versions as the merge left them
    duplicate_version = models.PositiveIntegerField()
    moved = models.JSONField(default=dict, blank=True)  # "app.Model.field" -> [ids]
    versions = models.JSONField(default=dict, blank=True)  # "app.Model" -> {id: version}
    parked = models.JSONField(default=dict, blank=True)  # survivor's rows put on the duplicate
    removed = models.JSONField(default=list, blank=True)  # rows set aside, whole
    demoted = models.JSONField(default=list, blank=True)  # duplicate's primary contacts
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    objects = MergeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.duplicate_id} → {self.survivor_id}"


class DuplicatePair(models.Model):
    """A probable duplicate the finder found (the nightly job `customers.dedup`).

    Plain ids, not foreign keys: a pair is the finder's note about two customers, not a
    row that belongs to either (a merge moves rows bound to a customer; it leaves these,
    and a pair whose customer went to the bin is simply not listed). A dismissed pair
    stays dismissed when the finder meets it again.
    """

    OPEN, DISMISSED = "open", "dismissed"

    a_id = models.BigIntegerField()
    b_id = models.BigIntegerField()
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, default=OPEN,
                              choices=[(OPEN, _("待处理")), (DISMISSED, _("不是重复"))])
    found_at = models.DateTimeField()
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["a_id", "b_id"], name="dup_pair_once")]
        indexes = [models.Index(fields=["status", "score"], name="dup_pair_open")]

    def __str__(self) -> str:
        return f"{self.a_id} ~ {self.b_id} ({self.score})"


class Segment(models.Model):
    """A saved condition (customers.conditions) with a name: 分群 (customers.segments).

    Its members are always counted and listed within the scope of whoever looks, never
    the owner's: `member_count` is the owner's own count, kept by saves and the hourly job
    `customers.segment_counts`, so the list of segments needs no count per viewer.
    """

    PRIVATE, TEAM, EVERYONE = "private", "team", "everyone"
    VISIBILITIES = [(PRIVATE, _("仅自己")), (TEAM, _("本部门")), (EVERYONE, _("全公司"))]

    name = models.CharField(_("名称"), max_length=100)
    condition = models.JSONField(_("条件"))
    visibility = models.CharField(_("可见范围"), max_length=10, choices=VISIBILITIES,
                                  default=PRIVATE)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="segments")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    member_count = models.PositiveIntegerField(null=True, blank=True)  # None: not counted / broken
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["visibility", "owner"], name="segment_visible")]

    def __str__(self) -> str:
        return self.name


# Data quality's rows live with their code (customers/quality/models.py); imported here so
# Django finds them as models of this app.
from kehu.customers.quality import models as _quality_models  # noqa: E402, F401
from kehu.customers.regions import models as _region_models  # noqa: E402, F401
