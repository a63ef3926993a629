"""Fixed vocabularies of the customer's history."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    VISIT = "visit", _("拜访")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")
    MEETING = "meeting", _("会议")
    OTHER = "other", _("其他")


class Direction(models.TextChoices):
    OUTBOUND = "outbound", _("我方发起")
    INBOUND = "inbound", _("客户发起")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    CONFIRMED = "confirmed", _("已确认")
    PAID = "paid", _("已付款")
    CANCELLED = "cancelled", _("已取消")
    REFUNDED = "refunded", _("已退款")


# Orders that count as money spent in the card's figures.
SPENDING_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.PAID)


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待满足")
    IN_PROGRESS = "in_progress", _("满足中")
    MET = "met", _("已满足")
    DROPPED = "dropped", _("已放弃")


class OpportunityType(models.TextChoices):
    NEW = "new", _("新购")
    CROSS_SELL = "cross_sell", _("交叉销售")
    UPSELL = "upsell", _("增购升级")
    RENEWAL = "renewal", _("续约")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    WON = "won", _("赢单")
    LOST = "lost", _("输单")


class StageKind(models.TextChoices):
    OPEN = "open", _("进行中")
    WON = "won", _("赢单")
    LOST = "lost", _("输单")


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("满意度 (CSAT 1–5)")
    NPS = "nps", _("推荐度 (NPS 0–10)")


class TicketKind(models.TextChoices):
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")
    INQUIRY = "inquiry", _("咨询")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")


class ContactTime(models.TextChoices):
    MORNING = "morning", _("上午")
    NOON = "noon", _("中午")
    AFTERNOON = "afternoon", _("下午")
    EVENING = "evening", _("晚上")
    WEEKEND = "weekend", _("周末")
    ANY = "any", _("随时")
