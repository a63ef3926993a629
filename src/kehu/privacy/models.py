"""The consent ledger (同意记录): one row per grant, withdrawal marks the row, history stays.

A `Consent` records that a customer — or one contact of a company customer — agreed (or was
told, for a basis other than consent) to processing for one purpose: the legal basis, the
notice text version they saw, the channel, who collected it and when, and whether it covers
sensitive personal information (PIPL art. 29, a separate consent). Withdrawing sets
`withdrawn_at` at once; a new grant after a withdrawal is a new row, and the older rows of the
same subject and purpose stop being current. See docs/architecture.md, "Consent (同意记录)".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Origin
from kehu.customers.scoping import CustomerBoundQuerySet
from kehu.privacy.choices import Channel, LegalBasis, Purpose, RequestKind, RequestStatus


class Consent(models.Model):
    """One grant for one purpose by a customer or one of its contacts; withdrawn in place."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="+")
    # A contact's own consent; empty: the customer's. A deleted contact leaves its consents
    # (they prove what was agreed) with the name it had.
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    contact_name = models.CharField(_("联系人"), max_length=100, blank=True)
    purpose = models.CharField(_("目的"), max_length=16, choices=Purpose.choices)
    legal_basis = models.CharField(_("法律依据"), max_length=24, choices=LegalBasis.choices)
    notice_version = models.CharField(_("告知文本版本"), max_length=100)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    sensitive = models.BooleanField(_("含敏感个人信息的单独同意"), default=False)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("收集人"))
    granted_at = models.DateTimeField(_("同意时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("撤回操作人"))
    withdrawal_note = models.CharField(_("撤回说明"), max_length=255, blank=True)
    # The newest row of its subject (customer or contact) and purpose. A customer's state
    # reads only current rows, so a grant after a withdrawal counts and the old row stays.
    is_current = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    objects = CustomerBoundQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [
            # The card's list, and "has this customer ever been asked" (unknown).
            models.Index(fields=["customer", "purpose", "granted_at"], name="consent_card"),
            # Segments and exports: the customers of a purpose in one state, an index range
            # each, however many customers there are (see conditions.py for the count).
            models.Index(fields=["purpose", "customer"], name="consent_withdrawn",
                         condition=Q(is_current=True, withdrawn_at__isnull=False)),
            models.Index(fields=["purpose", "customer"], name="consent_live",
                         condition=Q(is_current=True, withdrawn_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.customer_id}"

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None


class SubjectRequest(models.Model):
    """One request of a person about their data (个人信息权利请求): who asked, how their
    identity was checked, when it is due, which customers and contacts are the person, and
    what was done. The search values used to find them are not kept (they are personal data
    themselves); an erasure replaces the requester's name and contact here too."""

    kind = models.CharField(_("请求类型"), max_length=16, choices=RequestKind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.OPEN)
    requester = models.CharField(_("请求人"), max_length=100)
    requester_contact = models.CharField(_("请求人联系方式"), max_length=200, blank=True)
    identity_check = models.CharField(_("身份核验"), max_length=500)
    details = models.TextField(_("请求内容"), blank=True)
    received_on = models.DateField(_("收到日期"))
    due_on = models.DateField(_("截止日期"))
    # [{"customer": id, "contact": id or null}]: the person, as the handler confirmed it.
    subjects = models.JSONField(default=list, blank=True)
    outcome = models.TextField(_("处理结果"), blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["status", "due_on"], name="subject_request_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN
