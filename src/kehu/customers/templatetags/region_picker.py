"""`{% region_picker_attrs %}`: the attributes that make a form or filter area's province /
city / district inputs a 省 → 市 → 区 picker (static/customers/regions.js), with its words."""

from __future__ import annotations

import json

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


def picker_words() -> dict[str, str]:
    return {"choose": _("请选择"), "unknown": _("（不在行政区划中）"), "found": _("已识别："),
            "ambiguous": _("区县有多处，请手动选择："), "nothing": _("没有识别出省市区，请手动选择"),
            "failed": _("暂时无法识别，请手动选择"),
            "province": _("省份"), "city": _("城市"), "district": _("区县")}


@register.simple_tag
def region_picker_attrs() -> SafeString:
    return format_html('data-region-picker data-children-url="{}" data-parse-url="{}" data-words="{}"',
                       reverse("customers:regions"), reverse("customers:region_parse"),
                       json.dumps(picker_words(), ensure_ascii=False))
