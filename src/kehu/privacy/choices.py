"""The consent ledger's vocabularies: purposes, legal bases, channels and the derived state."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    """What the personal information is processed for (PIPL art. 14: a specific purpose)."""

    MARKETING = "marketing", _("营销")
    SERVICE = "service", _("服务")
    ANALYSIS = "analysis", _("分析")
    THIRD_PARTY = "third_party", _("向第三方提供")  # PIPL art. 23: separate consent
    CROSS_BORDER = "cross_border", _("跨境传输")  # PIPL art. 39: separate consent


class LegalBasis(models.TextChoices):
    """Why processing is lawful: PIPL art. 13 (1)–(7), GDPR art. 6 (1) (a)–(f)."""

    CONSENT = "consent", _("同意")  # PIPL 13(1), GDPR 6(1)(a)
    CONTRACT = "contract", _("合同履行")  # PIPL 13(2), GDPR 6(1)(b)
    LEGAL_OBLIGATION = "legal_obligation", _("法定义务")  # PIPL 13(3), GDPR 6(1)(c)
    VITAL_INTEREST = "vital_interest", _("重大利益")  # PIPL 13(4), GDPR 6(1)(d)
    PUBLIC_INTEREST = "public_interest", _("公共利益")  # PIPL 13(5), GDPR 6(1)(e)
    PUBLISHED_INFO = "published_info", _("合理范围内处理已公开信息")  # PIPL 13(6)
    LEGITIMATE_INTEREST = "legitimate_interest", _("正当利益（仅 GDPR）")  # GDPR 6(1)(f)
    OTHER_LAW = "other_law", _("法律、行政法规规定的其他情形")  # PIPL 13(7)


class Channel(models.TextChoices):
    """How the consent (or the notice for another basis) was collected."""

    WEB_FORM = "web_form", _("网页表单")
    PAPER = "paper", _("纸质")
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮件")
    WECHAT = "wechat", _("微信")
    IN_PERSON = "in_person", _("当面")
    IMPORT = "import", _("导入")
    API = "api", _("接口")


class ConsentState(models.TextChoices):
    """A customer's state for one purpose, derived from its current consent rows."""

    GRANTED = "granted", _("已同意")
    WITHDRAWN = "withdrawn", _("已撤回")
    UNKNOWN = "unknown", _("未知（未征求）")


class RequestKind(models.TextChoices):
    """What a person asks of their data (PIPL arts. 44–47, GDPR arts. 15–17, 20, 21)."""

    ACCESS = "access", _("查阅")
    COPY = "copy", _("复制 / 转移")
    CORRECTION = "correction", _("更正 / 补充")
    ERASURE = "erasure", _("删除")
    WITHDRAWAL = "withdrawal", _("撤回同意")
    OBJECTION = "objection", _("拒绝 / 限制处理")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("处理中")
    DONE = "done", _("已完成")
    REFUSED = "refused", _("已拒绝")
