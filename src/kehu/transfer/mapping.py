"""Which sheet column goes into which field: the importable fields and a first guess.

`importable_fields(target)` lists what an import of customers, orders or communications
can fill; `guess_mapping(headers, target)` matches the headers people actually write
(客户名称, 公司/客户名称, 联系电话, 消费总额(元) …) against each field's words after
normalising both (NFKC, so full-width brackets and letters match; case, spaces, a `*`
marking a required column and a trailing unit such as (元) ignored). Active custom
fields are matched by their label.

Several headers may map to the same list field (手机 and 座机 both to `phones`): the
import joins their cells. A key guessed once for a single-value field is not guessed
again for a later header (the first 备注 wins; the user can change it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kehu.customers.selectors import custom_fields_active

TARGETS = ("customers", "orders", "communications")
LIST_KEYS = frozenset({"phones", "emails", "tags", "contact.phones"})


@dataclass(frozen=True)
class Field:
    """One importable field: its key in a mapping, its label, and how the template shows it."""

    key: str
    label: str
    required: bool = False
    id_like: bool = False  # digits that must stay text (phones, codes, order numbers)


# key -> the header words it is known by (normalised on use). The label comes first.
CUSTOMER_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("客户名称", "公司名称", "公司/客户名称", "客户/公司名称", "客户", "公司", "名称",
             "企业名称", "单位名称", "姓名/名称", "name", "customer", "company"),
    "kind": ("客户类型", "类型", "客户类别", "type", "kind"),
    "short_name": ("简称", "客户简称", "公司简称"),
    "industry": ("所属行业", "行业", "行业类别", "industry"),
    "company_size": ("公司规模", "企业规模", "人员规模", "规模"),
    "province": ("省份", "所在省份", "省", "province"),
    "city": ("城市", "所在城市", "市", "city"),
    "district": ("区县", "所在区县", "区", "县", "district"),
    "address": ("地址", "详细地址", "公司地址", "通讯地址", "address"),
    "phones": ("电话", "手机", "联系电话", "座机", "手机号", "手机号码", "电话号码", "办公电话",
               "固定电话", "固话", "phone", "mobile", "tel", "telephone"),
    "emails": ("邮箱", "电子邮箱", "邮件", "email", "e-mail", "mail"),
    "wechat": ("微信", "微信号", "wechat"),
    "gender": ("性别", "gender"),
    "birthday": ("生日", "出生日期", "birthday"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "税号", "credit code", "uscc"),
    "id_number": ("身份证号", "身份证", "证件号码", "身份证号码", "证件号", "id number"),
    "source": ("客户来源", "来源", "来源渠道", "渠道", "source"),
    "owner": ("负责人", "客户负责人", "销售", "业务员", "归属销售", "owner"),
    "tags": ("标签", "tags"),
    "notes": ("备注", "备注说明", "说明", "notes", "remark", "remarks"),
    "contact.name": ("联系人", "联系人姓名", "contact", "contact name"),
    "contact.title": ("职务", "联系人职务", "职位", "title", "position"),
    "contact.phones": ("联系人电话", "联系人手机"),
    "contact.email": ("联系人邮箱",),
    "contact.wechat": ("联系人微信",),
    "contact.decision_role": ("决策角色",),
}
# How a sheet names the customer an order or a communication belongs to.
CUSTOMER_REF_WORDS: dict[str, tuple[str, ...]] = {
    "customer": ("客户", "客户名称", "公司名称", "公司/客户名称", "customer"),
    "customer.phone": ("客户电话", "客户手机"),
    "customer.credit_code": ("客户信用代码", "统一社会信用代码", "信用代码"),
}
ORDER_WORDS: dict[str, tuple[str, ...]] = {
    **CUSTOMER_REF_WORDS,
    "number": ("订单号", "订单编号", "单号", "order no", "order number"),
    "external_number": ("外部单号", "外部订单号", "平台单号"),
    "ordered_on": ("下单日期", "订单日期", "日期", "下单时间", "date"),
    "status": ("状态", "订单状态", "status"),
    "currency": ("币种", "货币", "currency"),
    # One row per order line: rows sharing an order number are the lines of one order.
    "product": ("产品编号", "产品", "商品", "商品编码", "产品编码", "sku", "product"),
    "product_name": ("产品名称", "商品名称", "品名", "product name"),
    "quantity": ("数量", "quantity", "qty"),
    "unit_price": ("单价", "price", "unit price"),
    "discount": ("折扣", "折扣金额", "优惠", "优惠金额", "discount"),
    "amount": ("金额", "小计", "行金额", "订单金额", "总金额", "合计", "amount", "total"),
    "notes": ("备注", "备注说明", "notes"),
}
COMMUNICATION_WORDS: dict[str, tuple[str, ...]] = {
    **CUSTOMER_REF_WORDS,
    "occurred_at": ("时间", "沟通时间", "跟进时间", "日期", "拜访时间", "time", "date"),
    "channel": ("方式", "沟通方式", "跟进方式", "渠道", "channel"),
    "direction": ("方向", "发起方"),
    "contact": ("联系人", "联系人姓名", "contact"),
    "subject": ("主题", "标题", "subject"),
    "content": ("内容", "沟通内容", "跟进内容", "跟进记录", "记录", "content"),
    "outcome": ("结果", "沟通结果", "outcome"),
    "next_step": ("下一步", "下一步计划", "后续计划"),
    "next_follow_up": ("下次跟进日期", "下次跟进", "下次跟进时间"),
}
WORDS = {"customers": CUSTOMER_WORDS, "orders": ORDER_WORDS,
         "communications": COMMUNICATION_WORDS}
# Header words of values a team keeps that Kehu holds as custom fields: a custom field
# labelled with any of a group's words takes every header of the group.
CUSTOM_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("首次合作日期", "首次合作", "首次合作时间", "合作日期", "开始合作日期"),
    ("累计消费金额", "消费总额", "累计消费", "消费金额", "累计金额"),
)
# A customer's kind may be left out: the import tells companies from people by the name
# (有限公司, 集团 … or a credit code; see planning._guess_kind).
# Orders and communications also need one column naming the customer (客户, 客户电话 or
# 客户统一社会信用代码): `services.import_configure` checks that.
REQUIRED = {"customers": {"name"}, "orders": {"number", "product"},
            "communications": {"occurred_at"}}
ID_LIKE = {"phones", "contact.phones", "credit_code", "customer.phone",
           "customer.credit_code", "number", "external_number", "wechat", "contact.wechat",
           "product", "id_number"}

_UNIT = re.compile(r"\((?:元|万元|人民币|rmb|cny|必填|选填|可选|多个用.*?分隔|yyyy.*?)\)$")


def normalise_header(text: str) -> str:
    """A header as it is compared: NFKC, lower case, no spaces, no `*`, no trailing unit."""
    value = unicodedata.normalize("NFKC", str(text)).lower()
    value = re.sub(r"[\s_*:：]+", "", value)
    value = _UNIT.sub("", value)
    return value.replace("（", "(").replace("）", ")")


# Labels where the first header word is not what the field should be called.
LABELS = {"name": "客户名称", "kind": "客户类型", "short_name": "简称", "industry": "行业",
          "company_size": "公司规模", "province": "省份", "city": "城市", "district": "区县",
          "address": "详细地址", "phones": "电话", "emails": "邮箱", "wechat": "微信",
          "gender": "性别", "birthday": "生日", "credit_code": "统一社会信用代码",
          "id_number": "身份证号", "source": "客户来源", "owner": "负责人", "tags": "标签", "notes": "备注",
          "contact.name": "联系人", "contact.title": "职务", "contact.phones": "联系人电话",
          "contact.email": "联系人邮箱", "contact.wechat": "联系人微信",
          "contact.decision_role": "决策角色", "customer": "客户",
          "customer.phone": "客户电话", "customer.credit_code": "客户统一社会信用代码",
          "product": "产品编号", "product_name": "产品名称", "amount": "金额",
          "discount": "折扣", "occurred_at": "沟通时间", "channel": "沟通方式",
          "contact": "联系人", "content": "沟通内容"}


def _label(key: str, target: str) -> str:
    return _(LABELS.get(key) or WORDS[target][key][0])


def importable_fields(target: str, definitions: list | None = None) -> list[Field]:
    """What an import of `target` can fill, in the order the mapping page lists them;
    `definitions` are the active custom fields when the caller has them already."""
    if target not in TARGETS:
        raise ValueError(f"unknown import target {target!r}")
    fields = [Field(key, _label(key, target), key in REQUIRED[target], key in ID_LIKE)
              for key in WORDS[target]]
    if target == "customers":  # sensitive ones are entered one by one, with consent (PIPL 29)
        fields += [Field(f"custom.{f.key}", f.label, f.required)
                   for f in (custom_fields_active() if definitions is None else definitions)
                   if not f.sensitive]
    return fields


def guess_mapping(headers: list[str], target: str) -> dict[str, str]:
    """header -> field key ("" = ignore), matching normalised header words and custom labels."""
    words = _known_words(target)
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for header in headers:
        key = words.get(normalise_header(header), "")
        if key and key in taken and key not in LIST_KEYS:
            key = ""
        mapping[header] = key
        if key:
            taken.add(key)
    return mapping


def _known_words(target: str) -> dict[str, str]:
    """normalised word -> key; custom labels first (a team's own column beats a guess)."""
    words: dict[str, str] = {}
    if target == "customers":
        for field in (f for f in custom_fields_active() if not f.sensitive):
            label = normalise_header(field.label)
            group = next((g for g in CUSTOM_SYNONYMS
                          if label in {normalise_header(w) for w in g}), (field.label,))
            for word in (*group, field.label, field.key):
                words.setdefault(normalise_header(word), f"custom.{field.key}")
    for key, aliases in WORDS[target].items():
        for word in (*aliases, LABELS.get(key, ""), _label(key, target)):  # the template's own
            if word:
                words.setdefault(normalise_header(word), key)
    return words


_ALL_WORDS = frozenset(
    normalise_header(word)
    for table in (*WORDS.values(),) for aliases in table.values() for word in aliases
) | frozenset(normalise_header(word) for word in LABELS.values()) \
  | frozenset(normalise_header(word) for group in CUSTOM_SYNONYMS for word in group)


def is_known_header(text: str) -> bool:
    """Whether a cell reads like a column header of any import (finding the header row)."""
    return normalise_header(text) in _ALL_WORDS


# Values sheets write for the customer choices besides the choices' own labels
# (which the cleaners accept already): value -> the choice's stored value.
CHOICE_ALIASES: dict[str, dict[str, str]] = {
    "kind": {"企业": "company", "公司": "company", "单位": "company", "个人": "person",
             "自然人": "person"},
    "industry": {"信息技术": "software", "软件": "software", "互联网": "software", "IT": "software",
                 "建筑": "real_estate", "房地产": "real_estate", "餐饮": "hospitality",
                 "酒店": "hospitality", "物流": "logistics", "交通物流": "logistics",
                 "教育": "education", "医疗": "healthcare", "零售": "retail",
                 "批发": "retail", "制造": "manufacturing", "农业": "agriculture",
                 "能源": "energy", "化工": "energy", "政府": "government",
                 "传媒": "media", "文化": "media", "广告": "media", "媒体": "media",
                 "快消": "consumer_goods", "日化": "consumer_goods",
                 "金融": "finance", "银行": "finance", "保险": "finance", "咨询": "services",
                 "服务": "services"},
    "source": {"老客户介绍": "referral", "转介绍": "referral", "介绍": "referral",
               "官网": "website", "官网注册": "website", "线上广告": "online_ads",
               "广告": "online_ads", "地推": "walk_in", "上门": "walk_in",
               "电销": "cold_call", "电话营销": "cold_call", "合作方": "partner",
               "合作伙伴": "partner", "展会": "trade_show"},
    # Communications (跟进方式, 方向) and orders (订单状态).
    "channel": {"电话沟通": "phone", "打电话": "phone", "电话联系": "phone", "来电": "phone",
                "去电": "phone", "手机": "phone", "上门": "visit", "上门拜访": "visit",
                "拜访客户": "visit", "面谈": "visit", "当面": "visit", "现场": "visit",
                "微信聊天": "wechat", "微信沟通": "wechat", "企业微信": "wechat",
                "电子邮件": "email", "邮箱": "email", "email": "email", "视频会议": "meeting",
                "线上会议": "meeting", "开会": "meeting", "会面": "meeting"},
    "direction": {"我方": "outbound", "主动": "outbound", "去电": "outbound", "呼出": "outbound",
                  "客户": "inbound", "客户主动": "inbound", "来电": "inbound", "呼入": "inbound"},
    "status": {"确认": "confirmed", "已下单": "confirmed", "已支付": "paid", "付款": "paid",
               "已完成": "paid", "完成": "paid", "取消": "cancelled", "退款": "refunded",
               "已退货": "refunded", "未确认": "draft"},
}


def translate_choice(key: str, value: object) -> object:
    """A sheet's word for a choice as the cleaner takes it; anything else unchanged."""
    if not isinstance(value, str):
        return value
    return CHOICE_ALIASES.get(key, {}).get(value.strip(), value)
