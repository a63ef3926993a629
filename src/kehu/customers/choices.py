"""Fixed vocabularies of the customer record."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("企业客户")
    PERSON = "person", _("个人客户")


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("制造业")
    RETAIL = "retail", _("批发零售")
    SOFTWARE = "software", _("软件/IT")
    FINANCE = "finance", _("金融")
    EDUCATION = "education", _("教育培训")
    HEALTHCARE = "healthcare", _("医疗健康")
    REAL_ESTATE = "real_estate", _("建筑/房地产")
    LOGISTICS = "logistics", _("物流运输")
    HOSPITALITY = "hospitality", _("餐饮酒店")
    AGRICULTURE = "agriculture", _("农林牧渔")
    ENERGY = "energy", _("能源化工")
    GOVERNMENT = "government", _("政府/事业单位")
    SERVICES = "services", _("专业服务")
    MEDIA = "media", _("文化传媒")
    CONSUMER_GOODS = "consumer_goods", _("快消品")
    OTHER = "other", _("其他")


class CompanySize(models.TextChoices):
    MICRO = "1-9", _("1–9 人")
    SMALL = "10-49", _("10–49 人")
    MEDIUM = "50-199", _("50–199 人")
    LARGE = "200-999", _("200–999 人")
    XLARGE = "1000+", _("1000 人以上")


class Source(models.TextChoices):
    REFERRAL = "referral", _("客户转介绍")
    WEBSITE = "website", _("官网咨询")
    ONLINE_ADS = "online_ads", _("线上推广")
    TRADE_SHOW = "trade_show", _("展会")
    COLD_CALL = "cold_call", _("电话营销")
    PARTNER = "partner", _("合作伙伴")
    WALK_IN = "walk_in", _("上门/到店")
    OTHER = "other", _("其他")


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("决策者")
    INFLUENCER = "influencer", _("影响者")
    USER = "user", _("使用者")
    GATEKEEPER = "gatekeeper", _("把关者")
    OTHER = "other", _("其他")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    CHOICE = "choice", _("单选")
    MULTI_CHOICE = "multi_choice", _("多选")


class ShareLevel(models.TextChoices):
    """What a share lets its user do (never transfer, re-share or delete)."""

    VIEW = "view", _("只读")
    EDIT = "edit", _("可编辑")
